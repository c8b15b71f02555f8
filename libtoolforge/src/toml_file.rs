//! Reading the app's TOML files (pyproject.toml, Pipfile, project.toml) with errors that name
//! the file and the line.

use crate::error::{ErrorMessage, Location};
use serde::de::DeserializeOwned;
use std::path::Path;

/// A value with its place in the file: deserialize a field as `Spanned<String>` to say, in an
/// error about its value, which line it is on ([`line_at`]).
pub use toml::Spanned;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TomlError {
    /// The file as the user knows it (`pyproject.toml`).
    pub file: String,
    pub line: Option<usize>,
    /// The parser's own words, without its excerpt.
    pub message: String,
    /// The offending line, when known.
    pub excerpt: Option<String>,
}

impl std::error::Error for TomlError {}

impl std::fmt::Display for TomlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}, line {line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl TomlError {
    /// The user-facing message: the app's file is not valid TOML (or not of the expected shape).
    #[must_use]
    pub fn message(&self) -> ErrorMessage {
        let location = match self.line {
            Some(line) => Location::line(&self.file, line),
            None => Location::file(&self.file),
        };
        let mut message = ErrorMessage::app(
            format!("Invalid {}", self.file),
            format!(
                "{} cannot be read: {}.",
                self.file,
                self.message.trim_end_matches('.')
            ),
        )
        .at(location)
        .fix(format!(
            "correct the TOML in {} (https://toml.io describes the syntax) and commit it.",
            self.file
        ));
        if let Some(excerpt) = &self.excerpt {
            message = message.excerpt(excerpt.clone());
        }
        message
    }
}

/// Parses `text` (the contents of `file`) as `T`.
///
/// # Errors
///
/// When it is not TOML, or not of `T`'s shape; the error names the line.
pub fn parse<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, TomlError> {
    toml::from_str(text).map_err(|error| {
        let line = error.span().map(|span| line_at(text, span.start));
        TomlError {
            file: file.to_string(),
            line,
            message: error.message().to_string(),
            excerpt: line
                .and_then(|line| text.lines().nth(line - 1))
                .map(ToString::to_string),
        }
    })
}

/// The 1-based line of `text` that byte `offset` is on (a [`Spanned`] value's start).
#[must_use]
pub fn line_at(text: &str, offset: usize) -> usize {
    // A span starts on a character boundary; past the end is the last line.
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

/// Reads and parses `dir/file`; `Ok(None)` when there is no such file.
///
/// # Errors
///
/// When the file exists but cannot be read or parsed.
pub fn read<T: DeserializeOwned>(dir: &Path, file: &str) -> Result<Option<T>, TomlError> {
    read_text(dir, file)?.map(|text| parse(&text, file)).transpose()
}

/// The text of `dir/file`; `Ok(None)` when there is no such file.
///
/// # Errors
///
/// When the file exists but cannot be read.
pub fn read_text(dir: &Path, file: &str) -> Result<Option<String>, TomlError> {
    match std::fs::read_to_string(dir.join(file)) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(TomlError {
            file: file.to_string(),
            line: None,
            message: error.to_string(),
            excerpt: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Project {
        #[allow(dead_code)]
        name: String,
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let error = parse::<toml::Table>("[project]\nname = \"tool\"\nversion = 1.0.0\n", "pyproject.toml")
            .unwrap_err();
        assert_eq!(error.line, Some(3));
        assert_eq!(error.excerpt.as_deref(), Some("version = 1.0.0"));
        insta::assert_snapshot!(error.message().render());
    }

    #[test]
    fn shape_errors_name_the_line() {
        let error = parse::<Project>("\nname = 3\n", "project.toml").unwrap_err();
        assert_eq!(error.line, Some(2));
    }

    #[test]
    fn spanned_values_know_their_line() {
        #[derive(serde::Deserialize)]
        struct Tool {
            python: Spanned<String>,
        }
        let text = "# deps\n\npython = \"^3.11\"\n";
        let tool: Tool = parse(text, "pyproject.toml").unwrap();
        assert_eq!(tool.python.get_ref(), "^3.11");
        assert_eq!(line_at(text, tool.python.span().start), 3);
        assert_eq!(line_at(text, 1000), 4);
    }

    #[test]
    fn missing_files_are_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read::<toml::Table>(dir.path(), "Pipfile").unwrap(), None);
    }
}
