//! User-facing errors, as data.
//!
//! A buildpack keeps one error enum (in its `errors.rs`) and turns each variant into an
//! [`ErrorMessage`]: what is wrong, where (file and line), and how to fix it. Rendering happens
//! here and only here, so every Toolforge buildpack fails the same, readable way and the text
//! can be snapshot-tested without running a build.

use std::fmt::{self, Display, Write as _};
use std::path::{Path, PathBuf};

/// Where in the user's app the problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Path relative to the app directory, as the user knows it (`Procfile`, `project.toml`).
    pub file: PathBuf,
    /// 1-based line number, where the problem is on one line.
    pub line: Option<usize>,
}

impl Location {
    #[must_use]
    pub fn file(file: impl AsRef<Path>) -> Self {
        Self {
            file: file.as_ref().to_path_buf(),
            line: None,
        }
    }

    #[must_use]
    pub fn line(file: impl AsRef<Path>, line: usize) -> Self {
        Self {
            file: file.as_ref().to_path_buf(),
            line: Some(line),
        }
    }
}

impl Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}, line {line}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// The 1-based number of the first line of `text` containing `needle`: where a key of a JSON
/// file is, for errors about its value (JSON parsers keep no positions for values).
#[must_use]
pub fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines()
        .position(|line| line.contains(needle))
        .map(|index| index + 1)
}

/// The text of a file of the app, or, when it is not UTF-8, the 1-based line of its first byte
/// that is not.
///
/// # Errors
///
/// The line, when `bytes` are not UTF-8.
pub fn utf8_text(bytes: Vec<u8>) -> Result<String, usize> {
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        valid.split(|byte| *byte == b'\n').count()
    })
}

/// Who has to act: the tool's maintainer (bad input) or the Toolforge admins (a bug or an
/// outage on our side). It decides the closing line of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The app's files are wrong; the message says how to fix them.
    App,
    /// Something on the platform's side failed; retrying or reporting it is all the user can do.
    Platform,
}

/// One error, ready to be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorMessage {
    pub cause: Cause,
    /// One line, no full stop: `Invalid Procfile`.
    pub title: String,
    pub location: Option<Location>,
    /// What is wrong, in sentences. May span several lines.
    pub detail: String,
    /// An excerpt of the user's file or of a tool's output, shown verbatim and indented.
    pub excerpt: Option<String>,
    /// How to fix it, in sentences.
    pub fix: Option<String>,
}

impl ErrorMessage {
    #[must_use]
    pub fn app(title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            cause: Cause::App,
            title: title.into(),
            location: None,
            detail: detail.into(),
            excerpt: None,
            fix: None,
        }
    }

    #[must_use]
    pub fn platform(title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            cause: Cause::Platform,
            ..Self::app(title, detail)
        }
    }

    #[must_use]
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    #[must_use]
    pub fn excerpt(mut self, excerpt: impl Into<String>) -> Self {
        self.excerpt = Some(excerpt.into());
        self
    }

    #[must_use]
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// The message as the build log shows it.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        let heading = match &self.location {
            Some(location) => format!("{} ({location})", self.title),
            None => self.title.clone(),
        };
        // Infallible: writing to a String.
        let _ = writeln!(out, "\n! ERROR: {heading}\n!");
        push_block(&mut out, "! ", &wrap(&self.detail));
        if let Some(excerpt) = &self.excerpt {
            out.push_str("!\n");
            push_block(&mut out, "!     ", excerpt);
        }
        if let Some(fix) = &self.fix {
            out.push_str("!\n");
            push_block(&mut out, "! ", &wrap(&format!("To fix: {fix}")));
        }
        out.push_str("!\n");
        match self.cause {
            Cause::App => out.push_str("! The build stopped here; fix the files above and build again.\n"),
            Cause::Platform => out.push_str(
                "! This is not a problem with your tool. Build again; if it keeps failing, report it to\n! the Toolforge admins (https://phabricator.wikimedia.org/tag/toolforge-build-service/).\n",
            ),
        }
        out
    }
}

impl Display for ErrorMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

