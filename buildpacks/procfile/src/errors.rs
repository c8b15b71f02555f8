//! Everything that can stop this buildpack, and the one function that explains it.

use crate::procfile::{MAX_NAME_LENGTH, NameProblem, ParseError, suggest_name};
use libtoolforge::error::{ErrorMessage, Location};
use std::path::PathBuf;

pub(crate) const PROCFILE: &str = "Procfile";

#[derive(Debug)]
pub(crate) enum ProcfileBuildpackError {
    /// Detection passed on a file that is almost, but not, named `Procfile`.
    Misnamed(PathBuf),
    Read(std::io::Error),
    NotUtf8 {
        line: usize,
    },
    Parse(ParseError),
    WriteLayer(std::io::Error),
}

impl From<ProcfileBuildpackError> for libcnb::Error<ProcfileBuildpackError> {
    fn from(error: ProcfileBuildpackError) -> Self {
        Self::BuildpackError(error)
    }
}

pub(crate) fn error_message(error: &ProcfileBuildpackError) -> ErrorMessage {
    match error {
        ProcfileBuildpackError::Misnamed(path) => ErrorMessage::app(
            "Misnamed Procfile",
            format!(
                "This app has a file named `{}`, but processes are only read from a file named \
                 exactly `Procfile` (capital P, no extension).",
                path.display()
            ),
        )
        .at(Location::file(path))
        .fix(format!("rename it: `git mv {} Procfile`.", path.display())),

        ProcfileBuildpackError::Read(error) => {
            ErrorMessage::platform("Cannot read the Procfile", format!("Reading it failed: {error}."))
                .at(Location::file(PROCFILE))
        }

        ProcfileBuildpackError::NotUtf8 { line } => {
            ErrorMessage::app("Invalid Procfile", "This line is not valid UTF-8 text.")
                .at(Location::line(PROCFILE, *line))
                .fix("save the Procfile as UTF-8.")
        }

        ProcfileBuildpackError::Parse(error) => parse_error_message(error),

        ProcfileBuildpackError::WriteLayer(error) => ErrorMessage::platform(
            "Cannot write the processes layer",
            format!("Writing the commands that `launcher NAME` runs failed: {error}."),
        ),
    }
}

fn parse_error_message(error: &ParseError) -> ErrorMessage {
    const FORMAT: &str =
        "Each line of a Procfile is a process, `NAME: COMMAND`, a comment starting with `#`, or blank.";
    match error {
        ParseError::NoProcesses => ErrorMessage::app(
            "Empty Procfile",
            "The Procfile defines no process: it is empty or has only comments and blank lines, \
             so the image would have nothing to run.",
        )
        .at(Location::file(PROCFILE))
        .fix(
            "add a line for each process, for example `web: gunicorn --bind 0.0.0.0:$PORT app:app` \
             for a web service or `update: python update.py` for a job; or delete the Procfile if \
             another buildpack provides the processes.",
        ),

        ParseError::NotAProcess { line, text } => ErrorMessage::app(
            "Invalid Procfile",
            format!("This line is not a process. {FORMAT}"),
        )
        .at(Location::line(PROCFILE, *line))
        .excerpt(text.clone())
        .fix(if text.trim_start().starts_with(':') {
            "put the process name before the colon, for example `web: ./start.sh`.".to_string()
        } else {
            format!(
                "write the name, a colon and the command, for example `{}: ./start.sh`, or make the \
                 line a comment with `#`.",
                suggest_name(text.split_whitespace().next().unwrap_or("web"))
            )
        }),

        ParseError::InvalidName {
            line,
            text,
            name,
            problem,
        } => {
            let (detail, fix) = invalid_name(text, name, problem);
            ErrorMessage::app(
                "Invalid process name in Procfile",
                format!(
                    "{detail} A process name has 1 to {MAX_NAME_LENGTH} ASCII letters, digits, `-` \
                     and `_`, starts and ends with a letter or digit, and is followed directly by a \
                     colon."
                ),
            )
            .at(Location::line(PROCFILE, *line))
            .excerpt(text.clone())
            .fix(fix)
        }

        ParseError::EmptyCommand { line, text, name } => ErrorMessage::app(
            "Invalid Procfile",
            format!("The process `{name}` has no command after its colon."),
        )
        .at(Location::line(PROCFILE, *line))
        .excerpt(text.clone())
        .fix(format!(
            "write the command on the same line, for example `{name}: ./start.sh`, or remove the line."
        )),
    }
}

