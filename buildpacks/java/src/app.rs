//! What the build reads from the app before installing anything: its settings, whether Maven or
//! Gradle builds it, and the Java release it asks for. Bad files fail here, before any download.

use crate::config::{self, JavaConfig};
use crate::errors::JavaBuildpackError;
use crate::gradle;
use crate::java_version::{self, JavaRequest, SYSTEM_PROPERTIES};
use crate::maven;
use crate::pom;
use libtoolforge::error::IoError;
use libtoolforge::version_request::Origin;
use std::path::Path;

/// The tool that builds the app: Maven when it has pom.xml or mvnw, else Gradle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BuildTool {
    Maven { wrapper: bool },
    Gradle,
}

pub(crate) struct App {
    pub(crate) config: JavaConfig,
    pub(crate) tool: BuildTool,
    pub(crate) java_request: Option<JavaRequest>,
}

impl App {
    pub(crate) fn read(app_dir: &Path) -> Result<Self, JavaBuildpackError> {
        let config = config::read(app_dir).map_err(JavaBuildpackError::Config)?;
        let has = |file: &str| app_dir.join(file).is_file();
        let tool = if has(pom::FILE) || has(maven::WRAPPER) {
            BuildTool::Maven {
                wrapper: has(maven::WRAPPER),
            }
        } else if gradle::BUILD_SCRIPTS
            .iter()
            .chain([&gradle::WRAPPER])
            .any(|file| has(file))
        {
            if let Some(file) = gradle::missing_wrapper_file(app_dir) {
                return Err(JavaBuildpackError::GradleWrapperMissing(file));
            }
            BuildTool::Gradle
        } else {
            return Err(JavaBuildpackError::NoBuildFile);
        };
        let pom_request = match read(app_dir, pom::FILE)? {
            Some(text) => pom::read(&text).map_err(JavaBuildpackError::InvalidPom)?,
            None => None,
        };
        let java_request = java_request(app_dir, config.version.as_deref(), pom_request, tool)?;
        Ok(Self {
            config,
            tool,
            java_request,
        })
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
    tool: BuildTool,
) -> Result<Option<JavaRequest>, JavaBuildpackError> {
    if let Some(text) = read(app_dir, SYSTEM_PROPERTIES)?
        && let Some(request) =
            java_version::from_system_properties(&text).map_err(JavaBuildpackError::InvalidVersion)?
    {
        return Ok(Some(request));
    }
    if let Some(setting) = setting {
        let origin = Origin::file("project.toml").field("[org.toolforge.java] version");
        return JavaRequest::parse(setting, origin)
            .map(Some)
            .map_err(JavaBuildpackError::InvalidVersion);
    }
    Ok(match tool {
        BuildTool::Maven { .. } => pom,
        BuildTool::Gradle => gradle::java_request(app_dir),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn system_properties_then_project_toml_then_pom_xml() {
        let pom = "<project><properties><java.version>17</java.version></properties></project>";
        let read = |files: &[(&str, &str)]| App::read(app(files).path()).unwrap();
        let found = read(&[("pom.xml", pom)]);
        assert_eq!(found.tool, BuildTool::Maven { wrapper: false });
        assert_eq!(found.java_request.unwrap().major, 17);
        let found = read(&[
            ("pom.xml", pom),
            ("project.toml", "[org.toolforge.java]\nversion = \"25\"\n"),
        ]);
        assert_eq!(found.java_request.unwrap().major, 25);
        let found = read(&[
            ("pom.xml", pom),
            ("project.toml", "[org.toolforge.java]\nversion = \"25\"\n"),
            ("system.properties", "java.runtime.version=21\n"),
        ]);
        assert_eq!(found.java_request.unwrap().major, 21);
    }

    #[test]
    fn a_gradle_build_needs_its_wrapper_before_anything_is_installed() {
        let error = App::read(app(&[("build.gradle", "")]).path()).err().unwrap();
        assert!(matches!(
            error,
            JavaBuildpackError::GradleWrapperMissing("gradlew")
        ));
        let found = App::read(
            app(&[
                (
                    "build.gradle.kts",
                    "java { toolchain { languageVersion = JavaLanguageVersion.of(21) } }",
                ),
                ("gradlew", ""),
                (gradle::WRAPPER_JAR, ""),
            ])
            .path(),
        )
        .unwrap();
        assert_eq!(found.tool, BuildTool::Gradle);
        assert_eq!(found.java_request.unwrap().major, 21);
        assert!(matches!(
            App::read(app(&[]).path()).err().unwrap(),
            JavaBuildpackError::NoBuildFile
        ));
    }
}
