mod built_languages;
mod config;
mod environment_layer;
mod errors;
mod exported;
#[cfg(test)]
mod fuzz;
mod image_size;
mod start_check;
mod steps;

use crate::errors::{ToolforgeBuildpackError, error_message};
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::detect::{DetectContext, DetectResult};
use libcnb::generic::{GenericMetadata, GenericPlatform};
use libcnb::{Buildpack, buildpack_main};
use libtoolforge::build_only;
use libtoolforge::languages::{self, Registry};
use libtoolforge::output::BuildOutput;

pub(crate) struct ToolforgeBuildpack;

impl Buildpack for ToolforgeBuildpack {
    type Platform = GenericPlatform;
    type Metadata = GenericMetadata;
    type Error = ToolforgeBuildpackError;

    /// Every tool runs on Toolforge, so every image gets the environment. The build plan brings
    /// this buildpack every language buildpack's entry, to check them against the app.
    fn detect(&self, _context: DetectContext<Self>) -> libcnb::Result<DetectResult, Self::Error> {
        languages::observing_detect_result::<Self>()
    }

    fn build(&self, context: BuildContext<Self>) -> libcnb::Result<BuildResult, Self::Error> {
        let mut output = BuildOutput::start("Toolforge runtime environment", "toolforge/toolforge");
        let settings = config::read(&context.app_dir)
            .map_err(|(table, error)| ToolforgeBuildpackError::Config(table, error))?;
        let checked = built_languages::check(
            &context.app_dir,
            &Registry::of_builder(&context.buildpack_dir),
            &languages::built(&context.buildpack_plan),
            settings.languages.as_ref(),
            settings.build.allow_unbuilt_languages,
        )
        .map_err(ToolforgeBuildpackError::Languages)?;
        if checked.built.is_empty() {
            output.step("No language was built: the processes run the run image's programs");
        } else {
            output.step(&format!("Languages built: {}", checked.built.join(", ")));
        }
        for unbuilt in &checked.allowed_unbuilt {
            output.detail(&format!(
                "{} ({}) is not built: allow-unbuilt-languages is set",
                unbuilt.file, unbuilt.language
            ));
        }
        let config = settings.env;
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
        if let Some(project) = &settings.project {
            let inline = steps::inline_buildpacks(project);
            if !inline.is_empty() {
                output.warning(&steps::inline_warning(&inline));
            }
        }
        steps::run(
            &context,
            &mut output,
            &settings.build.steps,
            &checked.built,
            settings.project.as_ref(),
        )?;
        leave_out_build_only_files(&context, &mut output)?;
        // After the removal: the check starts what the image will have.
        start_check::run(
            &context.app_dir,
            &context.layers_dir,
            settings.build.start_check,
            &mut output,
        );
        image_size::report(&context, &settings.build, &mut output);
        output.done();
        BuildResultBuilder::new().build()
    }

    fn on_error(&self, error: libcnb::Error<Self::Error>) {
        libtoolforge::fail(&error, error_message);
    }
}

/// Removes the app files earlier buildpacks declared build-time only (this buildpack is the last
/// of every group, so no later one needs them): they stay out of the image's app layer.
fn leave_out_build_only_files(
    context: &BuildContext<ToolforgeBuildpack>,
    output: &mut BuildOutput,
) -> Result<(), ToolforgeBuildpackError> {
    let declared = std::env::var_os(build_only::BUILD_ONLY_APP_PATHS);
    let removed = build_only::remove_declared(&context.app_dir, declared.as_deref())
        .map_err(ToolforgeBuildpackError::RemoveBuildOnly)?;
    for removed in removed {
        output.step(&format!(
            "Left out of the image, build-time only: {} ({})",
            removed.path.display(),
            // Binary units, as the image size report below has them.
            image_size::format_size(removed.bytes)
        ));
    }
    Ok(())
}

buildpack_main!(ToolforgeBuildpack);
