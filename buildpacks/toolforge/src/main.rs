mod config;
mod environment_layer;
mod errors;

use crate::errors::{ToolforgeBuildpackError, error_message};
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::detect::{DetectContext, DetectResult, DetectResultBuilder};
use libcnb::generic::{GenericMetadata, GenericPlatform};
use libcnb::{Buildpack, buildpack_main};
use libtoolforge::output::BuildOutput;

pub(crate) struct ToolforgeBuildpack;

impl Buildpack for ToolforgeBuildpack {
    type Platform = GenericPlatform;
    type Metadata = GenericMetadata;
    type Error = ToolforgeBuildpackError;

    /// Every tool runs on Toolforge, so every image gets the environment.
    fn detect(&self, _context: DetectContext<Self>) -> libcnb::Result<DetectResult, Self::Error> {
        DetectResultBuilder::pass().build()
    }

    fn build(&self, context: BuildContext<Self>) -> libcnb::Result<BuildResult, Self::Error> {
        let mut output = BuildOutput::start("Toolforge runtime environment", "toolforge/toolforge");
        let config = config::read(&context.app_dir).map_err(ToolforgeBuildpackError::Config)?;
        libtoolforge::languages::declared(&context.app_dir).map_err(ToolforgeBuildpackError::Languages)?;
        environment_layer::create(&context, &config)?;
        output.step(&format!(
            "PORT defaults to {}; the tool's account is known by name in every process",
            environment_layer::DEFAULT_PORT
        ));
        if config.keep_home {
            output.step("HOME is kept as the image has it ([org.toolforge.env] keep-home = true)");
        } else {
            output.step(
                "HOME is TOOL_DATA_DIR when it is mounted and writable, else the account's home, \
                 else a private directory",
            );
        }
        output.done();
        BuildResultBuilder::new().build()
    }

    fn on_error(&self, error: libcnb::Error<Self::Error>) {
        libtoolforge::fail(&error, error_message);
    }
}

buildpack_main!(ToolforgeBuildpack);
