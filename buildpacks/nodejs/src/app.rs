//! The app's files this buildpack reads at build time, read once: package.json (its text, for
//! the lines errors point at, and its fields) and `[org.toolforge.nodejs]`.

use crate::config::{self, NodejsConfig};
use crate::errors::NodejsBuildpackError;
use crate::node_version::{self, Request};
use crate::package_json::{PACKAGE_JSON, PackageJson, PackageJsonError, line_of};
use crate::package_manager::{self, Choice};
use libtoolforge::error::utf8_text;
use std::path::{Path, PathBuf};

pub(crate) struct App {
    pub(crate) dir: PathBuf,
    pub(crate) package: PackageJson,
    /// Empty when the app has no package.json (it states `nodejs = true` without one: Node.js
    /// alone is installed).
    package_json_text: String,
    pub(crate) config: NodejsConfig,
    /// Another language's app (Python, PHP) that uses Node.js for its front end.
    pub(crate) front_end_only: bool,
}

impl App {
    /// Reads the files; `front_end_only` when the app is another language's (detection decides).
    pub(crate) fn read(app_dir: &Path, front_end_only: bool) -> Result<Self, NodejsBuildpackError> {
        let package_json = std::fs::read(app_dir.join(PACKAGE_JSON)).unwrap_or_default();
        Self::parse(app_dir, package_json, front_end_only)
    }

    /// As [`Self::read`], with package.json already read (empty: none).
    pub(crate) fn parse(
        app_dir: &Path,
        package_json: Vec<u8>,
        front_end_only: bool,
    ) -> Result<Self, NodejsBuildpackError> {
        let package_json_text = utf8_text(package_json).map_err(|line| {
            NodejsBuildpackError::PackageJson(PackageJsonError {
                line: Some(line),
                message: "it is not valid UTF-8 text".to_string(),
            })
        })?;
        let package = if package_json_text.is_empty() {
            PackageJson::default()
        } else {
            PackageJson::parse(&package_json_text).map_err(NodejsBuildpackError::PackageJson)?
        };
        Ok(Self {
            dir: app_dir.to_path_buf(),
            package,
            package_json_text,
            config: config::read(app_dir).map_err(NodejsBuildpackError::Config)?,
            front_end_only,
        })
    }

    /// The Node.js version the app asks for; `today` is `YYYY-MM-DD`.
    pub(crate) fn node_request(&self, today: &str) -> Result<Request, NodejsBuildpackError> {
        let engines_node = self.package.engines.node.as_deref();
        let line = line_of(&self.package_json_text, "\"node\"");
        node_version::read(&self.dir, engines_node.map(|text| (text, line)), today)
            .map_err(NodejsBuildpackError::InvalidRange)
    }

    pub(crate) fn package_manager(&self) -> Result<Choice, NodejsBuildpackError> {
        package_manager::choose(&self.dir, self.package.package_manager.as_deref()).map_err(|error| {
            NodejsBuildpackError::Choice {
                error,
                line: line_of(&self.package_json_text, "\"packageManager\""),
            }
        })
    }

    /// Why Node.js stays out of the image, for the log; `None` when it goes in.
    pub(crate) fn build_only(&self) -> Option<&'static str> {
        match self.config.launch {
            Some(true) => None,
            Some(false) => {
                Some("Node.js is used at build time only (`launch = false` under [org.toolforge.nodejs])")
            }
            None if !self.front_end_only || procfile_calls_node(&self.dir) => None,
            None => Some(
                "Node.js is used at build time only: this is a Python or PHP app and no Procfile process \
                 calls node (`launch = true` under [org.toolforge.nodejs] ships it)",
            ),
        }
    }
}

/// Whether a Procfile process runs a Node.js command.
fn procfile_calls_node(app_dir: &Path) -> bool {
    std::fs::read_to_string(app_dir.join("Procfile")).is_ok_and(|text| {
        text.split(|c: char| c.is_whitespace() || matches!(c, ':' | ';' | '&' | '|' | '(' | ')'))
            .any(|word| matches!(word, "node" | "npm" | "npx" | "pnpm" | "yarn"))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An app directory with `files`.
    pub(crate) fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn procfile_commands() {
        assert!(procfile_calls_node(
            app(&[("Procfile", "web: node server.js\n")]).path()
        ));
        assert!(procfile_calls_node(
            app(&[("Procfile", "worker: cd x && npm run work\n")]).path()
        ));
        assert!(!procfile_calls_node(
            app(&[("Procfile", "web: gunicorn app:app\n")]).path()
        ));
        assert!(!procfile_calls_node(app(&[]).path()));
    }

    #[test]
    fn launch_decision() {
        let node_app = app(&[("package.json", "{}")]);
        assert_eq!(App::read(node_app.path(), false).unwrap().build_only(), None);
        let front_end = app(&[("package.json", "{}"), ("requirements.txt", "")]);
        assert!(App::read(front_end.path(), true).unwrap().build_only().is_some());
        let stated = app(&[
            ("package.json", "{}"),
            ("project.toml", "[org.toolforge.nodejs]\nlaunch = false\n"),
        ]);
        assert!(App::read(stated.path(), false).unwrap().build_only().is_some());
    }

    #[test]
    fn package_json_that_is_not_utf8() {
        // Was read as no package.json at all: the app built without its dependencies.
        let dir = app(&[]);
        std::fs::write(
            dir.path().join("package.json"),
            b"{\n  \"name\": \"caf\xe9\"\n}\n",
        )
        .unwrap();
        let Err(NodejsBuildpackError::PackageJson(error)) = App::read(dir.path(), false) else {
            panic!("read");
        };
        assert_eq!(error.line, Some(2));
    }

    #[test]
    fn engines_node_with_its_line() {
        let dir = app(&[(
            "package.json",
            "{\n  \"engines\": {\n    \"node\": \"24.x\"\n  }\n}\n",
        )]);
        let request = App::read(dir.path(), false)
            .unwrap()
            .node_request("2026-11-24")
            .unwrap();
        assert_eq!(request.origin.unwrap().line, Some(3));
    }
}
