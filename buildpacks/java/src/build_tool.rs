//! Running Maven or Gradle with the JDK on PATH, their homes and repository in cached layers.

use crate::JavaBuildpack;
use crate::app::{App, BuildTool};
use crate::errors::JavaBuildpackError;
use crate::{gradle, layers, maven};
use libcnb::Platform;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libtoolforge::build_env::BuildEnv;
use libtoolforge::download::Downloader;
use libtoolforge::output::BuildOutput;
use libtoolforge::{command, disk};

/// Builds the app with its tool and `env` (the JDK's).
pub(crate) fn build(
    context: &BuildContext<JavaBuildpack>,
    output: &mut BuildOutput,
    app: &App,
    mut env: BuildEnv,
    java: u32,
) -> libcnb::Result<(), JavaBuildpackError> {
    let app_dir = &context.app_dir;
    let user_env = context.platform.env();
    match app.tool {
        BuildTool::Maven { wrapper } => {
            let repository = layers::caches::repository(context, output)?;
            let program = if wrapper {
                let home = layers::caches::wrapper_home(
                    context,
                    output,
                    layer_name!("maven-wrapper"),
                    maven::WRAPPER_PROPERTIES,
                )?;
                env.set_default("MAVEN_USER_HOME", home);
                output.step("Maven from the app's wrapper (mvnw)");
                env.command("sh")
            } else {
                let downloader = Downloader::from_env(user_env);
                let runtime = layers::maven::runtime();
                let request = maven::version_request(app_dir);
                let release = runtime
                    .choose(user_env, &downloader, &request, output)
                    .map_err(JavaBuildpackError::Runtime)?;
                let layer = runtime.install(context, output, &release, &downloader, false)?;
                env.prepend_path(layer.path().join("bin"));
                env.command("mvn")
            };
            let mut mvn = maven::command(app_dir, wrapper, program, &repository, &app.config, user_env);
            let before = layers::caches::contents(&repository);
            output.step(&format!("Building with Maven (Java {java})"));
            command::run_streamed(&mut mvn).map_err(JavaBuildpackError::Maven)?;
            report_downloads(output, before, layers::caches::contents(&repository));
        }
        BuildTool::Gradle => {
            let home = layers::caches::gradle_home(context, output)?;
            output.step(&format!("Building with Gradle (Java {java})"));
            let mut gradlew = gradle::command(app_dir, env.command("sh"), &home, &app.config, user_env);
            command::run_streamed(&mut gradlew).map_err(JavaBuildpackError::Gradle)?;
        }
    }
    Ok(())
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
