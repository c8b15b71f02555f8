//! What the build reads from go.mod: the Go version it asks for (the `toolchain` line, Heroku's
//! `// +heroku goVersion` comment, the `go` line), and the packages Heroku's
//! `// +heroku install` comment names.

use libtoolforge::error::ErrorMessage;
use libtoolforge::version_request::{Origin, VersionMatcher, VersionRequest};
use semver::Version;

pub(crate) const FILE: &str = "go.mod";

/// The lines of go.mod this buildpack reads, with their 1-based line numbers.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct GoMod {
    go: Option<(String, usize)>,
    toolchain: Option<(String, usize)>,
    heroku_go_version: Option<(String, usize)>,
    /// `// +heroku install ./cmd/...`: the packages, when the comment is there.
    pub(crate) heroku_install: Option<Vec<String>>,
}

/// A Go version request as Go 1.21 and later read it: `1.25` is 1.25.0 or newer, `1.25.3` that
/// patch or newer; both within their minor version (a newer minor may break the build).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GoVersion {
    /// `None`: any release (the newest, when the app asks for none).
    minor: Option<u64>,
    at_least_patch: u64,
}

impl GoVersion {
    pub(crate) const ANY: Self = Self {
        minor: None,
        at_least_patch: 0,
    };
}

impl VersionMatcher for GoVersion {
    fn matches(&self, version: &Version) -> bool {
        version.major == 1
            && self
                .minor
                .is_none_or(|minor| version.minor == minor && version.patch >= self.at_least_patch)
    }
}

/// A line of go.mod (or the project.toml setting) naming a version this buildpack cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidVersion {
    pub(crate) text: String,
    pub(crate) origin: Origin,
}

impl InvalidVersion {
    pub(crate) fn message(&self) -> ErrorMessage {
        ErrorMessage::app(
            "Invalid Go version",
            format!("`{}` ({}) is not a Go version.", self.text, self.origin),
        )
        .at(self.origin.location())
        .fix("name a Go release as go.mod does: `go 1.25` or `go 1.25.3`.")
    }
}

impl GoMod {
    pub(crate) fn parse(text: &str) -> Self {
        let mut go_mod = Self::default();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.trim();
            if let Some(comment) = line.strip_prefix("//") {
                let mut words = comment.split_whitespace();
                match (words.next(), words.next()) {
                    (Some("+heroku"), Some("goVersion")) => {
                        go_mod.heroku_go_version = words.next().map(|version| (version.to_string(), number));
                    }
                    (Some("+heroku"), Some("install")) => {
                        go_mod.heroku_install = Some(words.map(ToString::to_string).collect());
                    }
                    _ => {}
                }
                continue;
            }
            let directive = line.split("//").next().unwrap_or_default();
            let mut words = directive.split_whitespace();
            match (words.next(), words.next()) {
                (Some("go"), Some(version)) => go_mod.go = Some((version.to_string(), number)),
                (Some("toolchain"), Some(version)) => go_mod.toolchain = Some((version.to_string(), number)),
                _ => {}
            }
        }
        go_mod
    }

    /// The app's request: go.mod's `toolchain` line, else Heroku's `goVersion` comment, else the
    /// `go` line, else `[org.toolforge.go] version`; `None` when nothing asks.
    pub(crate) fn version_request(
        &self,
        config_version: Option<&str>,
    ) -> Result<Option<VersionRequest<GoVersion>>, InvalidVersion> {
        let from_go_mod = [&self.toolchain, &self.heroku_go_version, &self.go]
            .into_iter()
            .flatten()
            .next()
            .map(|(text, line)| (text.as_str(), Origin::line(FILE, *line)));
        let from_config = config_version.map(|text| {
            (
                text,
                Origin::file("project.toml").field("[org.toolforge.go] version"),
            )
        });
        let Some((text, origin)) = from_go_mod.or(from_config) else {
            return Ok(None);
        };
        let matcher = parse_version(text).ok_or_else(|| InvalidVersion {
            text: text.to_string(),
            origin: origin.clone(),
        })?;
        Ok(Some(VersionRequest::new(text, Some(origin), matcher)))
    }
}

