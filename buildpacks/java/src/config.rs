//! `[org.toolforge.java]` in the app's project.toml, and the Heroku variables that say the same
//! (`MAVEN_CUSTOM_GOALS`, `MAVEN_CUSTOM_OPTS`, `GRADLE_TASK`), which the setting overrides.

use libtoolforge::project_toml::ProjectToml;
use libtoolforge::toml_file::TomlError;
use serde::Deserialize;
use std::path::Path;

pub(crate) const TABLE: [&str; 3] = ["org", "toolforge", "java"];

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct JavaConfig {
    /// The Java release when system.properties names none (`21`).
    pub(crate) version: Option<String>,
    /// Maven's goals, by default `clean package`.
    pub(crate) maven_goals: Option<Vec<String>>,
    /// Maven's options before them, by default `-DskipTests`.
    pub(crate) maven_options: Option<Vec<String>>,
    /// Gradle's tasks and options, by default `build -x test`.
    pub(crate) gradle_tasks: Option<Vec<String>>,
}

pub(crate) fn read(app_dir: &Path) -> Result<JavaConfig, TomlError> {
    ProjectToml::settings(app_dir, &TABLE)
}

/// The words of `setting`, else of the variable `heroku_variable` (split on whitespace, as
/// Heroku's buildpack does), else `default`.
pub(crate) fn words(
    setting: Option<&[String]>,
    env: &libcnb::Env,
    heroku_variable: &str,
    default: &[&str],
) -> Vec<String> {
    if let Some(words) = setting {
        return words.to_vec();
    }
    match env.get_string_lossy(heroku_variable) {
        Some(text) if !text.trim().is_empty() => text.split_whitespace().map(ToString::to_string).collect(),
        _ => default.iter().map(ToString::to_string).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_then_heroku_variables_then_defaults() {
        let app = tempfile::tempdir().unwrap();
        assert_eq!(read(app.path()).unwrap(), JavaConfig::default());
        std::fs::write(
            app.path().join("project.toml"),
            "[org.toolforge.java]\nversion = \"21\"\nmaven-goals = [\"verify\"]\n",
        )
        .unwrap();
        let config = read(app.path()).unwrap();
        assert_eq!(config.version.as_deref(), Some("21"));
        let mut env = libcnb::Env::new();
        env.insert("MAVEN_CUSTOM_GOALS", "clean install");
        assert_eq!(
            words(
                config.maven_goals.as_deref(),
                &env,
                "MAVEN_CUSTOM_GOALS",
                &["package"]
            ),
            ["verify"]
        );
        assert_eq!(
            words(None, &env, "MAVEN_CUSTOM_GOALS", &["package"]),
            ["clean", "install"]
        );
        assert_eq!(
            words(None, &libcnb::Env::new(), "MAVEN_CUSTOM_GOALS", &["package"]),
            ["package"]
        );
    }
}
