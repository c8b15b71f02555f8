//! Which package manager installs the app's dependencies, decided by its files.
//!
//! Precedence, first match wins: `requirements.txt` (pip), `Pipfile.lock` (Pipenv),
//! `poetry.lock` (Poetry), `uv.lock` (uv), then a `pyproject.toml` with a `[project]` table or
//! a `setup.py`/`setup.cfg` (pip installs the project). requirements.txt comes first because
//! Toolforge's previous builder only read it: a tool that exported one beside a lockfile builds
//! as it did. The build says which file it used and which it ignored.

use crate::own_packages;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The versions we install. Each is pinned, so a rebuild never changes tools silently.
pub(crate) const PIP_VERSION: &str = "26.3";
pub(crate) const UV_VERSION: &str = "0.13.9";
pub(crate) const POETRY_VERSION: &str = "2.5.1";
pub(crate) const PIPENV_VERSION: &str = "2026.10.3";
/// Poetry installs from PyPI through its JSON API, which not every PyPI mirror serves (the one
/// our CI reaches does not); exporting the lock and installing it with pip needs only the
/// simple index that every mirror has, and installs exactly what poetry.lock pins, with hashes.
pub(crate) const POETRY_PLUGIN_EXPORT_VERSION: &str = "1.10.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PackageManager {
    /// `pip install -r requirements.txt`.
    PipRequirements,
    /// `pip install --editable .` for a PEP 621 project or setup.py/setup.cfg.
    PipProject,
    Pipenv,
    Poetry,
    Uv,
}

impl PackageManager {
    /// The tool's name as the build log and the layer names show it.
    pub(crate) fn tool(self) -> &'static str {
        match self {
            Self::PipRequirements | Self::PipProject => "pip",
            Self::Pipenv => "pipenv",
            Self::Poetry => "poetry",
            Self::Uv => "uv",
        }
    }

    pub(crate) fn version(self) -> &'static str {
        match self {
            Self::PipRequirements | Self::PipProject => PIP_VERSION,
            Self::Pipenv => PIPENV_VERSION,
            Self::Poetry => POETRY_VERSION,
            Self::Uv => UV_VERSION,
        }
    }

    /// The PyPI requirements that install the tool.
    pub(crate) fn requirements(self) -> Vec<String> {
        let mut requirements = vec![format!("{}=={}", self.tool(), self.version())];
        if self == Self::Poetry {
            requirements.push(format!("poetry-plugin-export=={POETRY_PLUGIN_EXPORT_VERSION}"));
        }
        requirements
    }
}

/// The manager chosen, the file that chose it, and the files that lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    pub(crate) manager: PackageManager,
    pub(crate) file: &'static str,
    pub(crate) ignored: Vec<&'static str>,
}

