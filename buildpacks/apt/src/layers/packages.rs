//! The `packages` layer (build and launch): the requested packages and every dependency the run
//! image lacks, unpacked with `dpkg-deb -x` and made usable from the layer
//! ([`libtoolforge::debian_layer`]), then the files maintainer scripts would have generated.
//! Reused, without downloading anything, while the requested packages, the versions apt resolves
//! and the stack are unchanged.

use crate::AptBuildpack;
use crate::errors::AptBuildpackError;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libtoolforge::debian::{self, Apt, PackageSpec, Resolved};
use libtoolforge::debian_layer::{self, Installed, PackagesLayer};
use libtoolforge::output::BuildOutput;
use std::path::Path;

/// Installs `resolved` into the layer unless the cache has exactly them.
pub(crate) fn install(
    context: &BuildContext<AptBuildpack>,
    output: &mut BuildOutput,
    apt: &Apt,
    requested: &[PackageSpec],
    resolved: &[Resolved],
) -> libcnb::Result<Installed, AptBuildpackError> {
    debian_layer::install(
        context,
        output,
        apt,
        &PackagesLayer::new(layer_name!("packages"), "packages"),
        (requested, resolved),
        |output, path| {
            run_configure_commands(output, path);
            Ok(())
        },
        debian::layer_env,
    )
}

/// Builds the files that maintainer scripts would have generated ([`debian::configure_commands`]).
fn run_configure_commands(output: &mut BuildOutput, layer: &Path) {
    for mut command in debian::configure_commands(layer) {
        let description = format!("{}", command.get_program().to_string_lossy());
        // A plugin registry that cannot be written only costs those plugins: warn, go on.
        if let Err(error) = libtoolforge::command::output(&mut command) {
            output.warning(&format!("{description} failed: {error}\n{}", error.output_tail));
        }
    }
}
