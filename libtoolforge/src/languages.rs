//! Which languages an app is written in. Detection decides from the app's files; a tool can state
//! its languages instead, which overrides detection for every language buildpack:
//!
//! ```toml
//! [org.toolforge.languages]
//! python = true
//! nodejs = true
//! ```
//!
//! A language not listed (or `false`) is not used, whatever files the app has.

use crate::project_toml::ProjectToml;
use crate::toml_file::TomlError;
use serde::Deserialize;
use std::path::Path;

pub const TABLE: [&str; 3] = ["org", "toolforge", "languages"];

/// `[org.toolforge.languages]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Languages {
    #[serde(default)]
    pub python: bool,
    #[serde(default)]
    pub nodejs: bool,
    #[serde(default)]
    pub php: bool,
}

/// Files that make an app a Python app (the Python buildpack's detection).
pub const PYTHON_FILES: [&str; 10] = [
    "requirements.txt",
    "pyproject.toml",
    "uv.lock",
    "poetry.lock",
    "Pipfile",
    "Pipfile.lock",
    "setup.py",
    "setup.cfg",
    ".python-version",
    "runtime.txt",
];

/// The languages the app states, if it has the table.
///
/// # Errors
///
/// When project.toml is not TOML or the table has another shape (an unknown language, a value
/// that is not a boolean); the error names the line.
pub fn declared(app_dir: &Path) -> Result<Option<Languages>, TomlError> {
    ProjectToml::read(app_dir)?
        .map(|project| project.table::<Languages>(&TABLE))
        .transpose()
        .map(Option::flatten)
}

/// For detection, which cannot explain anything: the table when it is valid, else `None` (the
/// files decide, and the build of `toolforge/toolforge`, in every group, reports the error).
#[must_use]
pub fn declared_for_detection(app_dir: &Path) -> Option<Languages> {
    declared(app_dir).ok().flatten()
}

/// Whether the app has any of [`PYTHON_FILES`].
#[must_use]
pub fn has_python_files(app_dir: &Path) -> bool {
    PYTHON_FILES.iter().any(|file| app_dir.join(file).is_file())
}

/// Files that make an app a PHP app (the PHP buildpack's detection): Composer's files, or an
/// `index.php` where Toolforge's and Heroku's conventions put the document root.
pub const PHP_FILES: [&str; 5] = [
    "composer.json",
    "composer.lock",
    "index.php",
    "public_html/index.php",
    "public/index.php",
];

/// Whether the app has any of [`PHP_FILES`].
#[must_use]
pub fn has_php_files(app_dir: &Path) -> bool {
    PHP_FILES.iter().any(|file| app_dir.join(file).is_file())
}

/// Whether another language than Node.js is the app's main one (stated, or by its files), so
/// that a package.json only builds its front end.
#[must_use]
pub fn other_than_nodejs_is_main(app_dir: &Path) -> bool {
    match declared_for_detection(app_dir) {
        Some(declared) => declared.python || declared.php,
        None => has_python_files(app_dir) || has_php_files(app_dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(project_toml: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("project.toml"), project_toml).unwrap();
        dir
    }

    #[test]
    fn declared_languages() {
        let dir = app("[org.toolforge.languages]\npython = true\nnodejs = true\n");
        assert_eq!(
            declared(dir.path()).unwrap(),
            Some(Languages {
                python: true,
                nodejs: true,
                php: false
            })
        );
        assert_eq!(
            declared(app("[org.toolforge.apt]\npackages = []\n").path()).unwrap(),
            None
        );
        let typo = app("[org.toolforge.languages]\npython = true\nnodjs = true\n");
        let error = declared(typo.path()).unwrap_err();
        assert_eq!(error.line, Some(3));
        assert!(error.to_string().contains("unknown field `nodjs`"), "{error}");
        assert_eq!(declared_for_detection(typo.path()), None);
    }
}
