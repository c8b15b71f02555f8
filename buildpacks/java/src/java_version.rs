//! Which Java the app asks for, where it says so, and which of the JDKs this builder has it gets.
//!
//! The request is the first of: `java.runtime.version` in system.properties (Heroku's
//! convention), `[org.toolforge.java] version` in project.toml, pom.xml's
//! `maven.compiler.release` or `java.version` property, a Gradle toolchain's `languageVersion`.
//! Versions are feature releases (`17`); `1.8`, `17.0.2` and a vendor prefix (`zulu-17`) read as
//! their feature release.

use libtoolforge::error::ErrorMessage;
use libtoolforge::version_request::Origin;

pub(crate) const SYSTEM_PROPERTIES: &str = "system.properties";

/// The Java feature release the app asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JavaRequest {
    pub(crate) major: u32,
    /// As the app wrote it.
    pub(crate) text: String,
    pub(crate) origin: Origin,
}

impl JavaRequest {
    /// `text` at `origin`, or an error naming it when it is not a Java version.
    pub(crate) fn parse(text: &str, origin: Origin) -> Result<Self, InvalidVersion> {
        feature_release(text)
            .map(|major| Self {
                major,
                text: text.trim().to_string(),
                origin: origin.clone(),
            })
            .ok_or_else(|| InvalidVersion {
                text: text.trim().to_string(),
                origin,
            })
    }
}

/// `17`, `17.0.2`, `1.8`, `1.8.0_292`, `zulu-17`, `openjdk-21.0.1`: the feature release.
fn feature_release(text: &str) -> Option<u32> {
    let text = text.trim();
    // A vendor prefix, as Heroku accepts (`zulu-21`, `heroku-21`): what follows its dash.
    let version = match text.split_once('-') {
        Some((vendor, rest)) if vendor.chars().all(|c| c.is_ascii_alphabetic()) => rest,
        _ => text,
    };
    let mut parts = version.split(['.', '_', '+', '-']);
    let first: u32 = parts.next()?.parse().ok()?;
    let major = if first == 1 {
        parts.next()?.parse().ok()?
    } else {
        first
    };
    (major >= 1).then_some(major)
}

/// A version this buildpack cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidVersion {
    pub(crate) text: String,
    pub(crate) origin: Origin,
}

impl InvalidVersion {
    pub(crate) fn message(&self) -> ErrorMessage {
        ErrorMessage::app(
            "Invalid Java version",
            format!("`{}` ({}) is not a Java version.", self.text, self.origin),
        )
        .at(self.origin.location())
        .fix("name a Java feature release, as in `java.runtime.version=21` in system.properties.")
    }
}

/// `java.runtime.version` in system.properties (Java's properties format: `key=value`,
/// `key: value` or `key value`; `#` and `!` start comments), with its line.
pub(crate) fn from_system_properties(text: &str) -> Result<Option<JavaRequest>, InvalidVersion> {
    for (index, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some(rest) = line.strip_prefix("java.runtime.version") else {
            continue;
        };
        let value = rest.trim_start();
        let value = value.strip_prefix(['=', ':']).unwrap_or(value).trim();
        let origin = Origin::line(SYSTEM_PROPERTIES, index + 1).field("java.runtime.version");
        return JavaRequest::parse(value, origin).map(Some);
    }
    Ok(None)
}

/// `languageVersion = JavaLanguageVersion.of(17)` (Groovy or Kotlin DSL) in a Gradle build
/// script, with its line; `None` when the script says it otherwise (a variable, say).
pub(crate) fn from_gradle(file: &str, text: &str) -> Option<JavaRequest> {
    text.lines().enumerate().find_map(|(index, line)| {
        let after = line.split_once("JavaLanguageVersion.of(")?.1;
        let number = after.split(')').next()?.trim().trim_matches(['"', '\'']);
        let origin = Origin::line(file, index + 1).field("the toolchain's languageVersion");
        JavaRequest::parse(number, origin).ok()
    })
}

/// The JDK a request gets among the feature releases available (ascending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    pub(crate) major: u32,
    /// Set when the app asked for a release this builder lacks and gets the next newer one.
    pub(crate) instead_of: Option<JavaRequest>,
}

/// Long-term support releases: 8, 11, 17, then every fourth from 21
/// (<https://www.oracle.com/java/technologies/java-se-support-roadmap.html>).
fn is_lts(major: u32) -> bool {
    matches!(major, 8 | 11 | 17) || (major >= 21 && (major - 21).is_multiple_of(4))
}

/// The release for `request`: the one asked for when available; an older one than this
/// builder has gets the oldest newer release it has (Java runs older bytecode, and the build
/// keeps the app's own `--release`); no request gets the newest LTS release.
pub(crate) fn choose(request: Option<&JavaRequest>, available: &[u32]) -> Result<Choice, NotAvailable> {
    let Some(request) = request else {
        let newest_lts = available.iter().rev().find(|major| is_lts(**major));
        return newest_lts
            .or(available.last())
            .map(|major| Choice {
                major: *major,
                instead_of: None,
            })
            .ok_or_else(|| NotAvailable {
                request: None,
                available: Vec::new(),
            });
    };
    match available.iter().find(|major| **major >= request.major) {
        Some(major) if *major == request.major => Ok(Choice {
            major: *major,
            instead_of: None,
        }),
        Some(major) => Ok(Choice {
            major: *major,
            instead_of: Some(request.clone()),
        }),
        None => Err(NotAvailable {
            request: Some(request.clone()),
            available: available.to_vec(),
        }),
    }
}

