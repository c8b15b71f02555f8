//! Which Python the app asks for, and where it says so.
//!
//! In order: `.python-version`, `runtime.txt` (accepted, with a note), `requires-python` in
//! pyproject.toml, `[requires] python_version` in Pipfile, else the newest release we have.

use libtoolforge::version_request::{Origin, VersionMatcher, VersionRequest};
use semver::Version;
use std::str::FromStr;

pub(crate) const PYTHON_VERSION_FILE: &str = ".python-version";
pub(crate) const RUNTIME_TXT: &str = "runtime.txt";

/// What the app asked for, and where.
pub(crate) type Request = VersionRequest<PythonVersion>;

/// Python's rules for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PythonVersion {
    /// `3.13` (the newest 3.13.x) or `3.13.5` (exactly).
    Exact {
        major: u64,
        minor: u64,
        patch: Option<u64>,
    },
    /// PEP 440 specifiers (`>=3.12,<3.14`): the newest release satisfying them.
    Specifiers(pep440_rs::VersionSpecifiers),
    /// Nothing asked: the newest release.
    Newest,
}

impl VersionMatcher for PythonVersion {
    fn matches(&self, version: &Version) -> bool {
        version.pre.is_empty()
            && match self {
                Self::Exact { major, minor, patch } => {
                    version.major == *major
                        && version.minor == *minor
                        && patch.is_none_or(|patch| version.patch == patch)
                }
                Self::Specifiers(specifiers) => pep440_rs::Version::from_str(&version.to_string())
                    .is_ok_and(|version| specifiers.contains(&version)),
                Self::Newest => true,
            }
    }
}

impl std::fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exact {
                major,
                minor,
                patch: Some(patch),
            } => write!(f, "{major}.{minor}.{patch}"),
            Self::Exact { major, minor, .. } => write!(f, "{major}.{minor}"),
            Self::Specifiers(specifiers) => write!(f, "{specifiers}"),
            Self::Newest => f.write_str("the newest release"),
        }
    }
}

fn request(version: PythonVersion, origin: Option<Origin>) -> Request {
    VersionRequest::new(version.to_string(), origin, version)
}

