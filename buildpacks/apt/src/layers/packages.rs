//! The `packages` layer (build and launch): the requested packages and every dependency the run
//! image lacks, unpacked with `dpkg-deb -x` and made usable from the layer
//! ([`libtoolforge::debian_layer`]), then the files maintainer scripts would have generated.
//! Reused, without downloading anything, while the requested packages, the versions apt resolves
//! and the stack are unchanged, and the generated files were all made.

use crate::AptBuildpack;
use crate::errors::AptBuildpackError;
use libcnb::additional_buildpack_binary_path;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
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
        &PackagesLayer::new(layer_name!("packages"), "packages")
            .run_image_check(additional_buildpack_binary_path!("toolforge-apt-run-image-check")),
        (requested, resolved),
        |output, path| Ok(run_configure_commands(output, path)),
        |path| layer_env(path, resolved),
    )
}

/// Builds the files that maintainer scripts would have generated ([`debian::configure_commands`]);
/// returns the programs that failed.
fn run_configure_commands(output: &mut BuildOutput, layer: &Path) -> Vec<String> {
    let mut failed = Vec::new();
    for mut command in debian::configure_commands(layer) {
        let description = format!("{}", command.get_program().to_string_lossy());
        // A plugin registry that cannot be written only costs those plugins: warn, go on; the
        // layer is made again by the next build.
        if let Err(error) = libtoolforge::command::output(&mut command) {
            output.warning(&format!("{description} failed: {error}\n{}", error.output_tail));
            let program = Path::new(command.get_program());
            failed.push(
                program
                    .file_name()
                    .unwrap_or(program.as_os_str())
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    failed
}

/// The packages' search paths ([`debian::layer_env`]) and, for later buildpacks only, the digest
/// of the packages installed ([`debian::PACKAGES_DIGEST_ENV`]).
fn layer_env(layer: &Path, resolved: &[Resolved]) -> LayerEnv {
    let env = debian::layer_env(layer);
    match debian::packages_digest(resolved) {
        Some(digest) => env.chainable_insert(
            Scope::Build,
            ModificationBehavior::Override,
            debian::PACKAGES_DIGEST_ENV,
            digest,
        ),
        None => env,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packages_digest_is_for_later_buildpacks_only() {
        let layer = tempfile::tempdir().unwrap();
        let jq = Resolved {
            name: "jq".into(),
            version: "1.7.1-6".into(),
            replaces: None,
        };
        let env = layer_env(layer.path(), std::slice::from_ref(&jq));
        let build = env.apply(Scope::Build, &libcnb::Env::new());
        assert_eq!(
            build.get_string_lossy(debian::PACKAGES_DIGEST_ENV),
            debian::packages_digest(&[jq])
        );
        let launch = env.apply(Scope::Launch, &libcnb::Env::new());
        assert_eq!(launch.get_string_lossy(debian::PACKAGES_DIGEST_ENV), None);
        let none = layer_env(layer.path(), &[]).apply(Scope::Build, &libcnb::Env::new());
        assert_eq!(none.get_string_lossy(debian::PACKAGES_DIGEST_ENV), None);
    }

    #[test]
    fn failed_configure_commands_are_returned_by_name() {
        let layer = tempfile::tempdir().unwrap();
        let root = layer.path();
        std::fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::fs::create_dir_all(root.join("etc/fonts")).unwrap();
        std::fs::write(root.join("etc/fonts/fonts.conf"), "").unwrap();
        // A font cache builder that cannot run.
        std::fs::write(root.join("usr/bin/fc-cache"), "#!/bin/sh\nexit 3\n").unwrap();
        std::fs::set_permissions(
            root.join("usr/bin/fc-cache"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let mut output =
            BuildOutput::start_with(Box::new(std::io::sink()), "Debian packages", "toolforge/apt");
        assert_eq!(run_configure_commands(&mut output, root), ["fc-cache"]);
    }
}