impl Choice {
    /// The step that names the dependency file and its installer, and the files passed over.
    pub(crate) fn announce(&self, output: &mut libtoolforge::output::BuildOutput) {
        output.step(&format!(
            "Dependencies: {} (installed with {} {})",
            self.file,
            self.manager.tool(),
            self.manager.version()
        ));
        for ignored in &self.ignored {
            output.detail(&format!(
                "Ignoring {ignored}: {} comes first (see the buildpack's README for the order)",
                self.file
            ));
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChoiceError {
    /// A Pipfile with no Pipfile.lock: Pipenv would resolve anew at every build.
    PipfileWithoutLock,
    /// A pyproject.toml with no lockfile and no `[project]` table: nothing says what to install.
    PyprojectWithoutDependencies,
    /// No dependency file at all (detection passed on a version file or a near-miss).
    NoDependencyFile,
}

/// The files of the app that decide; `has_project_table` says whether pyproject.toml has `[project]`.
pub(crate) fn choose(present: &BTreeSet<&str>, has_project_table: bool) -> Result<Choice, ChoiceError> {
    const CANDIDATES: [(&str, PackageManager); 4] = [
        ("requirements.txt", PackageManager::PipRequirements),
        ("Pipfile.lock", PackageManager::Pipenv),
        ("poetry.lock", PackageManager::Poetry),
        ("uv.lock", PackageManager::Uv),
    ];
    let found: Vec<(&'static str, PackageManager)> = CANDIDATES
        .into_iter()
        .filter(|(file, _)| present.contains(file))
        .collect();
    if let Some(((file, manager), rest)) = found.split_first() {
        return Ok(Choice {
            manager: *manager,
            file,
            ignored: rest.iter().map(|(file, _)| *file).collect(),
        });
    }
    if present.contains("Pipfile") {
        return Err(ChoiceError::PipfileWithoutLock);
    }
    if present.contains("pyproject.toml") {
        return if has_project_table {
            Ok(Choice {
                manager: PackageManager::PipProject,
                file: "pyproject.toml",
                ignored: Vec::new(),
            })
        } else {
            Err(ChoiceError::PyprojectWithoutDependencies)
        };
    }
    for file in ["setup.py", "setup.cfg"] {
        if present.contains(file) {
            return Ok(Choice {
                manager: PackageManager::PipProject,
                file,
                ignored: Vec::new(),
            });
        }
    }
    Err(ChoiceError::NoDependencyFile)
}

/// The files whose contents decide the installed dependencies, relative to the app: the
/// chosen file, files it includes, and the project files the manager reads.
pub(crate) fn dependency_files(choice: &Choice, app_dir: &Path) -> Vec<PathBuf> {
    let mut files = match choice.manager {
        PackageManager::PipRequirements => requirements_with_includes(app_dir, Path::new("requirements.txt")),
        PackageManager::PipProject => vec![PathBuf::from(choice.file)],
        PackageManager::Pipenv => vec![PathBuf::from("Pipfile.lock"), PathBuf::from("Pipfile")],
        PackageManager::Poetry => vec![PathBuf::from("poetry.lock"), PathBuf::from("pyproject.toml")],
        PackageManager::Uv => vec![PathBuf::from("uv.lock"), PathBuf::from("pyproject.toml")],
    };
    match choice.manager {
        PackageManager::PipProject => {
            files.extend(["pyproject.toml", "setup.py", "setup.cfg"].map(PathBuf::from));
        }
        PackageManager::PipRequirements | PackageManager::Pipenv => {
            files.extend(own_packages::metadata_files(choice.manager, app_dir));
        }
        PackageManager::Poetry | PackageManager::Uv => {}
    }
    files.sort();
    files.dedup();
    files.retain(|file| app_dir.join(file).is_file());
    files
}

/// requirements.txt and the files it includes with `-r` (recursively), not constraints files:
/// the files whose lines pip installs, relative to the app.
pub(crate) fn requirement_files(app_dir: &Path) -> Vec<PathBuf> {
    included(app_dir, Path::new("requirements.txt"), &["--requirement", "-r"])
}

/// A requirements file and every file it includes with `-r`/`-c` (recursively), relative to
/// the app, in the order found.
fn requirements_with_includes(app_dir: &Path, file: &Path) -> Vec<PathBuf> {
    included(app_dir, file, &INCLUDE_OPTIONS)
}

const INCLUDE_OPTIONS: [&str; 4] = ["--requirement", "--constraint", "-r", "-c"];

/// `file` and the files it includes with `options`, recursively.
fn included(app_dir: &Path, file: &Path, options: &[&str]) -> Vec<PathBuf> {
    let mut found = vec![file.to_path_buf()];
    let mut index = 0;
    while let Some(current) = found.get(index).cloned() {
        index += 1;
        let Ok(text) = std::fs::read_to_string(app_dir.join(&current)) else {
            continue;
        };
        let base = current.parent().unwrap_or(Path::new(""));
        for include in includes(&text, options) {
            let path = normalize(&base.join(include));
            if !found.contains(&path) {
                found.push(path);
            }
        }
    }
    found
}

/// The files named by lines of `options` (long ones first): `-r`, `--requirement`, `-c`,
/// `--constraint`.
fn includes<'a>(text: &'a str, options: &[&str]) -> Vec<&'a str> {
    text.lines()
        .map(|line| line.split(" #").next().unwrap_or_default().trim())
        .filter_map(|line| {
            for option in options {
                let Some(rest) = line.strip_prefix(option) else {
                    continue;
                };
                // `-rfile` is pip's short form; long options need `=` or whitespace.
                let file = if let Some(value) = rest.strip_prefix('=') {
                    value
                } else if option.len() == 2 || rest.starts_with([' ', '\t']) {
                    rest
                } else {
                    return None;
                };
                let file = file.trim();
                return (!file.is_empty()).then_some(file);
            }
            None
        })
        .collect()
}

/// `path` without `.` components and with `..` applied.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut normalized = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                normalized.pop();
            }
            std::path::Component::CurDir => {}
            other => normalized.push(other),
        }
    }
    normalized
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choose_from(files: &[&str], has_project_table: bool) -> Result<Choice, ChoiceError> {
        choose(&files.iter().copied().collect(), has_project_table)
    }

    #[test]
    fn precedence_and_ignored_files() {
        let choice = choose_from(
            &["uv.lock", "poetry.lock", "requirements.txt", "pyproject.toml"],
            true,
        )
        .unwrap();
        assert_eq!(choice.manager, PackageManager::PipRequirements);
        assert_eq!(choice.ignored, ["poetry.lock", "uv.lock"]);
        assert_eq!(
            choose_from(&["Pipfile", "Pipfile.lock"], false).unwrap().manager,
            PackageManager::Pipenv
        );
        assert_eq!(
            choose_from(&["poetry.lock", "pyproject.toml"], false)
                .unwrap()
                .manager,
            PackageManager::Poetry
        );
        assert_eq!(
            choose_from(&["uv.lock", "pyproject.toml"], true).unwrap().manager,
            PackageManager::Uv
        );
    }

    #[test]
    fn projects_without_lockfiles() {
        let choice = choose_from(&["pyproject.toml"], true).unwrap();
        assert_eq!(
            (choice.manager, choice.file),
            (PackageManager::PipProject, "pyproject.toml")
        );
        assert_eq!(
            choose_from(&["pyproject.toml"], false),
            Err(ChoiceError::PyprojectWithoutDependencies)
        );
        assert_eq!(choose_from(&["setup.py"], false).unwrap().file, "setup.py");
        assert_eq!(
            choose_from(&["Pipfile"], false),
            Err(ChoiceError::PipfileWithoutLock)
        );
        assert_eq!(
            choose_from(&[".python-version"], false),
            Err(ChoiceError::NoDependencyFile)
        );
    }

    #[test]
    fn include_lines() {
        let text = "flask==3.1\n-r base.txt\n--requirement=more/dev.txt # comment\n-c constraints.txt\n\
                    --constraint   pins.txt\n-rnospace.txt\n--requirements-typo.txt\n# -r commented.txt\n";
        assert_eq!(
            includes(text, &INCLUDE_OPTIONS),
            [
                "base.txt",
                "more/dev.txt",
                "constraints.txt",
                "pins.txt",
                "nospace.txt"
            ]
        );
    }

    #[test]
    fn includes_are_followed_relative_to_their_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("requirements")).unwrap();
        std::fs::write(
            dir.path().join("requirements.txt"),
            "-r requirements/base.txt\ngunicorn\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("requirements/base.txt"),
            "-c ../constraints.txt\n-r base.txt\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("constraints.txt"), "flask<4\n").unwrap();
        let choice = choose_from(&["requirements.txt"], false).unwrap();
        assert_eq!(
            dependency_files(&choice, dir.path()),
            ["constraints.txt", "requirements/base.txt", "requirements.txt"].map(PathBuf::from)
        );
    }

    #[test]
    fn the_metadata_of_local_projects_decides_their_dependencies() {
        // `.` and `./lib` install the app's own projects, with the dependencies their metadata names.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lib")).unwrap();
        std::fs::write(
            dir.path().join("requirements.txt"),
            ".\n./lib[extra] ; python_version >= '3'\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("pyproject.toml"), "[project]\nname = 'app'\n").unwrap();
        std::fs::write(dir.path().join("lib/setup.py"), "").unwrap();
        let choice = choose_from(&["requirements.txt", "pyproject.toml"], true).unwrap();
        assert_eq!(
            dependency_files(&choice, dir.path()),
            ["lib/setup.py", "pyproject.toml", "requirements.txt"].map(PathBuf::from)
        );
    }
}
