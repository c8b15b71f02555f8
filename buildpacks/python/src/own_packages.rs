//! The app's own packages: what its source installs into the virtual environment as a copy, not
//! editable — a uv project with a `[build-system]` (and its workspace members and path
//! dependencies), a `.` or `./lib` line in requirements.txt, a local `path` in Pipfile.lock.
//!
//! The `venv` layer is keyed on the dependency files, not on the code, so a reused environment
//! would keep the code (modules and console scripts) of the build that made it. These packages
//! are therefore installed anew from the current source at every build, without their
//! dependencies, which stay as the key says. (Editable installs read the source where it is and
//! need nothing; Poetry's export installs its dependencies only, never the root package.)

use crate::package_manager::{PackageManager, normalize, requirement_files};
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The app's own packages for `manager`: for uv, their names in uv.lock (for
/// `--reinstall-package`); for pip and Pipenv, the requirements as pip takes them (`.`,
/// `./lib[extra]`, `name @ file:///…`). Empty when there are none, or when the lock cannot be
/// read: the installer then reports that itself.
pub(crate) fn find(manager: PackageManager, app_dir: &Path) -> Vec<String> {
    local_requirements(manager, app_dir, false)
}

/// The files, relative to the app, that decide what the app's local packages, editable or not,
/// depend on and which commands they install: a directory's `pyproject.toml`, `setup.py` and
/// `setup.cfg`, or the archive itself. The packages are reinstalled without their dependencies,
/// and editable ones not at all, so a change here must rebuild the environment. For requirements.txt
/// and Pipfile.lock (uv.lock has the dependencies of uv's local packages).
pub(crate) fn metadata_files(manager: PackageManager, app_dir: &Path) -> Vec<PathBuf> {
    metadata_files_of(&local_requirements(manager, app_dir, true))
}

fn local_requirements(manager: PackageManager, app_dir: &Path, with_editable: bool) -> Vec<String> {
    let read = |file: &Path| std::fs::read_to_string(app_dir.join(file)).unwrap_or_default();
    match manager {
        PackageManager::Uv => uv_lock_local_packages(&read(Path::new("uv.lock"))),
        PackageManager::PipRequirements => requirement_files(app_dir)
            .iter()
            .flat_map(|file| requirements(&read(file), with_editable))
            .filter(|requirement| is_local(requirement, app_dir))
            .collect(),
        PackageManager::Pipenv => {
            pipfile_lock_local_packages(&read(Path::new("Pipfile.lock")), with_editable)
        }
        PackageManager::Poetry | PackageManager::PipProject => Vec::new(),
    }
}

/// See [`metadata_files`]; paths outside the app are left out: nothing of theirs is in the image.
fn metadata_files_of(requirements: &[String]) -> Vec<PathBuf> {
    requirements
        .iter()
        .filter_map(|requirement| {
            let path = local_path(requirement)?;
            let path = Path::new(path);
            if path.is_absolute() || path.starts_with("..") {
                return None;
            }
            Some(normalize(path))
        })
        .flat_map(|path| {
            if is_archive(&path.to_string_lossy()) {
                vec![path]
            } else {
                ["pyproject.toml", "setup.py", "setup.cfg"]
                    .map(|file| path.join(file))
                    .to_vec()
            }
        })
        .collect()
}

/// The requirements of a requirements file, one per logical line (continuations joined, comments
/// and options removed, a requirement's own options such as `--hash` cut off); editable ones
/// (`-e ./lib`, `--editable=.`) only `with_editable`.
fn requirements(text: &str, with_editable: bool) -> Vec<String> {
    text.replace("\\\n", " ")
        .lines()
        .filter_map(|line| {
            // pip's comment rule: `#` at the start or after whitespace.
            let line = match line.find(" #").or_else(|| line.find("\t#")) {
                Some(comment) => &line[..comment],
                None => line,
            };
            let line = line.trim();
            let editable = ["--editable=", "--editable ", "-e"]
                .iter()
                .find_map(|option| line.strip_prefix(option));
            let line = match editable {
                Some(requirement) if with_editable => requirement,
                _ => line,
            };
            let words: Vec<&str> = line
                .split_whitespace()
                .take_while(|word| !word.starts_with('-'))
                .collect();
            (!words.is_empty() && !words[0].starts_with('#')).then(|| words.join(" "))
        })
        .collect()
}

