//! Which version of a runtime the app asks for, and where it says so.
//!
//! A buildpack parses its ecosystem's files (`.python-version`, `engines.node`, composer.json's
//! `require.php`, go.mod's `go` line) into a [`VersionRequest`]: the text as the build log
//! shows it, the [`Origin`] (file, line, field) that error messages point at, and a
//! [`VersionMatcher`] with the ecosystem's rules (PEP 440, npm semver, Composer constraints).
//! Resolving it against an [`Inventory`] is then the same for every runtime.

use crate::error::Location;
use crate::inventory::{Inventory, Release};
use semver::Version;
use std::fmt;

/// Where in the app a version request is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file, relative to the app directory (`.python-version`, `package.json`).
    pub file: String,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The field, in a file that says more than the version (`engines.node`); `None` for a file
    /// that only names the version.
    pub field: Option<String>,
}

impl Origin {
    #[must_use]
    pub fn file(file: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: None,
            field: None,
        }
    }

    #[must_use]
    pub fn line(file: impl Into<String>, line: usize) -> Self {
        Self {
            line: Some(line),
            ..Self::file(file)
        }
    }

    /// The same origin at `line`, when known.
    #[must_use]
    pub fn at_line(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }

    #[must_use]
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// For error messages.
    #[must_use]
    pub fn location(&self) -> Location {
        match self.line {
            Some(line) => Location::line(&self.file, line),
            None => Location::file(&self.file),
        }
    }
}

/// `engines.node in package.json`, or the file alone.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field} in {}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

/// An ecosystem's rule for which versions a request allows.
pub trait VersionMatcher {
    /// Whether `version` satisfies the request.
    fn matches(&self, version: &Version) -> bool;

    /// The release the request gets: the newest one it matches, unless the ecosystem prefers
    /// otherwise (a default of "the newest LTS line on the day of the build" prefers lines in
    /// an order of its own; it overrides this).
    fn choose<'a>(&self, inventory: &'a Inventory) -> Option<&'a Release> {
        inventory.newest_matching(|version| self.matches(version))
    }
}

/// What the app asked for; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRequest<M> {
    /// As the build log and messages show it: what the app wrote (normalized by the ecosystem's
    /// parser where it has one), or what a default means (`the newest LTS`).
    pub text: String,
    /// Where the app asks; `None` when it does not and the ecosystem's default applies.
    pub origin: Option<Origin>,
    pub matcher: M,
}

impl<M: VersionMatcher> VersionRequest<M> {
    #[must_use]
    pub fn new(text: impl Into<String>, origin: Option<Origin>, matcher: M) -> Self {
        Self {
            text: text.into(),
            origin,
            matcher,
        }
    }

    /// The release this request gets from `inventory`.
    #[must_use]
    pub fn resolve<'a>(&self, inventory: &'a Inventory) -> Option<&'a Release> {
        self.matcher.choose(inventory)
    }
}

impl<M> fmt::Display for VersionRequest<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::fmt::Write as _;

    pub(crate) fn inventory(versions: &[&str]) -> Inventory {
        let mut text = String::new();
        for version in versions {
            // Infallible: writing to a String.
            let _ = write!(
                text,
                "[[releases]]\nversion = \"{version}\"\nurl = \"https://example.org/{version}.tar.gz\"\n\
                 sha256 = \"{}\"\n",
                "a".repeat(64)
            );
        }
        Inventory::parse(&text, "test", None).unwrap()
    }

    /// A major version, as go.mod's `go 1.24` or a Composer `^8` would match.
    struct Major(u64);

    impl VersionMatcher for Major {
        fn matches(&self, version: &Version) -> bool {
            version.major == self.0
        }
    }

    /// Prefers majors in a given order, as a "newest LTS" default does.
    struct Preferred(Vec<u64>);

    impl VersionMatcher for Preferred {
        fn matches(&self, version: &Version) -> bool {
            self.0.contains(&version.major)
        }

        fn choose<'a>(&self, inventory: &'a Inventory) -> Option<&'a Release> {
            self.0
                .iter()
                .find_map(|major| inventory.newest_matching(|version| version.major == *major))
        }
    }

    #[test]
    fn newest_matching_release_or_the_matchers_own_choice() {
        let inventory = inventory(&["2.1.0", "3.0.1", "2.4.0", "1.9.9"]);
        let request = VersionRequest::new("2", Some(Origin::line("VERSION", 3)), Major(2));
        assert_eq!(request.resolve(&inventory).unwrap().version.to_string(), "2.4.0");
        assert_eq!(request.to_string(), "2");
        assert!(
            VersionRequest::new("4", None, Major(4))
                .resolve(&inventory)
                .is_none()
        );
        let preferred = VersionRequest::new("the newest LTS", None, Preferred(vec![1, 3]));
        assert_eq!(
            preferred.resolve(&inventory).unwrap().version.to_string(),
            "1.9.9"
        );
    }

    #[test]
    fn origins() {
        let origin = Origin::file("package.json")
            .field("engines.node")
            .at_line(Some(4));
        assert_eq!(origin.to_string(), "engines.node in package.json");
        assert_eq!(origin.location(), Location::line("package.json", 4));
        assert_eq!(Origin::line(".nvmrc", 2).to_string(), ".nvmrc");
        assert_eq!(Origin::file("Pipfile").location(), Location::file("Pipfile"));
    }
}
