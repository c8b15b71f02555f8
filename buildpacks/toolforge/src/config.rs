//! `[org.toolforge.env]` in the app's project.toml.

use libtoolforge::project_toml::ProjectToml;
use libtoolforge::toml_file::TomlError;
use serde::Deserialize;
use std::path::Path;

const TABLE: [&str; 3] = ["org", "toolforge", "env"];

#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct EnvConfig {
    /// Leave HOME as the image and the platform have it.
    #[serde(default)]
    pub(crate) keep_home: bool,
}

pub(crate) fn read(app_dir: &Path) -> Result<EnvConfig, TomlError> {
    ProjectToml::settings(app_dir, &TABLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<EnvConfig, TomlError> {
        let app = tempfile::tempdir().unwrap();
        std::fs::write(app.path().join("project.toml"), text).unwrap();
        read(app.path())
    }

    #[test]
    fn keep_home() {
        assert_eq!(read_text("").unwrap(), EnvConfig::default());
        assert!(
            read_text("[_]\nschema-version = \"0.2\"\n[org.toolforge.env]\nkeep-home = true\n")
                .unwrap()
                .keep_home
        );
        let error = read_text("[org.toolforge.env]\nkeep-home = \"yes\"\n").unwrap_err();
        assert_eq!(error.line, Some(2));
        let error = read_text("[org.toolforge.env]\nkeep_home = true\n").unwrap_err();
        assert!(error.to_string().contains("unknown field `keep_home`"), "{error}");
    }
}