/// Whether pip installs `requirement` from the app's files rather than from an index: a path (it
/// starts with `.` or `/`, or has a `/`), a `file:` URL, or an existing archive named alone.
fn is_local(requirement: &str, app_dir: &Path) -> bool {
    match local_path(requirement) {
        Some(path) if is_archive(path) && !path.contains('/') => app_dir.join(path).is_file(),
        Some(_) => true,
        None => requirement.contains("file:"),
    }
}

/// The path of a requirement that names one (`./lib[extra] ; markers` → `./lib`); `None` for
/// names and URLs.
fn local_path(requirement: &str) -> Option<&str> {
    let path = requirement.split(';').next().unwrap_or_default().trim();
    let path = path.split('[').next().unwrap_or_default().trim();
    if path.contains("://") || path.contains(" @ ") || path.starts_with("file:") || path.is_empty() {
        return None;
    }
    (path.starts_with(['.', '/']) || path.contains('/') || is_archive(path)).then_some(path)
}

fn is_archive(path: &str) -> bool {
    [
        ".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar",
    ]
    .iter()
    .any(|extension| path.ends_with(extension))
}

#[derive(Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<UvLockPackage>,
}

#[derive(Deserialize)]
struct UvLockPackage {
    name: String,
    #[serde(default)]
    source: UvLockSource,
}

/// The kinds of source that are the app's files (others, such as `registry`, are ignored).
#[derive(Default, Deserialize)]
struct UvLockSource {
    editable: Option<IgnoredAny>,
    directory: Option<IgnoredAny>,
    path: Option<IgnoredAny>,
}

/// The packages of uv.lock built from the app's files: the project and workspace members
/// (`editable`, which `--no-editable` installs as copies), local directories and archives.
/// Not `virtual` ones: uv installs nothing for those.
fn uv_lock_local_packages(text: &str) -> Vec<String> {
    let Ok(lock) = libtoolforge::toml_file::parse::<UvLock>(text, "uv.lock") else {
        return Vec::new();
    };
    lock.package
        .into_iter()
        .filter(|package| {
            let UvLockSource {
                editable,
                directory,
                path,
            } = &package.source;
            editable.is_some() || directory.is_some() || path.is_some()
        })
        .map(|package| package.name)
        .collect()
}

#[derive(Deserialize)]
struct PipfileLock {
    #[serde(default)]
    default: BTreeMap<String, PipfileLockEntry>,
}

#[derive(Deserialize)]
struct PipfileLockEntry {
    path: Option<String>,
    #[serde(default)]
    editable: bool,
    #[serde(default)]
    extras: Vec<String>,
    markers: Option<String>,
}