fn push_block(out: &mut String, prefix: &str, text: &str) {
    for line in text.trim_end().lines() {
        if line.trim().is_empty() {
            out.push_str(prefix.trim_end());
        } else {
            out.push_str(prefix);
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// The width prose is wrapped at; excerpts are shown as they are.
const WIDTH: usize = 96;

/// Greedy word wrap, keeping the text's own line breaks.
fn wrap(text: &str) -> String {
    let mut wrapped = String::new();
    for paragraph in text.lines() {
        let mut width = 0;
        for word in paragraph.split(' ') {
            let word_width = word.chars().count();
            if width > 0 && width + 1 + word_width > WIDTH {
                wrapped.push('\n');
                width = 0;
            } else if width > 0 {
                wrapped.push(' ');
                width += 1;
            }
            wrapped.push_str(word);
            width += word_width;
        }
        wrapped.push('\n');
    }
    wrapped
}

/// A file-system operation of the build that failed: `what` it was doing, in words that follow
/// "Cannot" (`copy node_modules into the cache`). Always the platform's problem: the app's own
/// files are read by parsers that say what is wrong with them.
#[derive(Debug)]
pub struct IoError {
    pub what: String,
    pub error: std::io::Error,
}

impl IoError {
    #[must_use]
    pub fn new(what: impl Into<String>, error: std::io::Error) -> Self {
        Self {
            what: what.into(),
            error,
        }
    }

    /// The user-facing message.
    #[must_use]
    pub fn message(&self) -> ErrorMessage {
        ErrorMessage::platform(
            format!("Cannot {}", self.what),
            format!("The file system said: {}.", self.error),
        )
    }
}

impl Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot {}: {}", self.what, self.error)
    }
}

impl std::error::Error for IoError {}

/// Renders an error that libcnb itself raised (layer I/O, launch.toml), which no buildpack
/// enum describes. These are always the platform's problem.
#[must_use]
pub fn libcnb_error_message<E: fmt::Debug>(error: &libcnb::Error<E>) -> ErrorMessage {
    ErrorMessage::platform(
        "The buildpack failed unexpectedly",
        format!("libcnb reported: {error}"),
    )
}

/// Prints the rendered error to stderr, where the lifecycle shows buildpack errors.
pub fn print_error(message: &ErrorMessage) {
    eprint!("{}", message.render());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_part() {
        let message = ErrorMessage::app(
            "Invalid Procfile",
            "This line is not a process: a process is `name: command`.",
        )
        .at(Location::line("Procfile", 3))
        .excerpt("web gunicorn app:app\n\n  indented")
        .fix("add a colon after the process name:\n`web: gunicorn app:app`.");
        insta::assert_snapshot!(message.render());
    }

    #[test]
    fn renders_platform_errors_without_location() {
        let message = ErrorMessage::platform("Download failed", "The server answered 503.");
        insta::assert_snapshot!(message.render());
    }

    #[test]
    fn wraps_prose_at_word_boundaries() {
        let text = format!("{} {}\nnext", "a".repeat(60), "b".repeat(40));
        assert_eq!(
            wrap(&text),
            format!("{}\n{}\nnext\n", "a".repeat(60), "b".repeat(40))
        );
    }

    #[test]
    fn io_errors_say_what_was_being_done() {
        let error = IoError::new(
            "copy node_modules into the cache",
            std::io::Error::new(std::io::ErrorKind::StorageFull, "No space left on device"),
        );
        insta::assert_snapshot!(error.message().render());
    }

    #[test]
    fn utf8_text_or_the_line_that_is_not() {
        assert_eq!(utf8_text(b"a\nb".to_vec()), Ok("a\nb".to_string()));
        assert_eq!(utf8_text(b"a\nb\xe9\n".to_vec()), Err(2));
        assert_eq!(utf8_text(b"\xff".to_vec()), Err(1));
    }

    #[test]
    fn location_without_line() {
        assert_eq!(Location::file("project.toml").to_string(), "project.toml");
        assert_eq!(Location::line("Procfile", 2).to_string(), "Procfile, line 2");
    }
}