fn invalid_name(text: &str, name: &str, problem: &NameProblem) -> (String, String) {
    let rest = text.split_once(':').map_or("", |(_, rest)| rest.trim());
    match problem {
        NameProblem::ContainsWhitespace if name.trim_end() != name && !name.trim().contains(' ') => (
            format!(
                "The name `{}` is followed by a space before the colon.",
                name.trim()
            ),
            format!("remove the space: `{}: {rest}`.", name.trim()),
        ),
        NameProblem::ContainsWhitespace => {
            // `web gunicorn app:app`: the colon was forgotten, and a later one was taken for it.
            let first = name.split_whitespace().next().unwrap_or_default();
            let after_first = text.trim_start()[first.len()..].trim_start();
            (
                format!("`{name}` is not a name: it contains spaces."),
                format!(
                    "if `{first}` is the process name, add a colon after it: `{}: {after_first}`.",
                    suggest_name(first)
                ),
            )
        }
        NameProblem::InvalidCharacter(character) => (
            format!("The name `{name}` contains `{character}`, which process names cannot contain."),
            format!(
                "rename the process, for example `{}: {rest}`.",
                suggest_name(name)
            ),
        ),
        NameProblem::BadEdge => (
            format!("The name `{name}` starts or ends with `-` or `_`."),
            format!(
                "rename the process, for example `{}: {rest}`.",
                suggest_name(name)
            ),
        ),
        NameProblem::TooLong => (
            format!("The name `{name}` is {} characters long.", name.len()),
            format!(
                "use a shorter name, for example `{}: {rest}`.",
                suggest_name(name)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procfile::Procfile;

    fn rendered(procfile: &str) -> String {
        let error = procfile.parse::<Procfile>().expect_err("invalid");
        error_message(&ProcfileBuildpackError::Parse(error)).render()
    }

    #[test]
    fn empty_procfile() {
        insta::assert_snapshot!(rendered("# nothing yet\n\n"));
    }

    #[test]
    fn forgotten_colon() {
        insta::assert_snapshot!(rendered("# web\nweb gunicorn --bind 0.0.0.0:$PORT app:app\n"));
    }

    #[test]
    fn no_colon_at_all() {
        insta::assert_snapshot!(rendered("web: ok\nnonsense\n"));
    }

    #[test]
    fn missing_name() {
        insta::assert_snapshot!(rendered(": gunicorn app:app"));
    }

    #[test]
    fn space_before_colon() {
        insta::assert_snapshot!(rendered("web : gunicorn app:app"));
    }

    #[test]
    fn invalid_character() {
        insta::assert_snapshot!(rendered("wéb: gunicorn app:app"));
    }

    #[test]
    fn bad_edge() {
        insta::assert_snapshot!(rendered("_worker: python worker.py"));
    }

    #[test]
    fn too_long() {
        insta::assert_snapshot!(rendered(&format!("{}: x", "a".repeat(64))));
    }

    #[test]
    fn empty_command() {
        insta::assert_snapshot!(rendered("web: ok\nworker:   \n"));
    }

    #[test]
    fn not_utf8() {
        insta::assert_snapshot!(error_message(&ProcfileBuildpackError::NotUtf8 { line: 2 }).render());
    }

    #[test]
    fn misnamed() {
        insta::assert_snapshot!(
            error_message(&ProcfileBuildpackError::Misnamed(PathBuf::from("procfile"))).render()
        );
    }
}
