//! Building with Maven: the app's wrapper (`./mvnw`) when it has one, else Maven from the
//! inventory in the version the wrapper's properties or system.properties name; the command
//! line; and what a failed build's output says went wrong.

use crate::config::{self, JavaConfig};
use libtoolforge::command::CommandError;
use libtoolforge::error::{ErrorMessage, Location};
use libtoolforge::version_request::{Origin, VersionMatcher, VersionRequest};
use semver::Version;
use std::path::Path;
use std::process::Command;

pub(crate) const WRAPPER: &str = "mvnw";
pub(crate) const WRAPPER_PROPERTIES: &str = ".mvn/wrapper/maven-wrapper.properties";
/// Honoured as Heroku does: the app's own Maven settings (mirrors, repositories).
const SETTINGS: &str = "settings.xml";

/// A Maven release: exactly the one named, or any (the newest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MavenVersion(pub(crate) Option<Version>);

impl VersionMatcher for MavenVersion {
    fn matches(&self, version: &Version) -> bool {
        self.0.as_ref().is_none_or(|wanted| wanted == version)
    }
}

/// The Maven the app names when it has no `mvnw`: the wrapper's properties
/// (`distributionUrl=…/apache-maven-3.9.9-bin.zip`), else `maven.version` in system.properties
/// (Heroku's convention).
pub(crate) fn version_request(app_dir: &Path) -> VersionRequest<MavenVersion> {
    let read = |file: &str| std::fs::read_to_string(app_dir.join(file)).unwrap_or_default();
    let named = property(&read(WRAPPER_PROPERTIES), "distributionUrl")
        .and_then(|(url, line)| {
            let version = url
                .rsplit_once("apache-maven-")?
                .1
                .split("-bin")
                .next()?
                .to_string();
            Some((
                version,
                Origin::line(WRAPPER_PROPERTIES, line).field("distributionUrl"),
            ))
        })
        .or_else(|| {
            property(&read("system.properties"), "maven.version").map(|(version, line)| {
                (
                    version,
                    Origin::line("system.properties", line).field("maven.version"),
                )
            })
        });
    match named.and_then(|(text, origin)| Some((Version::parse(&text).ok()?, text, origin))) {
        Some((version, text, origin)) => VersionRequest::new(text, Some(origin), MavenVersion(Some(version))),
        None => VersionRequest::new("the newest release", None, MavenVersion(None)),
    }
}

/// `key=value` in a Java properties file, with its line.
fn property(text: &str, key: &str) -> Option<(String, usize)> {
    text.lines().enumerate().find_map(|(index, line)| {
        let rest = line.trim_start().strip_prefix(key)?.trim_start();
        let value = rest.strip_prefix(['=', ':'])?.trim();
        Some((value.to_string(), index + 1))
    })
}

/// `program` (`sh`, for `sh ./mvnw`, when `wrapper`: git keeps the executable bit, archives and
/// some editors do not; else `mvn` from the Maven layer) with the app's options and goals, by
/// default `-DskipTests clean package`, the repository in `repository` and the app's
/// settings.xml when it has one.
pub(crate) fn command(
    app_dir: &Path,
    wrapper: bool,
    mut program: Command,
    repository: &Path,
    config: &JavaConfig,
    env: &libcnb::Env,
) -> Command {
    if wrapper {
        program.arg(format!("./{WRAPPER}"));
    }
    program
        .current_dir(app_dir)
        // Batch mode, and no line per downloaded file: the build reports what it downloaded.
        .args(["-B", "--no-transfer-progress"])
        .arg(format!("-Dmaven.repo.local={}", repository.display()));
    if app_dir.join(SETTINGS).is_file() {
        program.args(["-s", SETTINGS]);
    }
    program
        .args(config::words(
            config.maven_options.as_deref(),
            env,
            "MAVEN_CUSTOM_OPTS",
            &["-DskipTests"],
        ))
        .args(config::words(
            config.maven_goals.as_deref(),
            env,
            "MAVEN_CUSTOM_GOALS",
            &["clean", "package"],
        ));
    program
}

/// What Maven's output says stopped it: a dependency or plugin it could not resolve, or the
/// build (a compile error); with Maven's `[ERROR]` lines, which say where.
pub(crate) fn failure_message(error: &CommandError) -> ErrorMessage {
    let errors = error_lines(&error.output_tail);
    let unresolved = error.output_tail.contains("Could not resolve dependencies")
        || error.output_tail.contains("Could not find artifact")
        || error.output_tail.contains("Non-resolvable parent POM");
    let compile =
        error.output_tail.contains("COMPILATION ERROR") || error.output_tail.contains("Compilation failure");
    let (title, detail, fix) = if unresolved {
        (
            "A Maven dependency could not be resolved",
            "Maven could not download an artifact the project needs: a version that does not exist, a typo in a groupId or artifactId, or a repository the build cannot reach.",
            "check the coordinates Maven names below against Maven Central (or the repository in pom.xml or settings.xml), correct pom.xml and commit it.",
        )
    } else if compile {
        (
            "Java compile error",
            "javac rejected the app's code, at the files and lines Maven names below.",
            "run `./mvnw -DskipTests package` (or `mvn`) locally, correct the code and commit the fix.",
        )
    } else {
        (
            "Maven build failed",
            "Maven stopped with the errors below.",
            "run the same command locally, correct what Maven reports and commit the fix.",
        )
    };
    let message = if errors.is_empty() {
        error.message(title, detail, true)
    } else {
        ErrorMessage::app(title, format!("{detail}\n{error}.")).excerpt(errors.join("\n"))
    };
    let location = compile
        .then(|| source_location(&error.output_tail))
        .flatten()
        .unwrap_or_else(|| Location::file(crate::pom::FILE));
    message.at(location).fix(fix)
}