/// `1.25`, `1.25.3`, `go1.25.3` (the toolchain line's form); a pre-release (`1.26rc1`) asks for
/// its minor version's releases.
fn parse_version(text: &str) -> Option<GoVersion> {
    let text = text.strip_prefix("go").unwrap_or(text);
    let mut parts = text.splitn(3, '.');
    let (major, minor) = (parts.next()?, parts.next()?);
    let digits = |part: &str| -> Option<u64> {
        let end = part.find(|c: char| !c.is_ascii_digit()).unwrap_or(part.len());
        part[..end].parse().ok()
    };
    let minor_is_pre_release = minor.contains(|c: char| !c.is_ascii_digit());
    let patch = match parts.next() {
        Some(patch) if !minor_is_pre_release => patch.parse().ok()?,
        Some(_) => return None,
        None => 0,
    };
    (major == "1").then_some(GoVersion {
        minor: Some(digits(minor)?),
        at_least_patch: patch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(go_mod: &str, config: Option<&str>) -> Option<(String, Option<usize>, GoVersion)> {
        GoMod::parse(go_mod)
            .version_request(config)
            .unwrap()
            .map(|request| {
                (
                    request.text,
                    request.origin.and_then(|origin| origin.line),
                    request.matcher,
                )
            })
    }

    fn go(minor: u64, at_least_patch: u64) -> GoVersion {
        GoVersion {
            minor: Some(minor),
            at_least_patch,
        }
    }

    #[test]
    fn the_toolchain_line_then_heroku_then_the_go_line_then_project_toml() {
        let go_mod = "module example.com/tool\n\ngo 1.24 // the language version\n";
        assert_eq!(request(go_mod, None), Some(("1.24".into(), Some(3), go(24, 0))));
        let with_toolchain = format!("{go_mod}\ntoolchain go1.25.3\n");
        assert_eq!(
            request(&with_toolchain, None),
            Some(("go1.25.3".into(), Some(5), go(25, 3)))
        );
        let heroku = "// +heroku goVersion go1.23\nmodule example.com/tool\ngo 1.21\n";
        assert_eq!(request(heroku, None), Some(("go1.23".into(), Some(1), go(23, 0))));
        let (text, line, matcher) = request("module example.com/tool\n", Some("1.26.2")).unwrap();
        assert_eq!((text.as_str(), line, matcher), ("1.26.2", None, go(26, 2)));
        assert_eq!(request("module example.com/tool\n", None), None);
    }

    #[test]
    fn go_1_21_semantics() {
        let at_least = go(25, 3);
        assert!(at_least.matches(&Version::new(1, 25, 3)));
        assert!(at_least.matches(&Version::new(1, 25, 9)));
        assert!(!at_least.matches(&Version::new(1, 25, 2)));
        assert!(!at_least.matches(&Version::new(1, 26, 0)));
        assert_eq!(parse_version("1.26rc1"), Some(go(26, 0)));
        for invalid in ["2.0", "1", "1.x", "banana", "1.25.x"] {
            assert_eq!(parse_version(invalid), None, "{invalid}");
        }
    }

    #[test]
    fn heroku_install_comment() {
        let go_mod = GoMod::parse("module x\n// +heroku install ./cmd/web ./cmd/job\n");
        assert_eq!(go_mod.heroku_install.unwrap(), ["./cmd/web", "./cmd/job"]);
    }

    #[test]
    fn an_invalid_go_line_names_its_line() {
        let error = GoMod::parse("module x\n\ngo one.two\n")
            .version_request(None)
            .unwrap_err();
        insta::assert_snapshot!(error.message().render());
    }
}
