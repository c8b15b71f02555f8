//! toolforge/java: detect and build. Everything else is in its own module: what the app asks
//! for (`app`, `config`, `java_version`, `pom`), Maven and Gradle (`build_tool`, `maven`,
//! `gradle`),
//! the default process (`launch`), one module per layer (`layers`), and what can go wrong
//! (`errors`).

mod app;
mod build_tool;
mod config;
mod errors;
mod gradle;
mod java_version;
mod launch;
mod layers;
mod maven;
mod pom;
mod sbom;

use crate::app::App;
use crate::errors::{JavaBuildpackError, error_message};
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::data::launch::{LaunchBuilder, ProcessBuilder};
use libcnb::data::process_type;
use libcnb::detect::{DetectContext, DetectResult};
use libcnb::generic::GenericPlatform;
use libcnb::{Buildpack, Platform, buildpack_main};
use libtoolforge::build_env::BuildEnv;
use libtoolforge::disk;
use libtoolforge::languages::{self, LanguageMetadata};
use libtoolforge::output::BuildOutput;

pub(crate) struct JavaBuildpack;

impl Buildpack for JavaBuildpack {
    type Platform = GenericPlatform;
    /// buildpack.toml's `[metadata.toolforge.language]`: `java`, detected by Maven's and
    /// Gradle's files.
    type Metadata = LanguageMetadata;
    type Error = JavaBuildpackError;

    fn detect(&self, context: DetectContext<Self>) -> libcnb::Result<DetectResult, Self::Error> {
        let java = context.buildpack_descriptor.metadata.language();
        let detected = languages::detects(&context.app_dir, java, || java.has_files(&context.app_dir));
        languages::detect_result::<Self>(java, detected)
    }

    fn build(&self, context: BuildContext<Self>) -> libcnb::Result<BuildResult, Self::Error> {
        let mut output = BuildOutput::start("Java", "toolforge/java");
        languages::pass_on_plan_entries(&context)?;
        let app_dir = &context.app_dir;
        let app = App::read(app_dir)?;
        let jdk = layers::jdk::install(&context, &mut output, app.java_request.as_ref())?;
        let mut env = BuildEnv::new(context.platform.env(), app_dir);
        env.add_layer_env(&jdk.layer_env);
        build_tool::build(&context, &mut output, &app, env, jdk.major)?;

        let mut result = BuildResultBuilder::new().launch_sbom(sbom::launch_sbom(app_dir));
        if !app_dir.join("Procfile").is_file() {
            let jars = launch::built_jars(app_dir);
            let jar =
                launch::spring_boot_jar(app_dir, &jars).ok_or(JavaBuildpackError::NoProcess(jars.clone()))?;
            let command = launch::spring_boot_command(jar);
            output.step(&format!(
                "Default process: web = `{}` (a Spring Boot jar)",
                command.join(" ")
            ));
            result = result.launch(
                LaunchBuilder::new()
                    .process(
                        ProcessBuilder::new(process_type!("web"), command)
                            .default(true)
                            .build(),
                    )
                    .build(),
            );
        }
        output.step(&format!(
            "The JDK ({}) stays out of the image, which gets Java {}'s runtime",
            disk::format_size(jdk.build_only_bytes),
            jdk.major
        ));
        output.done();
        result.build()
    }

    fn on_error(&self, error: libcnb::Error<Self::Error>) {
        libtoolforge::fail(&error, error_message);
    }
}

buildpack_main!(JavaBuildpack);