/// A request newer than every JDK this builder has (or no JDK at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotAvailable {
    pub(crate) request: Option<JavaRequest>,
    pub(crate) available: Vec<u32>,
}

impl NotAvailable {
    pub(crate) fn message(&self) -> ErrorMessage {
        let have = self
            .available
            .iter()
            .rev()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        match &self.request {
            Some(request) => ErrorMessage::app(
                "Java version not available",
                format!(
                    "The app asks for Java {} ({}), newer than any this builder has: {have}.",
                    request.text, request.origin
                ),
            )
            .at(request.origin.location())
            .fix(format!(
                "ask for one of {have} (`java.runtime.version={}` in system.properties).",
                self.available.last().map_or(21, |major| *major)
            )),
            None => ErrorMessage::platform(
                "No JDK available",
                "The stack's Debian repositories offer no `openjdk-N-jdk-headless` package.",
            ),
        }
    }
}

/// The build log's warning for a request this builder lacks, and how to silence it.
pub(crate) fn substitution_warning(request: &JavaRequest, major: u32) -> Vec<String> {
    vec![
        format!(
            "The app asks for Java {} ({}, line {}), which this builder does not have: Debian 13 does not ship it.",
            request.text,
            request.origin,
            request.origin.line.unwrap_or(1)
        ),
        format!(
            "It builds with JDK {major}, keeping the app's own --release, source and target settings, and runs on Java {major}."
        ),
        format!(
            "To silence this, ask for Java {major}: `java.runtime.version={major}` in system.properties."
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(major: u32) -> JavaRequest {
        JavaRequest::parse(&major.to_string(), Origin::line(SYSTEM_PROPERTIES, 1)).unwrap()
    }

    #[test]
    fn feature_releases() {
        for (text, major) in [
            ("17", 17),
            ("17.0.2", 17),
            ("1.8", 8),
            ("1.8.0_292", 8),
            ("zulu-21", 21),
            ("heroku-21.0.1", 21),
            (" 25 ", 25),
            ("21-ea", 21),
        ] {
            assert_eq!(feature_release(text), Some(major), "{text}");
        }
        for text in ["", "latest", "java17", "1", "x.1"] {
            assert_eq!(feature_release(text), None, "{text}");
        }
    }

    #[test]
    fn system_properties() {
        let text = "# Heroku\nmaven.version=3.9.9\njava.runtime.version = 17\n";
        let found = from_system_properties(text).unwrap().unwrap();
        assert_eq!(found.major, 17);
        assert_eq!(found.origin.line, Some(3));
        assert_eq!(from_system_properties("#java.runtime.version=8\n").unwrap(), None);
        assert_eq!(
            from_system_properties("java.runtime.version: 1.8\n")
                .unwrap()
                .unwrap()
                .major,
            8
        );
        let invalid = from_system_properties("\njava.runtime.version=latest\n").unwrap_err();
        assert_eq!(invalid.origin.line, Some(2));
    }

    #[test]
    fn gradle_toolchain() {
        let text =
            "java {\n    toolchain {\n        languageVersion = JavaLanguageVersion.of(17)\n    }\n}\n";
        let found = from_gradle("build.gradle", text).unwrap();
        assert_eq!((found.major, found.origin.line), (17, Some(3)));
        assert_eq!(
            from_gradle(
                "build.gradle.kts",
                "java { toolchain { languageVersion.set(JavaLanguageVersion.of(\"21\")) } }"
            )
            .unwrap()
            .major,
            21
        );
        assert_eq!(
            from_gradle(
                "build.gradle",
                "languageVersion = JavaLanguageVersion.of(javaVersion)"
            ),
            None
        );
    }

    #[test]
    fn choices() {
        let available = [21, 25];
        assert_eq!(choose(None, &available).unwrap().major, 25);
        assert_eq!(choose(None, &[21, 25, 26]).unwrap().major, 25);
        assert_eq!(
            choose(Some(&request(21)), &available).unwrap(),
            Choice {
                major: 21,
                instead_of: None
            }
        );
        let older = choose(Some(&request(17)), &available).unwrap();
        assert_eq!((older.major, older.instead_of.map(|r| r.major)), (21, Some(17)));
        assert_eq!(choose(Some(&request(23)), &available).unwrap().major, 25);
        let newer = choose(Some(&request(26)), &available).unwrap_err();
        assert_eq!(newer.available, [21, 25]);
    }

    #[test]
    fn not_available_message() {
        let error = choose(Some(&request(26)), &[21, 25]).unwrap_err();
        insta::assert_snapshot!(error.message().render());
    }

    #[test]
    fn substitution() {
        insta::assert_snapshot!(substitution_warning(&request(17), 21).join("\n"));
    }
}