/// Maven's `[ERROR]` lines and the indented lines under them (javac's `symbol:`), without its
/// advice on rerunning with other switches.
fn error_lines(output: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut in_error = false;
    for line in output.lines() {
        if let Some(text) = line.strip_prefix("[ERROR]") {
            in_error = !text.trim().is_empty()
                && ![
                    "re-run Maven",
                    "To see the full stack trace",
                    "For more information about the errors",
                    "-> [Help",
                ]
                .iter()
                .any(|advice| text.contains(advice));
            if in_error {
                lines.push(line);
            }
        } else if in_error && line.starts_with(char::is_whitespace) {
            lines.push(line);
        } else {
            in_error = false;
        }
    }
    lines.truncate(20);
    lines
}

/// The first source file and line javac names (`/workspace/src/Main.java:[9,9]`), relative to
/// the app.
fn source_location(output: &str) -> Option<Location> {
    output.lines().find_map(|line| {
        let text = line.strip_prefix("[ERROR] ")?;
        let (file, rest) = text.split_once(".java:[")?;
        let line_number = rest.split([',', ']']).next()?.parse().ok()?;
        let file = format!("{file}.java");
        let file = file.strip_prefix("/workspace/").unwrap_or(&file).to_string();
        Some(Location::line(file, line_number))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(output: &str) -> CommandError {
        CommandError {
            command:
                "sh ./mvnw -B --no-transfer-progress -Dmaven.repo.local=/layers/toolforge_java/repository -DskipTests clean package"
                    .into(),
            exit_code: Some(1),
            spawn_error: None,
            output_tail: output.into(),
        }
    }

    #[test]
    fn maven_version_from_the_wrapper_then_system_properties() {
        let app = tempfile::tempdir().unwrap();
        assert_eq!(version_request(app.path()).matcher, MavenVersion(None));
        std::fs::write(
            app.path().join("system.properties"),
            "java.runtime.version=21\nmaven.version=3.9.9\n",
        )
        .unwrap();
        let request = version_request(app.path());
        assert_eq!(
            (request.text.as_str(), request.origin.unwrap().line),
            ("3.9.9", Some(2))
        );
        std::fs::create_dir_all(app.path().join(".mvn/wrapper")).unwrap();
        std::fs::write(
            app.path().join(WRAPPER_PROPERTIES),
            "wrapperVersion=3.3.4\ndistributionUrl=https://repo.maven.apache.org/maven2/org/apache/maven/apache-maven/3.9.16/apache-maven-3.9.16-bin.zip\n",
        )
        .unwrap();
        let request = version_request(app.path());
        assert_eq!(request.matcher, MavenVersion(Some(Version::new(3, 9, 16))));
        assert_eq!(
            request.origin.unwrap().to_string(),
            "distributionUrl in .mvn/wrapper/maven-wrapper.properties"
        );
    }

    #[test]
    fn compile_error() {
        insta::assert_snapshot!(failure_message(&failed(
            "[INFO] --- compiler:3.14.0:compile (default-compile) @ hello ---\n[INFO] -------------------------------------------------------------\n[ERROR] COMPILATION ERROR : \n[INFO] -------------------------------------------------------------\n[ERROR] /workspace/src/main/java/org/toolforge/fixture/Hello.java:[9,9] cannot find symbol\n  symbol:   class Strin\n  location: class org.toolforge.fixture.Hello\n[INFO] 1 error\n[INFO] BUILD FAILURE\n[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.14.0:compile (default-compile) on project hello: Compilation failure\n[ERROR] \n[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch."
        ))
        .render());
    }

    #[test]
    fn unresolved_dependency() {
        insta::assert_snapshot!(failure_message(&failed(
            "[INFO] BUILD FAILURE\n[ERROR] Failed to execute goal on project hello: Could not resolve dependencies for project org.toolforge.fixture:hello:jar:1.0.0\n[ERROR] dependency: org.toolforge.nosuch:nosuch:jar:1.0.0 (compile)\n[ERROR] \tCould not find artifact org.toolforge.nosuch:nosuch:jar:1.0.0 in central (https://repo.maven.apache.org/maven2)\n[ERROR] -> [Help 1]"
        ))
        .render());
    }
}
