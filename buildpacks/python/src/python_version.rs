//! Which Python the app asks for, and where it says so.
//!
//! In order: `.python-version`, `runtime.txt` (accepted, with a note), `requires-python` and
//! Poetry's `[tool.poetry.dependencies] python` in pyproject.toml (both, when both are there),
//! `[requires] python_version` in Pipfile, else the newest release we have.

use libtoolforge::inventory::{Inventory, Release};
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
    /// Any of these (Poetry's `~3.11 || ~3.12`): the newest release satisfying one.
    AnyOf(Vec<pep440_rs::VersionSpecifiers>),
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
                Self::AnyOf(alternatives) => {
                    pep440_rs::Version::from_str(&version.to_string()).is_ok_and(|version| {
                        alternatives
                            .iter()
                            .any(|specifiers| specifiers.contains(&version))
                    })
                }
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
            Self::AnyOf(alternatives) => {
                let alternatives: Vec<String> = alternatives.iter().map(ToString::to_string).collect();
                f.write_str(&alternatives.join(" || "))
            }
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
    /// Poetry's `python` that is not a Poetry version constraint.
    InvalidPoetryConstraint {
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

/// Parses pyproject.toml's PEP 440 `requires-python`, found on `line`.
pub(crate) fn parse_requires_python(text: &str, line: Option<usize>) -> Result<Request, VersionFileError> {
    parse_specifiers(text, Origin::file(PYPROJECT_TOML).at_line(line))
}

const PYPROJECT_TOML: &str = "pyproject.toml";
const POETRY_PYTHON: &str = "tool.poetry.dependencies.python";

/// Parses Poetry's `[tool.poetry.dependencies] python`, found on `line`: Poetry's constraints
/// (`^3.11`, `~3.11`, `>=3.9,<3.13`, `>=3.9 <3.13`, `3.11.*`, `*`, alternatives joined by `||`)
/// as PEP 440. A bare `3.11` means any 3.11.x, as in `.python-version`.
pub(crate) fn parse_poetry_python(text: &str, line: Option<usize>) -> Result<Request, VersionFileError> {
    let origin = Origin::file(PYPROJECT_TOML).field(POETRY_PYTHON).at_line(line);
    let invalid = |message: String| VersionFileError::InvalidPoetryConstraint {
        origin: origin.clone(),
        text: text.to_string(),
        message,
    };
    let mut alternatives = text
        .split("||")
        .map(|alternative| poetry_to_pep440(alternative).map_err(&invalid))
        .collect::<Result<Vec<_>, _>>()?;
    let matcher = if alternatives.len() == 1 {
        PythonVersion::Specifiers(alternatives.remove(0))
    } else {
        PythonVersion::AnyOf(alternatives)
    };
    Ok(VersionRequest::new(text.trim(), Some(origin), matcher))
}

/// One of Poetry's alternatives, its constraints separated by commas or spaces, as PEP 440.
fn poetry_to_pep440(alternative: &str) -> Result<pep440_rs::VersionSpecifiers, String> {
    let mut constraints: Vec<String> = Vec::new();
    for part in alternative.split(',') {
        let mut pending_operator: Option<&str> = None;
        let mut found = false;
        for word in part.split_whitespace() {
            // `>= 3.9`: an operator on its own belongs to the next word.
            if word.chars().all(|c| "<>=!~^".contains(c)) {
                pending_operator = Some(word);
                continue;
            }
            let constraint = format!("{}{word}", pending_operator.take().unwrap_or(""));
            constraints.extend(poetry_constraint(&constraint)?);
            found = true;
        }
        if let Some(operator) = pending_operator {
            return Err(format!("`{operator}` is not followed by a version"));
        }
        if !found {
            return Err("a constraint is empty".to_string());
        }
    }
    pep440_rs::VersionSpecifiers::from_str(&constraints.join(",")).map_err(|error| error.to_string())
}

/// One constraint as PEP 440 specifiers; none for `*`.
fn poetry_constraint(constraint: &str) -> Result<Vec<String>, String> {
    if constraint == "*" {
        return Ok(Vec::new());
    }
    let bounded = |version: &str, bumped: usize| -> Result<Vec<String>, String> {
        let parts = release_parts(version)
            .ok_or_else(|| format!("`{constraint}` does not name a version (digits and dots)"))?;
        let mut upper: Vec<u64> = parts[..=bumped.min(parts.len() - 1)].to_vec();
        if let Some(last) = upper.last_mut() {
            *last += 1;
        }
        let upper: Vec<String> = upper.iter().map(ToString::to_string).collect();
        Ok(vec![format!(">={version}"), format!("<{}", upper.join("."))])
    };
    if let Some(version) = constraint.strip_prefix('^') {
        // The first non-zero part may not change: ^3.11 → <4, ^0.2.3 → <0.3.
        let parts = release_parts(version).unwrap_or_default();
        let first_non_zero = parts
            .iter()
            .position(|part| *part != 0)
            .unwrap_or(parts.len().saturating_sub(1));
        return bounded(version, first_non_zero);
    }
    if let Some(version) = constraint.strip_prefix('~').filter(|rest| !rest.starts_with('=')) {
        // ~3 → <4, ~3.11 and ~3.11.2 → <3.12.
        return bounded(version, 1);
    }
    if constraint.starts_with(|c: char| c.is_ascii_digit()) {
        return Ok(vec![match release_parts(constraint) {
            Some(parts) if parts.len() == 2 => format!("=={constraint}.*"),
            _ => format!("=={constraint}"),
        }]);
    }
    Ok(vec![constraint.to_string()])
}

/// `3.11.2` as its numbers; `None` unless it is only digits and dots.
fn release_parts(version: &str) -> Option<Vec<u64>> {
    version.split('.').map(|part| part.parse().ok()).collect()
}

/// Both of pyproject.toml's constraints apply: Poetry requires its `python` to lie within
/// `requires-python`, and the app is locked for what both allow. Located at Poetry's line.
pub(crate) fn both_pyproject_constraints(requires_python: Request, poetry: Request) -> Request {
    let alternatives = |matcher: PythonVersion| match matcher {
        PythonVersion::Specifiers(specifiers) => vec![specifiers],
        PythonVersion::AnyOf(alternatives) => alternatives,
        PythonVersion::Exact { .. } | PythonVersion::Newest => vec![pep440_rs::VersionSpecifiers::empty()],
    };
    let required = alternatives(requires_python.matcher);
    let matcher = PythonVersion::AnyOf(
        alternatives(poetry.matcher)
            .into_iter()
            .flat_map(|poetry| {
                required
                    .iter()
                    .map(move |required| required.iter().chain(poetry.iter()).cloned().collect())
            })
            .collect(),
    );
    let origin = Origin::file(PYPROJECT_TOML)
        .field(format!("requires-python and {POETRY_PYTHON}"))
        .at_line(poetry.origin.and_then(|origin| origin.line));
    VersionRequest::new(
        format!("{} and {}", requires_python.text, poetry.text),
        Some(origin),
        matcher,
    )
}

/// A Python the app did not pin exactly (the default, or the newest in a range), and the
/// newest older one its constraints allow: what to pin when its dependencies prove older than
/// the chosen one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnpinnedChoice {
    /// The release chosen: `3.13.5`.
    pub(crate) chosen: String,
    /// [`VersionRequest::text`]: `the newest release`, `^3.11`.
    pub(crate) requested: String,
    /// Where the range is written; `None` for the default.
    pub(crate) origin: Option<Origin>,
    /// The line for `.python-version`: `3.11`.
    pub(crate) older: String,
}

