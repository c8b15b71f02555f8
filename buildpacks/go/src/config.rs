//! `[org.toolforge.go]` in the app's project.toml.

use libtoolforge::project_toml::ProjectToml;
use libtoolforge::toml_file::TomlError;
use serde::Deserialize;
use std::path::Path;

pub(crate) const TABLE: [&str; 3] = ["org", "toolforge", "go"];

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct GoConfig {
    /// The Go version when go.mod names none (`1.25`, `1.25.3`).
    pub(crate) version: Option<String>,
    /// The packages to build (`./cmd/web`); by default every main package.
    pub(crate) packages: Option<Vec<String>>,
}

pub(crate) fn read(app_dir: &Path) -> Result<GoConfig, TomlError> {
    ProjectToml::settings(app_dir, &TABLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_settings() {
        let app = tempfile::tempdir().unwrap();
        assert_eq!(read(app.path()).unwrap(), GoConfig::default());
        std::fs::write(
            app.path().join("project.toml"),
            "[org.toolforge.go]\nversion = \"1.25\"\npackages = [\"./cmd/web\"]\n",
        )
        .unwrap();
        let config = read(app.path()).unwrap();
        assert_eq!(config.version.as_deref(), Some("1.25"));
        assert_eq!(config.packages.unwrap(), ["./cmd/web"]);
    }
}
