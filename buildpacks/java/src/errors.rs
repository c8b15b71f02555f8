//! Everything that can stop this buildpack, and the one function that explains it.

use crate::gradle;
use crate::java_version::{InvalidVersion, NotAvailable};
use crate::pom::InvalidPom;
use libtoolforge::command::CommandError;
use libtoolforge::debian_layer::{ChosenBy, Described, PackagesError};
use libtoolforge::error::{ErrorMessage, IoError, Location};
use libtoolforge::runtime::RuntimeError;
use libtoolforge::toml_file::TomlError;

#[derive(Debug)]
pub(crate) enum JavaBuildpackError {
    /// An app file (pom.xml, system.properties) could not be read.
    Read(IoError),
    InvalidPom(InvalidPom),
    InvalidVersion(InvalidVersion),
    /// `[org.toolforge.java]` in project.toml.
    Config(TomlError),
    NotAvailable(NotAvailable),
    /// apt's saved resolution has no packages for the release chosen: a bug of this buildpack.
    NoResolution(u32),
    /// Resolving, downloading or unpacking the JDK's packages.
    Packages(PackagesError),
    /// Maven from the inventory.
    Runtime(RuntimeError),
    /// `[org.toolforge.languages] java = true` with neither Maven's nor Gradle's files.
    NoBuildFile,
    Maven(CommandError),
    /// The Gradle build has no wrapper (its script or its jar).
    GradleWrapperMissing(&'static str),
    Gradle(CommandError),
    /// No Procfile, and the build made no Spring Boot jar to run.
    NoProcess(Vec<String>),
}

impl From<PackagesError> for JavaBuildpackError {
    fn from(error: PackagesError) -> Self {
        Self::Packages(error)
    }
}

impl From<RuntimeError> for JavaBuildpackError {
    fn from(error: RuntimeError) -> Self {
        Self::Runtime(error)
    }
}

impl From<JavaBuildpackError> for libcnb::Error<JavaBuildpackError> {
    fn from(error: JavaBuildpackError) -> Self {
        Self::BuildpackError(error)
    }
}

/// The buildpack chooses the packages (from the Java release): a failure is the platform's.
const JDK_PACKAGES: Described = Described {
    name: "the JDK's Debian packages",
    chosen_by: ChosenBy::Buildpack("apt could not find a consistent set of packages for the JDK."),
};

pub(crate) fn error_message(error: &JavaBuildpackError) -> ErrorMessage {
    match error {
        JavaBuildpackError::Read(error) => error.message(),
        JavaBuildpackError::InvalidPom(error) => error.message(),
        JavaBuildpackError::InvalidVersion(error) => error.message(),
        JavaBuildpackError::Config(error) => error.message().fix(
            "`[org.toolforge.java]` takes `version = \"21\"`, `maven-goals = [\"clean\", \"package\"]`, `maven-options = [\"-DskipTests\"]` and `gradle-tasks = [\"build\", \"-x\", \"test\"]`.",
        ),
        JavaBuildpackError::NotAvailable(error) => error.message(),
        JavaBuildpackError::NoResolution(major) => ErrorMessage::platform(
            "No packages for the JDK",
            format!("apt's saved resolution has no packages for Java {major}: a bug of this buildpack."),
        ),
        JavaBuildpackError::Packages(error) => error.message(&JDK_PACKAGES),
        JavaBuildpackError::Runtime(error) => error.message(),
        JavaBuildpackError::NoBuildFile => ErrorMessage::app(
            "No Maven or Gradle build",
            "project.toml says the app is Java, but it has no pom.xml, mvnw, build.gradle, build.gradle.kts or gradlew at its root.",
        )
        .fix("commit the app's pom.xml (Maven) or its Gradle wrapper and build script at the root of the repository."),
        JavaBuildpackError::Maven(error) => crate::maven::failure_message(error),
        JavaBuildpackError::GradleWrapperMissing(file) => ErrorMessage::app(
            "The Gradle wrapper is missing",
            format!(
                "The app builds with Gradle but has no {file}. Gradle builds run the app's wrapper, which fetches the Gradle the project was written for."
            ),
        )
        .at(Location::file(file))
        .fix("run `gradle wrapper` in the project and commit gradlew, gradlew.bat and the gradle/wrapper directory (gradle-wrapper.jar too: check .gitignore)."),
        JavaBuildpackError::Gradle(error) => {
            let cannot_download = gradle::wrapper_could_not_download(&error.output_tail);
            if cannot_download {
                error
                    .message(
                        "The Gradle wrapper could not download Gradle",
                        "`./gradlew` fetches the Gradle distribution that gradle/wrapper/gradle-wrapper.properties names, and the download failed, as it says below.",
                        true,
                    )
                    .at(Location::file(gradle::WRAPPER_PROPERTIES))
                    .fix("check distributionUrl there; where the build cannot reach services.gradle.org, point it at a mirror the build can reach.")
            } else {
                error
                    .message(
                        "Gradle build failed",
                        "`./gradlew` failed: a compile error or a dependency it cannot download, as Gradle says below.",
                        true,
                    )
                    .fix("run the same command locally, correct what Gradle reports and commit the fix.")
            }
        }
        JavaBuildpackError::NoProcess(jars) => ErrorMessage::app(
            "No Procfile, and no Spring Boot jar to run",
            if jars.is_empty() {
                "Without a Procfile, the web process is the executable Spring Boot jar the build makes, and the build made no jar.".to_string()
            } else {
                format!(
                    "Without a Procfile, the web process is the executable Spring Boot jar the build makes; the build made {}, none of them a Spring Boot jar.",
                    jars.join(", ")
                )
            },
        )
        .fix(format!(
            "add a Procfile naming the web process, for example `web: java -jar {}`.",
            jars.first().map_or("target/mytool.jar", String::as_str)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(command: &str, output: &str) -> CommandError {
        CommandError {
            command: command.into(),
            exit_code: Some(1),
            spawn_error: None,
            output_tail: output.into(),
        }
    }

    #[test]
    fn gradle_wrapper_missing() {
        insta::assert_snapshot!(
            error_message(&JavaBuildpackError::GradleWrapperMissing(gradle::WRAPPER_JAR)).render()
        );
    }

    #[test]
    fn gradle_cannot_download() {
        insta::assert_snapshot!(
            error_message(&JavaBuildpackError::Gradle(failed(
                "sh ./gradlew --no-daemon --console=plain build -x test",
                "Downloading https://services.gradle.org/distributions/gradle-8.14.3-bin.zip\n\nException in thread \"main\" java.net.UnknownHostException: services.gradle.org"
            )))
            .render()
        );
    }

    #[test]
    fn no_process() {
        insta::assert_snapshot!(
            error_message(&JavaBuildpackError::NoProcess(vec!["target/hello.jar".into()])).render()
        );
    }
}