/// `Some` when `request` is not an exact version and `inventory` has an older minor version
/// than `chosen` that it allows.
pub(crate) fn unpinned_choice(
    request: &Request,
    chosen: &Release,
    inventory: &Inventory,
) -> Option<UnpinnedChoice> {
    if matches!(request.matcher, PythonVersion::Exact { .. }) {
        return None;
    }
    let minor = |version: &Version| (version.major, version.minor);
    let older = inventory.newest_matching(|version| {
        minor(version) < minor(&chosen.version) && request.matcher.matches(version)
    })?;
    Some(UnpinnedChoice {
        chosen: chosen.version.to_string(),
        requested: request.text.clone(),
        origin: request.origin.clone(),
        older: format!("{}.{}", older.version.major, older.version.minor),
    })
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
        let request = parse_requires_python(">=3.12,<3.14", Some(4)).unwrap();
        assert_eq!(request.origin, Some(Origin::line("pyproject.toml", 4)));
        assert_eq!(resolved(&request).as_deref(), Some("3.13.5"));
        let compatible = parse_requires_python("~=3.12.0", None).unwrap();
        assert_eq!(resolved(&compatible).as_deref(), Some("3.12.9"));
        let star = parse_requires_python("==3.14.*", None).unwrap();
        assert_eq!(resolved(&star).as_deref(), Some("3.14.1"));
        assert!(matches!(
            parse_requires_python(">=3.x", None),
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

    #[test]
    fn poetry_python_constraints() {
        let request = parse_poetry_python("^3.13", Some(9)).unwrap();
        assert_eq!(request.to_string(), "^3.13");
        assert_eq!(
            request.origin,
            Some(
                Origin::file("pyproject.toml")
                    .field("tool.poetry.dependencies.python")
                    .at_line(Some(9))
            )
        );
        assert_eq!(resolved(&request).as_deref(), Some("3.14.1"));
        for (constraint, expected) in [
            ("~3.13", Some("3.13.5")),
            ("~3.13.5", Some("3.13.5")),
            ("^3.12.9", Some("3.14.1")),
            ("^3", Some("3.14.1")),
            ("~3", Some("3.14.1")),
            (">=3.12,<3.14", Some("3.13.5")),
            (">=3.12 <3.14", Some("3.13.5")),
            (">= 3.12, < 3.13", Some("3.12.9")),
            ("~=3.12.0", Some("3.12.9")),
            ("3.13", Some("3.13.5")),
            ("3.13.4", Some("3.13.4")),
            ("==3.13.4", Some("3.13.4")),
            ("3.12.*", Some("3.12.9")),
            ("*", Some("3.14.1")),
            ("~3.12 || ~3.13", Some("3.13.5")),
            (">=3.14,<3.14.1 || 3.12", Some("3.14.0")),
            ("^4.0", None),
            ("^2.7", None),
        ] {
            let request = parse_poetry_python(constraint, None).unwrap();
            assert_eq!(resolved(&request).as_deref(), expected, "{constraint}");
        }
        for invalid in ["^three", ">=3.x", "~", "^", "", "^3.13 ||", ">=", "3.13,,<4"] {
            assert!(
                matches!(
                    parse_poetry_python(invalid, Some(2)),
                    Err(VersionFileError::InvalidPoetryConstraint { .. })
                ),
                "{invalid}"
            );
        }
    }

    #[test]
    fn requires_python_and_poetrys_python_both_apply() {
        let both = both_pyproject_constraints(
            parse_requires_python(">=3.12", Some(5)).unwrap(),
            parse_poetry_python("<3.14 || >=3.14.1", Some(9)).unwrap(),
        );
        assert_eq!(resolved(&both).as_deref(), Some("3.14.1"));
        let both = both_pyproject_constraints(
            parse_requires_python(">=3.12", Some(5)).unwrap(),
            parse_poetry_python("<3.14", Some(9)).unwrap(),
        );
        assert_eq!(resolved(&both).as_deref(), Some("3.13.5"));
        assert_eq!(both.to_string(), ">=3.12 and <3.14");
        let origin = both.origin.unwrap();
        assert_eq!(
            origin.to_string(),
            "requires-python and tool.poetry.dependencies.python in pyproject.toml"
        );
        assert_eq!(origin.line, Some(9));
    }

    #[test]
    fn an_older_python_the_app_allows() {
        let inventory = inventory();
        let older = |request: &Request| {
            let chosen = request.resolve(&inventory).unwrap();
            unpinned_choice(request, chosen, &inventory).map(|choice| choice.older)
        };
        assert_eq!(older(&super::newest()).as_deref(), Some("3.13"));
        assert_eq!(
            older(&parse_poetry_python("^3.12", Some(3)).unwrap()).as_deref(),
            Some("3.13")
        );
        assert_eq!(
            older(&parse_requires_python(">=3.12,!=3.13.*", None).unwrap()).as_deref(),
            Some("3.12")
        );
        assert_eq!(
            older(&parse_requires_python("<3.14", None).unwrap()).as_deref(),
            Some("3.12")
        );
        assert_eq!(older(&parse_requires_python(">=3.14", None).unwrap()), None);
        // A version the app pinned is its own choice.
        assert_eq!(older(&parse_python_version_file("3.14").unwrap()), None);
        assert_eq!(older(&parse_pipfile_version("3.13").unwrap()), None);

        let request = parse_poetry_python("^3.12", Some(3)).unwrap();
        let chosen = request.resolve(&inventory).unwrap();
        assert_eq!(
            unpinned_choice(&request, chosen, &inventory),
            Some(UnpinnedChoice {
                chosen: "3.14.1".into(),
                requested: "^3.12".into(),
                origin: request.origin.clone(),
                older: "3.13".into(),
            })
        );
    }
}
