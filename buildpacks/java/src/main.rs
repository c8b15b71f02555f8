//! toolforge/java: detect and build. Everything else is in its own module: the Java release
//! (`java_version`, `pom`), Maven and Gradle (`maven`, `gradle`), the app's settings (`config`),
//! the default process (`launch`), one module per layer (`layers`), and what can go wrong
//! (`errors`).

mod config;
mod errors;
mod gradle;
mod java_version;
mod launch;
mod layers;
mod maven;
mod pom;

use crate::errors::{JavaBuildpackError, error_message};
use crate::java_version::{JavaRequest, SYSTEM_PROPERTIES};
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::data::launch::{LaunchBuilder, ProcessBuilder};
use libcnb::data::process_type;
use libcnb::detect::{DetectContext, DetectResult};
use libcnb::generic::GenericPlatform;
use libcnb::{Buildpack, Platform, buildpack_main};
use libtoolforge::build_env::BuildEnv;
use libtoolforge::download::Downloader;
use libtoolforge::error::IoError;
use libtoolforge::languages::{self, LanguageMetadata};
use libtoolforge::output::BuildOutput;
use libtoolforge::{command, disk};
use std::path::Path;

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
        let config = config::read(app_dir).map_err(JavaBuildpackError::Config)?;
        let maven = app_dir.join(pom::FILE).is_file() || app_dir.join(maven::WRAPPER).is_file();
        let gradle = !maven
            && gradle::BUILD_SCRIPTS
                .iter()
                .chain([&gradle::WRAPPER])
                .any(|file| app_dir.join(file).is_file());
        let pom_request = match read(app_dir, pom::FILE)? {
            Some(text) => pom::read(&text).map_err(JavaBuildpackError::InvalidPom)?,
            None => None,
        };
        let request = java_request(app_dir, config.version.as_deref(), pom_request, gradle)?;
        let jdk = layers::jdk::install(&context, &mut output, request.as_ref())?;
        let mut env = BuildEnv::new(context.platform.env(), app_dir);
        env.add_layer_env(&jdk.layer_env);

        if maven {
            let repository = layers::caches::repository(&context, &mut output)?;
            let wrapper = app_dir.join(maven::WRAPPER).is_file();
            let program = if wrapper {
                let home = layers::caches::wrapper_home(
                    &context,
                    &mut output,
                    libcnb::data::layer_name!("maven-wrapper"),
                    maven::WRAPPER_PROPERTIES,
                )?;
                env.set_default("MAVEN_USER_HOME", home);
                output.step("Maven from the app's wrapper (mvnw)");
                env.command("sh")
            } else {
                let downloader = Downloader::from_env(context.platform.env());
                let runtime = layers::maven::runtime();
                let release = runtime
                    .choose(
                        context.platform.env(),
                        &downloader,
                        &maven::version_request(app_dir),
                        &mut output,
                    )
                    .map_err(JavaBuildpackError::Runtime)?;
                let layer = runtime.install(&context, &mut output, &release, &downloader, false)?;
                env.prepend_path(layer.path().join("bin"));
                env.command("mvn")
            };
            let mut mvn = maven::command(
                app_dir,
                wrapper,
                program,
                &repository,
                &config,
                context.platform.env(),
            );
            let before = layers::caches::contents(&repository);
            output.step(&format!("Building with Maven (Java {})", jdk.major));
            command::run_streamed(&mut mvn).map_err(JavaBuildpackError::Maven)?;
            report_downloads(&mut output, before, layers::caches::contents(&repository));
        } else if gradle {
            if let Some(file) = gradle::missing_wrapper_file(app_dir) {
                Err(JavaBuildpackError::GradleWrapperMissing(file))?;
            }
            let home = layers::caches::gradle_home(&context, &mut output)?;
            output.step(&format!("Building with Gradle (Java {})", jdk.major));
            let mut gradlew =
                gradle::command(app_dir, env.command("sh"), &home, &config, context.platform.env());
            command::run_streamed(&mut gradlew).map_err(JavaBuildpackError::Gradle)?;
        } else {
            Err(JavaBuildpackError::NoBuildFile)?;
        }

        let mut result = BuildResultBuilder::new();
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
        output.detail(&format!(
            "JDK {} at build time only; the image gets its runtime ({})",
            jdk.major,
            disk::format_size(disk::apparent_size(&jdk.java_home))
        ));
        output.done();
        result.build()
    }

    fn on_error(&self, error: libcnb::Error<Self::Error>) {
        libtoolforge::fail(&error, error_message);
    }
}

/// The app's file `name`, when it has one.
fn read(app_dir: &Path, name: &str) -> Result<Option<String>, JavaBuildpackError> {
    match std::fs::read_to_string(app_dir.join(name)) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(JavaBuildpackError::Read(IoError::new(name, error))),
    }
}

/// The first of system.properties, project.toml, pom.xml and the Gradle build script that
/// names a Java release.
fn java_request(
    app_dir: &Path,
    setting: Option<&str>,
    pom: Option<JavaRequest>,
    gradle: bool,
) -> Result<Option<JavaRequest>, JavaBuildpackError> {
    if let Some(text) = read(app_dir, SYSTEM_PROPERTIES)?
        && let Some(request) =
            java_version::from_system_properties(&text).map_err(JavaBuildpackError::InvalidVersion)?
    {
        return Ok(Some(request));
    }
    if let Some(setting) = setting {
        let origin =
            libtoolforge::version_request::Origin::file("project.toml").field("[org.toolforge.java] version");
        return JavaRequest::parse(setting, origin)
            .map(Some)
            .map_err(JavaBuildpackError::InvalidVersion);
    }
    Ok(pom.or_else(|| gradle.then(|| gradle::java_request(app_dir)).flatten()))
}

/// What the build added to Maven's repository: nothing, on a rebuild of an unchanged app.
fn report_downloads(
    output: &mut BuildOutput,
    (files_before, bytes_before): (usize, u64),
    (files, bytes): (usize, u64),
) {
    let added = files.saturating_sub(files_before);
    if added == 0 {
        output.detail(&format!(
            "Maven downloaded nothing: the repository cache had everything ({files} files)"
        ));
    } else {
        output.detail(&format!(
            "Maven downloaded {added} files ({}) into the repository cache",
            disk::format_size(bytes.saturating_sub(bytes_before))
        ));
    }
}

buildpack_main!(JavaBuildpack);
