//! The app's files that this buildpack reads, read once.

use crate::errors::PythonBuildpackError;
use crate::package_manager::{self, Choice};
use crate::python_version::{self, Request, VersionFileError};
use libtoolforge::error::IoError;
use libtoolforge::toml_file::{Spanned, line_at};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use libtoolforge::languages::{self, Language};

/// Files that make an app a Python app. buildpack.toml declares the same list for the builder's
/// other buildpacks (a unit test keeps them equal).
pub(crate) const PYTHON_FILES: [&str; 10] = [
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

/// Names that are almost certainly meant to be one of ours. Detection passes on them so the
/// build can say what to rename.
const NEAR_MISSES: [(&str, &str); 12] = [
    ("requirement.txt", "requirements.txt"),
    ("requirements.text", "requirements.txt"),
    ("Requirements.txt", "requirements.txt"),
    ("requirements.txt.txt", "requirements.txt"),
    ("requirements.in.txt", "requirements.txt"),
    ("pipfile", "Pipfile"),
    ("Pipfile.lck", "Pipfile.lock"),
    ("pipfile.lock", "Pipfile.lock"),
    ("Pyproject.toml", "pyproject.toml"),
    ("python-version", ".python-version"),
    (".python_version", ".python-version"),
    ("runtime.text", "runtime.txt"),
];

/// Whether detection passes: when the app states its languages, whether Python is one of them;
/// otherwise whether it has a Python file (or a near miss of one).
pub(crate) fn detects(app_dir: &Path, python: &Language) -> bool {
    languages::detects(app_dir, python, || {
        python.has_files(app_dir)
            || NEAR_MISSES
                .iter()
                .any(|(near_miss, _)| app_dir.join(near_miss).is_file())
    })
}

#[derive(Debug, Default, Deserialize)]
struct Pyproject {
    project: Option<ProjectTable>,
    tool: Option<ToolTable>,
}

#[derive(Debug, Default, Deserialize)]
struct ProjectTable {
    #[serde(rename = "requires-python")]
    requires_python: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct ToolTable {
    poetry: Option<PoetryTable>,
}

#[derive(Debug, Default, Deserialize)]
struct PoetryTable {
    dependencies: Option<PoetryDependencies>,
}

#[derive(Debug, Default, Deserialize)]
struct PoetryDependencies {
    python: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct Pipfile {
    requires: Option<PipfileRequires>,
}

#[derive(Debug, Default, Deserialize)]
struct PipfileRequires {
    python_version: Option<String>,
    python_full_version: Option<String>,
}

pub(crate) struct AppFiles {
    dir: PathBuf,
    present: BTreeSet<&'static str>,
    pyproject: Option<Pyproject>,
    /// Its text, for the lines of its values.
    pyproject_text: String,
    pipfile: Option<Pipfile>,
}

impl AppFiles {
    /// Reads the files; fails on a near-miss name without its real counterpart, and on
    /// malformed pyproject.toml or Pipfile.
    pub(crate) fn read(app_dir: &Path) -> Result<Self, PythonBuildpackError> {
        let present: BTreeSet<&'static str> = PYTHON_FILES
            .into_iter()
            .chain(["manage.py"])
            .filter(|file| app_dir.join(file).is_file())
            .collect();
        if let Some((found, expected)) = NEAR_MISSES.iter().find(|(near_miss, expected)| {
            // Listing the directory: `is_file` would match case-insensitively on some file systems.
            has_entry(app_dir, near_miss) && !present.contains(expected)
        }) {
            return Err(PythonBuildpackError::Misnamed {
                found: (*found).to_string(),
                expected,
            });
        }
        let pyproject_text = libtoolforge::toml_file::read_text(app_dir, "pyproject.toml")
            .map_err(PythonBuildpackError::Toml)?;
        let pyproject = pyproject_text
            .as_deref()
            .map(|text| libtoolforge::toml_file::parse::<Pyproject>(text, "pyproject.toml"))
            .transpose()
            .map_err(PythonBuildpackError::Toml)?;
        let pipfile = libtoolforge::toml_file::read::<Pipfile>(app_dir, "Pipfile")
            .map_err(PythonBuildpackError::Toml)?;
        Ok(Self {
            dir: app_dir.to_path_buf(),
            present,
            pyproject,
            pyproject_text: pyproject_text.unwrap_or_default(),
            pipfile,
        })
    }

    pub(crate) fn has(&self, file: &str) -> bool {
        self.present.contains(file)
    }

    pub(crate) fn package_manager(&self) -> Result<Choice, PythonBuildpackError> {
        let has_project_table = self
            .pyproject
            .as_ref()
            .is_some_and(|pyproject| pyproject.project.is_some());
        package_manager::choose(&self.present, has_project_table)
            .map_err(PythonBuildpackError::PackageManager)
    }

    pub(crate) fn uses_runtime_txt(&self) -> bool {
        self.has("runtime.txt") && !self.has(".python-version")
    }

    /// A warning when the version comes from runtime.txt, Heroku's older file.
    pub(crate) fn warn_of_runtime_txt(&self, output: &mut libtoolforge::output::BuildOutput) {
        if self.uses_runtime_txt() {
            output.warning(
                "runtime.txt is read for compatibility; prefer a .python-version file containing the \
                 version (for example `3.13`),\nwhich pyenv, uv and other tools read too.",
            );
        }
    }

    /// The version the app asks for; see [`crate::python_version`] for the order.
    pub(crate) fn python_request(&self) -> Result<Request, PythonBuildpackError> {
        // Bytes that are not UTF-8 become U+FFFD: on the version's line, the parser says the line
        // is not a version; in a comment, they do not matter.
        let read = |file: &str| {
            std::fs::read(self.dir.join(file))
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .map_err(|error| PythonBuildpackError::Io(IoError::new(format!("read {file}"), error)))
        };
        let request = if self.has(".python-version") {
            python_version::parse_python_version_file(&read(".python-version")?)
        } else if self.has("runtime.txt") {
            python_version::parse_runtime_txt(&read("runtime.txt")?)
        } else if let Some(request) = self.pyproject_request() {
            request
        } else if let Some(version) = self
            .pipfile
            .as_ref()
            .and_then(|pipfile| pipfile.requires.as_ref())
            .and_then(|requires| {
                requires
                    .python_full_version
                    .as_ref()
                    .or(requires.python_version.as_ref())
            })
        {
            python_version::parse_pipfile_version(version)
        } else {
            Ok(python_version::newest())
        };
        request.map_err(PythonBuildpackError::VersionFile)
    }

    /// pyproject.toml's `requires-python` and Poetry's `python`, whichever are there.
    fn pyproject_request(&self) -> Option<Result<Request, VersionFileError>> {
        let pyproject = self.pyproject.as_ref()?;
        let line = |value: &Spanned<String>| Some(line_at(&self.pyproject_text, value.span().start));
        let requires_python = pyproject
            .project
            .as_ref()
            .and_then(|project| project.requires_python.as_ref())
            .map(|value| python_version::parse_requires_python(value.get_ref(), line(value)));
        let poetry = pyproject
            .tool
            .as_ref()
            .and_then(|tool| tool.poetry.as_ref())
            .and_then(|poetry| poetry.dependencies.as_ref())
            .and_then(|dependencies| dependencies.python.as_ref())
            .map(|value| python_version::parse_poetry_python(value.get_ref(), line(value)));
        match (requires_python, poetry) {
            (Some(requires_python), Some(poetry)) => Some(requires_python.and_then(|requires_python| {
                poetry.map(|poetry| python_version::both_pyproject_constraints(requires_python, poetry))
            })),
            (requires_python, poetry) => requires_python.or(poetry),
        }
    }
}

fn has_entry(dir: &Path, name: &str) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|entry| entry.file_name() == name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, contents) in files {
            std::fs::write(dir.path().join(name), contents).unwrap();
        }
        dir
    }

    fn python() -> Language {
        languages::declared_in(include_str!("../buildpack.toml")).unwrap()
    }

    #[test]
    fn detection() {
        assert!(!detects(app(&[("Procfile", "web: x")]).path(), &python()));
        assert!(detects(app(&[("requirements.txt", "")]).path(), &python()));
        assert!(detects(app(&[("requirement.txt", "")]).path(), &python()));
        let stated = app(&[
            ("requirements.txt", ""),
            ("project.toml", "[org.toolforge.languages]\nnodejs = true\n"),
        ]);
        assert!(!detects(stated.path(), &python()));
    }

    #[test]
    fn buildpack_toml_declares_the_python_files() {
        assert_eq!(python().name, "python");
        assert_eq!(python().files, PYTHON_FILES);
    }

    #[test]
    fn near_misses_fail_with_the_rename() {
        let dir = app(&[("requirement.txt", "flask")]);
        let Err(PythonBuildpackError::Misnamed { found, expected }) = AppFiles::read(dir.path()) else {
            panic!("expected a misnamed error");
        };
        assert_eq!(
            (found.as_str(), expected),
            ("requirement.txt", "requirements.txt")
        );
        // With the real file present, a stray near-miss is left alone.
        assert!(AppFiles::read(app(&[("requirement.txt", ""), ("requirements.txt", "")]).path()).is_ok());
    }

    #[test]
    fn version_files_that_are_not_utf8_are_invalid_versions() {
        // Were "Cannot read .python-version", the platform's problem, with no line.
        let dir = app(&[]);
        std::fs::write(dir.path().join(".python-version"), b"# pin\n3.1\xb3\n").unwrap();
        let Err(PythonBuildpackError::VersionFile(VersionFileError::Invalid { origin, text })) =
            AppFiles::read(dir.path()).unwrap().python_request()
        else {
            panic!("read");
        };
        assert_eq!((origin.line, text.as_str()), (Some(2), "3.1\u{fffd}"));
    }

    #[test]
    fn version_precedence() {
        let request = |files: &[(&str, &str)]| {
            let dir = app(files);
            AppFiles::read(dir.path()).unwrap().python_request().unwrap()
        };
        let all = [
            (".python-version", "3.13\n"),
            ("runtime.txt", "python-3.12.1"),
            ("pyproject.toml", "[project]\nrequires-python = \">=3.14\"\n"),
        ];
        assert_eq!(request(&all).to_string(), "3.13");
        let origin = |files: &[(&str, &str)]| request(files).origin.map(|origin| origin.to_string());
        assert_eq!(origin(&all[1..]).as_deref(), Some("runtime.txt"));
        assert_eq!(request(&all[1..]).origin.unwrap().line, Some(1));
        assert_eq!(origin(&all[2..]).as_deref(), Some("pyproject.toml"));
        assert_eq!(request(&all[2..]).origin.unwrap().line, Some(2));
        assert_eq!(
            origin(&[("Pipfile", "[requires]\npython_version = \"3.13\"\n")]).as_deref(),
            Some("Pipfile")
        );
        assert_eq!(request(&[("requirements.txt", "")]), python_version::newest());
    }

    #[test]
    fn runtime_txt_is_noted_only_without_python_version() {
        let dir = app(&[("runtime.txt", "python-3.13"), ("requirements.txt", "")]);
        assert!(AppFiles::read(dir.path()).unwrap().uses_runtime_txt());
        let dir = app(&[("runtime.txt", "python-3.13"), (".python-version", "3.13")]);
        assert!(!AppFiles::read(dir.path()).unwrap().uses_runtime_txt());
    }

    #[test]
    fn malformed_pyproject_names_the_line() {
        let dir = app(&[("pyproject.toml", "[project]\nname = \"x\nversion = \"1\"\n")]);
        let Err(PythonBuildpackError::Toml(error)) = AppFiles::read(dir.path()) else {
            panic!("expected a TOML error");
        };
        assert_eq!(error.line, Some(2));
    }

    #[test]
    fn poetrys_python_is_a_constraint_with_its_line() {
        let request = |files: &[(&str, &str)]| {
            let dir = app(files);
            AppFiles::read(dir.path()).unwrap().python_request().unwrap()
        };
        let poetry = "[tool.poetry]\nname = \"tool\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nflask = \"^3\"\n";
        let only_poetry = request(&[("pyproject.toml", poetry), ("requirements.txt", "")]);
        assert_eq!(only_poetry.to_string(), "^3.11");
        let origin = only_poetry.origin.unwrap();
        assert_eq!(
            origin.to_string(),
            "tool.poetry.dependencies.python in pyproject.toml"
        );
        assert_eq!(origin.line, Some(5));

        let both = format!("[project]\nname = \"tool\"\nrequires-python = \">=3.9\"\n\n{poetry}");
        let both = request(&[("pyproject.toml", &both)]);
        assert_eq!(both.to_string(), ">=3.9 and ^3.11");
        assert_eq!(both.origin.unwrap().line, Some(9));
        // An explicit version comes first.
        assert_eq!(
            request(&[("pyproject.toml", poetry), (".python-version", "3.13")]).to_string(),
            "3.13"
        );
    }

    #[test]
    fn invalid_poetry_python_names_the_line() {
        let dir = app(&[(
            "pyproject.toml",
            "[tool.poetry.dependencies]\n\npython = \"^three\"\n",
        )]);
        let Err(PythonBuildpackError::VersionFile(VersionFileError::InvalidPoetryConstraint {
            origin, ..
        })) = AppFiles::read(dir.path()).unwrap().python_request()
        else {
            panic!("expected an invalid constraint");
        };
        assert_eq!(origin.line, Some(3));
    }
}