/// No file asks: the newest release.
pub(crate) fn newest() -> Request {
    request(PythonVersion::Newest, None)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VersionFileError {
    /// The file has no version line.
    Empty { origin: Origin },
    /// A line that is not a version we understand.
    Invalid { origin: Origin, text: String },
    /// `requires-python` that is not PEP 440.
    InvalidSpecifiers {
        origin: Origin,
        text: String,
        message: String,
    },
}

/// Parses `.python-version`: the first line that is not blank or a comment.
pub(crate) fn parse_python_version_file(text: &str) -> Result<Request, VersionFileError> {
    let (origin, content) = first_content_line(text, PYTHON_VERSION_FILE)?;
    parse_exact(content)
        .map(|version| request(version, Some(origin.clone())))
        .ok_or_else(|| VersionFileError::Invalid {
            origin,
            text: content.to_string(),
        })
}

/// Parses `runtime.txt`: `python-3.13.5` (or `python-3.13`).
pub(crate) fn parse_runtime_txt(text: &str) -> Result<Request, VersionFileError> {
    let (origin, content) = first_content_line(text, RUNTIME_TXT)?;
    content
        .strip_prefix("python-")
        .and_then(parse_exact)
        .map(|version| request(version, Some(origin.clone())))
        .ok_or_else(|| VersionFileError::Invalid {
            origin,
            text: content.to_string(),
        })
}

/// Parses pyproject.toml's PEP 440 `requires-python`.
pub(crate) fn parse_requires_python(text: &str) -> Result<Request, VersionFileError> {
    parse_specifiers(text, Origin::file("pyproject.toml"))
}

/// Parses Pipfile's `python_version`: a bare version, meaning that minor version, or specifiers.
pub(crate) fn parse_pipfile_version(text: &str) -> Result<Request, VersionFileError> {
    let origin = Origin::file("Pipfile");
    match parse_exact(text) {
        Some(version) => Ok(request(version, Some(origin))),
        None => parse_specifiers(text, origin),
    }
}

fn parse_specifiers(text: &str, origin: Origin) -> Result<Request, VersionFileError> {
    match pep440_rs::VersionSpecifiers::from_str(text) {
        Ok(specifiers) => Ok(request(PythonVersion::Specifiers(specifiers), Some(origin))),
        Err(error) => Err(VersionFileError::InvalidSpecifiers {
            origin,
            text: text.to_string(),
            message: error.to_string(),
        }),
    }
}

/// The first line that is not blank or a comment, and where it is.
fn first_content_line<'a>(text: &'a str, file: &str) -> Result<(Origin, &'a str), VersionFileError> {
    text.lines()
        .enumerate()
        .map(|(index, line)| (Origin::line(file, index + 1), line.trim()))
        .find(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .ok_or_else(|| VersionFileError::Empty {
            origin: Origin::line(file, 1),
        })
}

/// `3.13` or `3.13.5`, nothing else (no `3`, no `3.13.5rc1`, no `pypy`).
fn parse_exact(text: &str) -> Option<PythonVersion> {
    let parts: Vec<&str> = text.split('.').collect();
    let number = |part: &str| -> Option<u64> {
        (!part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    match parts.as_slice() {
        [major, minor] => Some(PythonVersion::Exact {
            major: number(major)?,
            minor: number(minor)?,
            patch: None,
        }),
        [major, minor, patch] => Some(PythonVersion::Exact {
            major: number(major)?,
            minor: number(minor)?,
            patch: Some(number(patch)?),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libtoolforge::inventory::Inventory;

    fn inventory() -> Inventory {
        let release = |version: &str| {
            format!(
                "[[releases]]\nversion = \"{version}\"\nurl = \"https://x/{version}\"\nsha256 = \"{}\"\n",
                "a".repeat(64)
            )
        };
        let text: String = ["3.12.9", "3.13.4", "3.13.5", "3.14.0", "3.14.1"]
            .map(release)
            .concat();
        Inventory::parse(&text, "test", None).unwrap()
    }

    fn resolved(request: &Request) -> Option<String> {
        request
            .resolve(&inventory())
            .map(|release| release.version.to_string())
    }

    #[test]
    fn python_version_file() {
        let request = parse_python_version_file("# pinned\n\n3.13\n").unwrap();
        assert_eq!(request.origin, Some(Origin::line(".python-version", 3)));
        assert_eq!(resolved(&request).as_deref(), Some("3.13.5"));
        let exact = parse_python_version_file("3.13.4\r\n").unwrap();
        assert_eq!(resolved(&exact).as_deref(), Some("3.13.4"));
        assert_eq!(resolved(&parse_python_version_file("3.11").unwrap()), None);
    }

    #[test]
    fn python_version_file_errors() {
        assert_eq!(
            parse_python_version_file("# only a comment\n"),
            Err(VersionFileError::Empty {
                origin: Origin::line(".python-version", 1)
            })
        );
        for text in [
            "3",
            "python-3.13",
            "3.13.5rc1",
            "pypy3.10",
            "3.13.x",
            "3..13",
            " 3.13 3.14",
        ] {
            assert!(
                matches!(
                    parse_python_version_file(text),
                    Err(VersionFileError::Invalid { .. })
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn runtime_txt() {
        let request = parse_runtime_txt("python-3.13.5\n").unwrap();
        assert_eq!(request.origin, Some(Origin::line("runtime.txt", 1)));
        assert_eq!(resolved(&request).as_deref(), Some("3.13.5"));
        assert_eq!(
            resolved(&parse_runtime_txt("python-3.14").unwrap()).as_deref(),
            Some("3.14.1")
        );
        assert!(matches!(
            parse_runtime_txt("3.13.5"),
            Err(VersionFileError::Invalid { .. })
        ));
    }

    #[test]
    fn requires_python() {
        let request = parse_requires_python(">=3.12,<3.14").unwrap();
        assert_eq!(resolved(&request).as_deref(), Some("3.13.5"));
        let compatible = parse_requires_python("~=3.12.0").unwrap();
        assert_eq!(resolved(&compatible).as_deref(), Some("3.12.9"));
        let star = parse_requires_python("==3.14.*").unwrap();
        assert_eq!(resolved(&star).as_deref(), Some("3.14.1"));
        assert!(matches!(
            parse_requires_python(">=3.x"),
            Err(VersionFileError::InvalidSpecifiers { .. })
        ));
    }

    #[test]
    fn pipfile_python_version_is_a_minor() {
        let request = parse_pipfile_version("3.13").unwrap();
        assert_eq!(resolved(&request).as_deref(), Some("3.13.5"));
    }

    #[test]
    fn the_newest_by_default() {
        assert_eq!(resolved(&super::newest()).as_deref(), Some("3.14.1"));
    }
}
