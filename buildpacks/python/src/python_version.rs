//! Which Python the app asks for, and where it says so.
//!
//! In order: `.python-version`, `runtime.txt` (accepted, with a note), `requires-python` in
//! pyproject.toml, `[requires] python_version` in Pipfile, else the newest release we have.

use libtoolforge::inventory::{Inventory, Release};
use semver::Version;
use std::str::FromStr;

/// What the app asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    /// `3.13` (the newest 3.13.x) or `3.13.5` (exactly).
    Exact {
        major: u64,
        minor: u64,
        patch: Option<u64>,
        origin: Origin,
    },
    /// PEP 440 specifiers (`>=3.12,<3.14`): the newest release satisfying them.
    Specifiers {
        specifiers: pep440_rs::VersionSpecifiers,
        origin: Origin,
    },
    /// Nothing asked: the newest release.
    Newest,
}

/// Where a request came from, with the line it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    PythonVersionFile { line: usize },
    RuntimeTxt { line: usize },
    RequiresPython,
    Pipfile,
}

impl Origin {
    pub(crate) fn file(self) -> &'static str {
        match self {
            Self::PythonVersionFile { .. } => ".python-version",
            Self::RuntimeTxt { .. } => "runtime.txt",
            Self::RequiresPython => "pyproject.toml",
            Self::Pipfile => "Pipfile",
        }
    }

    pub(crate) fn line(self) -> Option<usize> {
        match self {
            Self::PythonVersionFile { line } | Self::RuntimeTxt { line } => Some(line),
            Self::RequiresPython | Self::Pipfile => None,
        }
    }
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
    let (line, content) = first_content_line(text).ok_or(VersionFileError::Empty {
        origin: Origin::PythonVersionFile { line: 1 },
    })?;
    let origin = Origin::PythonVersionFile { line };
    parse_exact(content, origin).ok_or_else(|| VersionFileError::Invalid {
        origin,
        text: content.to_string(),
    })
}

/// Parses `runtime.txt`: `python-3.13.5` (or `python-3.13`).
pub(crate) fn parse_runtime_txt(text: &str) -> Result<Request, VersionFileError> {
    let (line, content) = first_content_line(text).ok_or(VersionFileError::Empty {
        origin: Origin::RuntimeTxt { line: 1 },
    })?;
    let origin = Origin::RuntimeTxt { line };
    content
        .strip_prefix("python-")
        .and_then(|version| parse_exact(version, origin))
        .ok_or_else(|| VersionFileError::Invalid {
            origin,
            text: content.to_string(),
        })
}

/// Parses a PEP 440 `requires-python` (or Pipfile `python_version`) value.
pub(crate) fn parse_specifiers(text: &str, origin: Origin) -> Result<Request, VersionFileError> {
    // Pipfile's python_version is a bare version, meaning that minor version.
    if origin == Origin::Pipfile
        && let Some(request) = parse_exact(text, origin)
    {
        return Ok(request);
    }
    pep440_rs::VersionSpecifiers::from_str(text)
        .map(|specifiers| Request::Specifiers { specifiers, origin })
        .map_err(|error| VersionFileError::InvalidSpecifiers {
            origin,
            text: text.to_string(),
            message: error.to_string(),
        })
}

fn first_content_line(text: &str) -> Option<(usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .find(|(_, line)| !line.is_empty() && !line.starts_with('#'))
}

/// `3.13` or `3.13.5`, nothing else (no `3`, no `3.13.5rc1`, no `pypy`).
fn parse_exact(text: &str, origin: Origin) -> Option<Request> {
    let parts: Vec<&str> = text.split('.').collect();
    let number = |part: &str| -> Option<u64> {
        (!part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    match parts.as_slice() {
        [major, minor] => Some(Request::Exact {
            major: number(major)?,
            minor: number(minor)?,
            patch: None,
            origin,
        }),
        [major, minor, patch] => Some(Request::Exact {
            major: number(major)?,
            minor: number(minor)?,
            patch: Some(number(patch)?),
            origin,
        }),
        _ => None,
    }
}

impl Request {
    pub(crate) fn origin(&self) -> Option<Origin> {
        match self {
            Self::Exact { origin, .. } | Self::Specifiers { origin, .. } => Some(*origin),
            Self::Newest => None,
        }
    }

    pub(crate) fn matches(&self, version: &Version) -> bool {
        match self {
            Self::Exact {
                major, minor, patch, ..
            } => {
                version.major == *major && version.minor == *minor && patch.is_none_or(|p| version.patch == p)
            }
            Self::Specifiers { specifiers, .. } => pep440_rs::Version::from_str(&version.to_string())
                .is_ok_and(|version| specifiers.contains(&version)),
            Self::Newest => true,
        }
    }

    /// The newest release that satisfies the request.
    pub(crate) fn resolve<'a>(&self, inventory: &'a Inventory) -> Option<&'a Release> {
        inventory.newest_matching(|version| version.pre.is_empty() && self.matches(version))
    }
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exact {
                major,
                minor,
                patch: Some(patch),
                ..
            } => write!(f, "{major}.{minor}.{patch}"),
            Self::Exact { major, minor, .. } => write!(f, "{major}.{minor}"),
            Self::Specifiers { specifiers, .. } => write!(f, "{specifiers}"),
            Self::Newest => f.write_str("the newest release"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(request.origin(), Some(Origin::PythonVersionFile { line: 3 }));
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
                origin: Origin::PythonVersionFile { line: 1 }
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
        assert_eq!(request.origin(), Some(Origin::RuntimeTxt { line: 1 }));
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
        let request = parse_specifiers(">=3.12,<3.14", Origin::RequiresPython).unwrap();
        assert_eq!(resolved(&request).as_deref(), Some("3.13.5"));
        let compatible = parse_specifiers("~=3.12.0", Origin::RequiresPython).unwrap();
        assert_eq!(resolved(&compatible).as_deref(), Some("3.12.9"));
        let star = parse_specifiers("==3.14.*", Origin::RequiresPython).unwrap();
        assert_eq!(resolved(&star).as_deref(), Some("3.14.1"));
        assert!(matches!(
            parse_specifiers(">=3.x", Origin::RequiresPython),
            Err(VersionFileError::InvalidSpecifiers { .. })
        ));
    }

    #[test]
    fn pipfile_python_version_is_a_minor() {
        let request = parse_specifiers("3.13", Origin::Pipfile).unwrap();
        assert_eq!(resolved(&request).as_deref(), Some("3.13.5"));
    }

    #[test]
    fn newest() {
        assert_eq!(resolved(&Request::Newest).as_deref(), Some("3.14.1"));
    }
}
