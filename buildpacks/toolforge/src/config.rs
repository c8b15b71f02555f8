//! The app's project.toml, read once: `[org.toolforge.env]`, `[org.toolforge.build]` and the
//! stated languages.

use libtoolforge::languages::{self, Stated};
use libtoolforge::project_toml::ProjectToml;
use libtoolforge::toml_file::TomlError;
use serde::Deserialize;
use std::path::Path;

const TABLE: [&str; 3] = ["org", "toolforge", "env"];
const BUILD_TABLE: [&str; 3] = ["org", "toolforge", "build"];

#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct EnvConfig {
    /// Leave HOME as the image and the platform have it.
    #[serde(default)]
    pub(crate) keep_home: bool,
}

/// What this buildpack reads from project.toml.
#[derive(Debug, Default)]
pub(crate) struct Settings {
    pub(crate) env: EnvConfig,
    pub(crate) build: BuildConfig,
    pub(crate) languages: Option<Stated>,
    /// The file itself, for the lines of errors about the steps and for pack's inline buildpacks.
    pub(crate) project: Option<ProjectToml>,
}

/// Which table a settings error is in, for its fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Env,
    Build,
    Languages,
}

pub(crate) fn read(app_dir: &Path) -> Result<Settings, (Table, TomlError)> {
    let Some(project) = ProjectToml::read(app_dir).map_err(|error| (Table::Env, error))? else {
        return Ok(Settings::default());
    };
    settings(&project)
}

/// The settings in a project.toml already read.
pub(crate) fn settings(project: &ProjectToml) -> Result<Settings, (Table, TomlError)> {
    Ok(Settings {
        env: project
            .settings_or_default(&TABLE)
            .map_err(|error| (Table::Env, error))?,
        build: project
            .settings_or_default(&BUILD_TABLE)
            .map_err(|error| (Table::Build, error))?,
        languages: languages::stated_in(project).map_err(|error| (Table::Languages, error))?,
        project: Some(project.clone()),
    })
}

/// `[org.toolforge.build]`: how the whole build goes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct BuildConfig {
    /// Build the image although the app has files of a language the builder does not build
    /// (a `Cargo.toml` for a helper, a `go.mod` of a vendored tool).
    #[serde(default)]
    pub(crate) allow_unbuilt_languages: bool,
    /// Start the web process for a few seconds after the build (`start_check`); on by default.
    #[serde(default = "on")]
    pub(crate) start_check: bool,
    /// The image size above which the build warns (`"1.5 GiB"`, or `"none"`); else the platform's
    /// or Toolforge's quota.
    #[serde(default)]
    pub(crate) image_size_budget: Option<crate::image_size::budget::Budget>,
    /// `[[org.toolforge.build.steps]]`: the app's own build steps, in order.
    #[serde(default)]
    pub(crate) steps: Vec<crate::steps::StepConfig>,
}

fn on() -> bool {
    true
}

impl Default for BuildConfig {
    fn default() -> Self {
        Self {
            allow_unbuilt_languages: false,
            start_check: on(),
            image_size_budget: None,
            steps: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<Settings, (Table, TomlError)> {
        let app = tempfile::tempdir().unwrap();
        std::fs::write(app.path().join("project.toml"), text).unwrap();
        read(app.path())
    }

    #[test]
    fn keep_home() {
        assert_eq!(read_text("").unwrap().env, EnvConfig::default());
        assert!(
            read_text("[_]\nschema-version = \"0.2\"\n[org.toolforge.env]\nkeep-home = true\n")
                .unwrap()
                .env
                .keep_home
        );
        let (table, error) = read_text("[org.toolforge.env]\nkeep-home = \"yes\"\n").unwrap_err();
        assert_eq!((table, error.line), (Table::Env, Some(2)));
        let (_, error) = read_text("[org.toolforge.env]\nkeep_home = true\n").unwrap_err();
        assert!(error.to_string().contains("unknown field `keep_home`"), "{error}");
    }

    #[test]
    fn build_settings_and_languages() {
        let settings = read_text(
            "[org.toolforge.build]\nallow-unbuilt-languages = true\n[org.toolforge.languages]\npython = true\n",
        )
        .unwrap();
        assert!(settings.build.allow_unbuilt_languages);
        assert!(settings.languages.unwrap().uses("python"));
        let (table, error) = read_text("[org.toolforge.build]\nallow-unbuilt = true\n").unwrap_err();
        assert_eq!((table, error.line), (Table::Build, Some(2)));
        let (table, _) = read_text("[org.toolforge.languages]\npython = 1\n").unwrap_err();
        assert_eq!(table, Table::Languages);
    }

    #[test]
    fn the_start_check_is_on_unless_turned_off() {
        assert!(read_text("").unwrap().build.start_check);
        assert!(read_text("[org.toolforge.build]\n").unwrap().build.start_check);
        assert!(
            !read_text("[org.toolforge.build]\nstart-check = false\n")
                .unwrap()
                .build
                .start_check
        );
    }

    #[test]
    fn image_size_budget() {
        let settings = read_text("[org.toolforge.build]\nimage-size-budget = \"1.5 GiB\"\n").unwrap();
        assert_eq!(
            settings.build.image_size_budget,
            Some(crate::image_size::budget::Budget::parse("1.5 GiB").unwrap())
        );
        let (table, error) =
            read_text("[org.toolforge.build]\nimage-size-budget = \"1.5 GB!\"\n").unwrap_err();
        assert_eq!((table, error.line), (Table::Build, Some(2)));
        assert!(error.message.contains("`1.5 GB!` is not a size"), "{error}");
    }
}
