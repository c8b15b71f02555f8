mod config;
mod errors;
#[cfg(test)]
mod fuzz;
mod layers;
mod report;

use crate::errors::{AptBuildpackError, error_message};
use crate::layers::apt_state::Resolution;
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::detect::{DetectContext, DetectResult, DetectResultBuilder};
use libcnb::generic::{GenericMetadata, GenericPlatform};
use libcnb::{Buildpack, buildpack_main};
use libtoolforge::debian_layer;
use libtoolforge::disk;
use libtoolforge::output::BuildOutput;

pub(crate) struct AptBuildpack;

impl Buildpack for AptBuildpack {
    type Platform = GenericPlatform;
    type Metadata = GenericMetadata;
    type Error = AptBuildpackError;

    fn detect(&self, context: DetectContext<Self>) -> libcnb::Result<DetectResult, Self::Error> {
        if config::detects(&context.app_dir) {
            DetectResultBuilder::pass().build()
        } else {
            DetectResultBuilder::fail().build()
        }
    }

    fn build(&self, context: BuildContext<Self>) -> libcnb::Result<BuildResult, Self::Error> {
        let mut output = BuildOutput::start("Debian packages", "toolforge/apt");
        let Some(config) = config::read(&context.app_dir)? else {
            output.step("No packages asked for");
            output.done();
            return BuildResultBuilder::new().build();
        };
        let specs = config.specs();
        output.step(&format!(
            "Packages from {}: {}",
            config.source,
            if specs.is_empty() {
                "none".to_string()
            } else {
                specs
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
        for ignored in &config.ignored {
            output.detail(&format!("Ignoring {ignored}: {} comes first", config.source));
        }
        if specs.is_empty() {
            output.done();
            return BuildResultBuilder::new().build();
        }

        let locate = |name: &str| config.location_of(name);
        let (apt, resolution) = debian_layer::resolve(&context, &mut output, &specs, &[], locate, |apt| {
            Ok(Resolution {
                packages: apt.resolve(&specs)?,
                pulled_in_by: apt.pulled_in_by(&specs)?,
            })
        })?;
        let resolved = &resolution.packages;
        report::describe_resolution(&mut output, &config, resolved, &resolution.pulled_in_by);

        let installed = layers::packages::install(&context, &mut output, &apt, &specs, resolved)?;
        let bytes = installed.bytes();
        output.step(&format!(
            "{} packages add {} to the image ({})",
            resolved.len(),
            disk::format_size(bytes),
            installed.path.display()
        ));
        report::warn_about_quota(&context, &mut output, bytes);
        output.done();
        BuildResultBuilder::new().build()
    }

    fn on_error(&self, error: libcnb::Error<Self::Error>) {
        libtoolforge::fail(&error, error_message);
    }
}

buildpack_main!(AptBuildpack);