/// The `path` entries of Pipfile.lock's default packages (editable ones only `with_editable`), as
/// pip requirements.
fn pipfile_lock_local_packages(text: &str, with_editable: bool) -> Vec<String> {
    let Ok(lock) = serde_json::from_str::<PipfileLock>(text) else {
        return Vec::new();
    };
    lock.default
        .into_values()
        .filter(|entry| with_editable || !entry.editable)
        .filter_map(|entry| {
            let mut requirement = entry.path?;
            if !entry.extras.is_empty() {
                requirement = format!("{requirement}[{}]", entry.extras.join(","));
            }
            if let Some(markers) = entry.markers {
                requirement = format!("{requirement} ; {markers}");
            }
            Some(requirement)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_lines() {
        let text = "flask==3.1 --hash=sha256:abc \\\n    --hash=sha256:def\n# a comment\n-e ./editable\n\
                    -r base.txt\n. # the app itself\n./lib[extra] ; python_version >= '3'\n\n--index-url x\n";
        assert_eq!(
            requirements(text, false),
            ["flask==3.1", ".", "./lib[extra] ; python_version >= '3'"]
        );
        assert_eq!(
            requirements(
                "-e ./editable\n--editable=../other\n-e\tgit+https://x/y.git#egg=y\n.\n",
                true
            ),
            ["./editable", "../other", "git+https://x/y.git#egg=y", "."]
        );
    }

    #[test]
    fn which_requirements_are_local() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app-1.0-py3-none-any.whl"), "").unwrap();
        for local in [
            ".",
            "./lib",
            "lib/",
            "/srv/app",
            "../sibling",
            ".[web]",
            "wheels/x-1.0-py3-none-any.whl",
            "app-1.0-py3-none-any.whl",
            "file:///workspace/lib",
            "app @ file:///workspace",
        ] {
            assert!(is_local(local, dir.path()), "{local}");
        }
        for remote in [
            "flask==3.1",
            "flask[async]>=3 ; python_version >= '3.11'",
            "missing-1.0-py3-none-any.whl",
            "https://example.org/app.tar.gz",
            "git+https://example.org/app.git",
            "app @ https://example.org/app-1.0.tar.gz",
            "zope.interface",
        ] {
            assert!(!is_local(remote, dir.path()), "{remote}");
        }
    }

    #[test]
    fn requirements_txt_with_the_app_itself() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("requirements.txt"),
            "-r more.txt\n-c constraints.txt\nflask==3.1\n-e ./editable\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("more.txt"), ".[web]\n").unwrap();
        std::fs::write(dir.path().join("constraints.txt"), "./not-installed\n").unwrap();
        assert_eq!(find(PackageManager::PipRequirements, dir.path()), [".[web]"]);
        assert_eq!(
            metadata_files_of(&[".[web]".into(), "./lib/".into(), "../x".into(), "/abs".into()]),
            [
                "pyproject.toml",
                "setup.py",
                "setup.cfg",
                "lib/pyproject.toml",
                "lib/setup.py",
                "lib/setup.cfg"
            ]
            .map(PathBuf::from)
        );
        assert_eq!(
            metadata_files_of(&["./wheels/app-1.0-py3-none-any.whl".into()]),
            [PathBuf::from("wheels/app-1.0-py3-none-any.whl")]
        );
    }

    #[test]
    fn uv_lock_packages_built_from_the_app() {
        let lock = r#"
version = 1
revision = 5
requires-python = ">=3.11"

[[package]]
name = "fastapi"
version = "0.165.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "toolforge-greeting"
version = "0.1.0"
source = { editable = "." }

[[package]]
name = "helpers"
version = "1.0"
source = { directory = "lib/helpers" }

[[package]]
name = "vendored"
version = "2.0"
source = { path = "wheels/vendored-2.0-py3-none-any.whl" }

[[package]]
name = "scripts-only"
version = "0.1.0"
source = { virtual = "." }
"#;
        assert_eq!(
            uv_lock_local_packages(lock),
            ["toolforge-greeting", "helpers", "vendored"]
        );
        assert!(uv_lock_local_packages("not toml [").is_empty());
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/python-uv-package");
        assert_eq!(find(PackageManager::Uv, &fixture), ["toolforge-greeting"]);
        let virtual_project =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/python-fastapi-uv");
        assert!(find(PackageManager::Uv, &virtual_project).is_empty());
    }

    #[test]
    fn pipfile_lock_paths_that_are_not_editable() {
        // As Pipenv 2026.10.3 locks `{path = "."}` and `{path = "./lib", editable = true}`.
        let lock = r#"{"_meta": {}, "default": {
            "libby": {"editable": true, "path": "./lib"},
            "requests": {"hashes": ["sha256:x"], "version": "==2.32.3"},
            "toolforge-greeting": {"path": "."},
            "web": {"path": "./web", "extras": ["async", "db"], "markers": "python_version >= '3.11'"}
        }, "develop": {"tool": {"path": "./tool"}}}"#;
        assert_eq!(
            pipfile_lock_local_packages(lock, false),
            [".", "./web[async,db] ; python_version >= '3.11'"]
        );
        assert_eq!(
            pipfile_lock_local_packages(lock, true),
            ["./lib", ".", "./web[async,db] ; python_version >= '3.11'"]
        );
        assert!(pipfile_lock_local_packages("{", false).is_empty());
    }
}
