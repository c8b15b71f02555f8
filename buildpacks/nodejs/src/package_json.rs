//! What this buildpack reads from `package.json`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

pub(crate) const PACKAGE_JSON: &str = "package.json";

/// The script that wins over `build` when present, for tools whose `build` is meant for
/// something else (a library's bundle, a dev server).
pub(crate) const TOOLFORGE_BUILD_SCRIPT: &str = "toolforge-build";

/// Heroku's build hooks (<https://devcenter.heroku.com/articles/nodejs-support#customizing-the-build-process>),
/// run when Heroku runs them so that tools written for Heroku build unchanged: before the
/// dependencies are installed, instead of `build`, and after the development dependencies are
/// removed.
pub(crate) const HEROKU_PREBUILD: &str = "heroku-prebuild";
pub(crate) const HEROKU_POSTBUILD: &str = "heroku-postbuild";
pub(crate) const HEROKU_CLEANUP: &str = "heroku-cleanup";

/// The build scripts, the first present winning: `toolforge-build` is this platform's own, and
/// Heroku runs `heroku-postbuild` instead of `build`.
const BUILD_SCRIPTS: [&str; 3] = [TOOLFORGE_BUILD_SCRIPT, HEROKU_POSTBUILD, "build"];

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PackageJson {
    #[serde(default)]
    pub(crate) engines: Engines,
    pub(crate) package_manager: Option<String>,
    #[serde(default)]
    pub(crate) scripts: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub(crate) dev_dependencies: BTreeMap<String, serde_json::Value>,
    /// npm's and Yarn's workspaces (an array, or Yarn's `{"packages": […]}`).
    pub(crate) workspaces: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct Engines {
    pub(crate) node: Option<String>,
}

/// A `package.json` that cannot be read: the line and what is wrong.
#[derive(Debug)]
pub(crate) struct PackageJsonError {
    pub(crate) line: Option<usize>,
    pub(crate) message: String,
}

impl PackageJson {
    pub(crate) fn read(app_dir: &Path) -> Result<Option<Self>, PackageJsonError> {
        let path = app_dir.join(PACKAGE_JSON);
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|error| PackageJsonError {
            line: None,
            message: error.to_string(),
        })?;
        Self::parse(&text).map(Some)
    }

    pub(crate) fn parse(text: &str) -> Result<Self, PackageJsonError> {
        serde_json::from_str(text).map_err(|error| PackageJsonError {
            line: (error.line() > 0).then_some(error.line()),
            message: error.to_string(),
        })
    }

    /// The build script to run: `toolforge-build` when present, else `heroku-postbuild`, else
    /// `build`.
    pub(crate) fn build_script(&self) -> Option<&'static str> {
        BUILD_SCRIPTS.into_iter().find(|name| self.has_script(name))
    }

    /// The build scripts present that [`Self::build_script`] does not run, so that the log says
    /// why `build` did not run.
    pub(crate) fn build_scripts_passed_over(&self) -> Vec<&'static str> {
        BUILD_SCRIPTS
            .into_iter()
            .filter(|name| self.has_script(name))
            .skip(1)
            .collect()
    }

    /// `name` when package.json has that script: for the hooks that run if present.
    pub(crate) fn script(&self, name: &'static str) -> Option<&'static str> {
        self.has_script(name).then_some(name)
    }

    fn has_script(&self, name: &str) -> bool {
        self.scripts.contains_key(name)
    }

    pub(crate) fn has_start_script(&self) -> bool {
        self.has_script("start")
    }
}

pub(crate) use libtoolforge::error::line_of;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_we_use() {
        let package = PackageJson::parse(
            r#"{"name": "x", "engines": {"node": "24.x"}, "packageManager": "pnpm@10.34.8",
                "scripts": {"build": "vite build", "toolforge-build": "vite build --mode toolforge"},
                "devDependencies": {"vite": "7.1.0"}}"#,
        )
        .unwrap();
        assert_eq!(package.engines.node.as_deref(), Some("24.x"));
        assert_eq!(package.package_manager.as_deref(), Some("pnpm@10.34.8"));
        assert_eq!(package.build_script(), Some("toolforge-build"));
        assert!(!package.has_start_script());
        assert_eq!(PackageJson::parse("{}").unwrap().build_script(), None);
    }

    #[test]
    fn build_script_precedence() {
        let package = |scripts: &[&str]| PackageJson {
            scripts: scripts
                .iter()
                .map(|name| ((*name).to_string(), "true".to_string()))
                .collect(),
            ..PackageJson::default()
        };
        let chosen = |scripts: &[&str]| {
            let package = package(scripts);
            (package.build_script(), package.build_scripts_passed_over())
        };
        assert_eq!(chosen(&["build"]), (Some("build"), vec![]));
        // As on Heroku: heroku-postbuild instead of build.
        assert_eq!(
            chosen(&["build", "heroku-postbuild"]),
            (Some("heroku-postbuild"), vec!["build"])
        );
        assert_eq!(chosen(&["heroku-postbuild"]), (Some("heroku-postbuild"), vec![]));
        // toolforge-build, this platform's own, wins over both.
        assert_eq!(
            chosen(&["build", "heroku-postbuild", "toolforge-build"]),
            (Some("toolforge-build"), vec!["heroku-postbuild", "build"])
        );
        // The other hooks are no build scripts.
        assert_eq!(
            chosen(&["heroku-prebuild", "heroku-cleanup", "start"]),
            (None, vec![])
        );
        let hooks = package(&["heroku-prebuild"]);
        assert_eq!(hooks.script(HEROKU_PREBUILD), Some("heroku-prebuild"));
        assert_eq!(hooks.script(HEROKU_CLEANUP), None);
    }

    #[test]
    fn errors_name_the_line() {
        let error = PackageJson::parse("{\n  \"name\": \"x\",\n  \"scripts\": {,}\n}").unwrap_err();
        assert_eq!(error.line, Some(3));
        let error = PackageJson::parse("{\"engines\": {\"node\": 24}}").unwrap_err();
        assert!(error.message.contains("invalid type"), "{}", error.message);
    }
}
