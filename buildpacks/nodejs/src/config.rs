//! `[org.toolforge.nodejs]` in the app's project.toml.

use libtoolforge::project_toml::ProjectToml;
use libtoolforge::toml_file::TomlError;
use serde::Deserialize;
use std::path::Path;

pub(crate) const TABLE: [&str; 3] = ["org", "toolforge", "nodejs"];

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct NodejsConfig {
    /// Remove development dependencies after the build script (default: yes).
    #[serde(default = "yes")]
    pub(crate) prune_dev_dependencies: bool,
    /// Ship Node.js in the image; by default only when Node.js is the app's main language or a
    /// Procfile process calls it.
    pub(crate) launch: Option<bool>,
}

fn yes() -> bool {
    true
}

impl Default for NodejsConfig {
    fn default() -> Self {
        Self {
            prune_dev_dependencies: true,
            launch: None,
        }
    }
}

pub(crate) fn read(app_dir: &Path) -> Result<NodejsConfig, TomlError> {
    ProjectToml::settings(app_dir, &TABLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let app = tempfile::tempdir().unwrap();
        assert_eq!(read(app.path()).unwrap(), NodejsConfig::default());
        std::fs::write(
            app.path().join("project.toml"),
            "[org.toolforge.nodejs]\nprune-dev-dependencies = false\nlaunch = true\n",
        )
        .unwrap();
        let config = read(app.path()).unwrap();
        assert!(!config.prune_dev_dependencies);
        assert_eq!(config.launch, Some(true));
        std::fs::write(
            app.path().join("project.toml"),
            "[org.toolforge.nodejs]\nprune = false\n",
        )
        .unwrap();
        assert_eq!(read(app.path()).unwrap_err().line, Some(2));
    }
}
