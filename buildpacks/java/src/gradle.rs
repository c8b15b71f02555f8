//! Building with Gradle: always through the app's wrapper (`./gradlew`), which fetches the
//! Gradle its `gradle/wrapper/gradle-wrapper.properties` names, as Heroku requires; the command
//! line; and the app's Java request in its build script.

use crate::config::{self, JavaConfig};
use crate::java_version::{self, JavaRequest};
use std::path::Path;
use std::process::Command;

pub(crate) const WRAPPER: &str = "gradlew";
pub(crate) const WRAPPER_JAR: &str = "gradle/wrapper/gradle-wrapper.jar";
pub(crate) const WRAPPER_PROPERTIES: &str = "gradle/wrapper/gradle-wrapper.properties";
pub(crate) const BUILD_SCRIPTS: [&str; 2] = ["build.gradle.kts", "build.gradle"];

/// What the app lacks to be built with Gradle, if anything: the wrapper script or its jar.
pub(crate) fn missing_wrapper_file(app_dir: &Path) -> Option<&'static str> {
    [WRAPPER, WRAPPER_JAR]
        .into_iter()
        .find(|file| !app_dir.join(file).is_file())
}

/// The toolchain's `languageVersion` in the build script, if it names one plainly.
pub(crate) fn java_request(app_dir: &Path) -> Option<JavaRequest> {
    BUILD_SCRIPTS.iter().find_map(|file| {
        let text = std::fs::read_to_string(app_dir.join(file)).ok()?;
        java_version::from_gradle(file, &text)
    })
}

/// `./gradlew` with the app's tasks (by default `build -x test`), without the daemon (one build,
/// then the container is gone) and with Gradle's home, wrapper distributions and caches in
/// `gradle_home`.
/// `shell` is `sh` with the build environment.
pub(crate) fn command(
    app_dir: &Path,
    mut shell: Command,
    gradle_home: &Path,
    config: &JavaConfig,
    env: &libcnb::Env,
) -> Command {
    shell
        .current_dir(app_dir)
        .arg(format!("./{WRAPPER}"))
        .args(["--no-daemon", "--console=plain"])
        .env("GRADLE_USER_HOME", gradle_home)
        .args(config::words(
            config.gradle_tasks.as_deref(),
            env,
            "GRADLE_TASK",
            &["build", "-x", "test"],
        ));
    shell
}

/// Whether a failed `./gradlew`'s output is the wrapper failing to download Gradle (before
/// Gradle itself ran): `Downloading URL` then an exception, and no Gradle daemon's greeting.
pub(crate) fn wrapper_could_not_download(output: &str) -> bool {
    output.lines().any(|line| line.starts_with("Downloading http"))
        && output.contains("Exception in thread \"main\"")
        && !output.contains("Welcome to Gradle")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapper_and_its_jar() {
        let app = tempfile::tempdir().unwrap();
        assert_eq!(missing_wrapper_file(app.path()), Some("gradlew"));
        std::fs::write(app.path().join(WRAPPER), "#!/bin/sh\n").unwrap();
        assert_eq!(missing_wrapper_file(app.path()), Some(WRAPPER_JAR));
    }

    #[test]
    fn a_download_failure_is_told_from_a_build_failure() {
        let refused = "Downloading http://127.0.0.1:9/gradle-8.14.3-bin.zip\n\nException in thread \"main\" java.net.ConnectException: Connection refused\n";
        assert!(wrapper_could_not_download(refused));
        let compile = "Downloading https://services.gradle.org/distributions/gradle-8.14.3-bin.zip\nWelcome to Gradle 8.14.3!\n> Task :compileJava FAILED\n";
        assert!(!wrapper_could_not_download(compile));
    }
}
