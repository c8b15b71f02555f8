//! Running build tools (pip, npm, composer…): their output goes to the build log as it comes,
//! indented under the step, and the end of it is kept for the error message.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;

/// How many of the last output lines an error keeps: enough to find a tool's message above the
/// usage text some print after it (npm).
const TAIL_LINES: usize = 300;
/// How many of those an error message quotes.
const QUOTED_LINES: usize = 30;
/// Tool output is indented under the buildpack's step.
const INDENT: &str = "      ";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    /// The command as the user could type it.
    pub command: String,
    /// The exit code; `None` when it could not start or was killed by a signal.
    pub exit_code: Option<i32>,
    /// Why it could not start, when it could not.
    pub spawn_error: Option<String>,
    /// The last lines it printed (stdout and stderr, interleaved), up to 300.
    pub output_tail: String,
}

impl std::error::Error for CommandError {}

impl CommandError {
    /// The message for a failed build tool: `detail`, what the command did, the end of its
    /// output quoted. `cause_is_app` when the app's files made it fail (a dependency, a script).
    #[must_use]
    pub fn message(
        &self,
        title: impl Into<String>,
        detail: &str,
        cause_is_app: bool,
    ) -> crate::error::ErrorMessage {
        let detail = format!("{detail}\n{self}.");
        let message = if cause_is_app {
            crate::error::ErrorMessage::app(title, detail)
        } else {
            crate::error::ErrorMessage::platform(title, detail)
        };
        let lines: Vec<&str> = self.output_tail.lines().collect();
        if lines.is_empty() {
            message
        } else {
            message.excerpt(lines[lines.len().saturating_sub(QUOTED_LINES)..].join("\n"))
        }
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.spawn_error, self.exit_code) {
            (Some(error), _) => write!(f, "`{}` could not start: {error}", self.command),
            (None, Some(code)) => write!(f, "`{}` failed with exit code {code}", self.command),
            (None, None) => write!(f, "`{}` was killed", self.command),
        }
    }
}

/// Runs `command`, streaming its output to the build log; fails unless it exits 0.
///
/// # Errors
///
/// When it cannot start or exits non-zero; the error keeps the end of its output.
pub fn run_streamed(command: &mut Command) -> Result<(), CommandError> {
    run_streamed_to(command, &mut std::io::stdout())
}

/// As [`run_streamed`], writing the output to `log`.
///
/// # Errors
///
/// When it cannot start or exits non-zero.
pub fn run_streamed_to(command: &mut Command, log: &mut dyn Write) -> Result<(), CommandError> {
    run_streamed_watching_to(command, log, &mut |_| {})
}

/// As [`run_streamed`], also showing every line to `watch` as it comes: for what a tool says
/// anywhere in its output (the names it failed on), which the error's tail may no longer hold.
///
/// # Errors
///
/// When it cannot start or exits non-zero.
pub fn run_streamed_watching(command: &mut Command, watch: &mut dyn FnMut(&str)) -> Result<(), CommandError> {
    run_streamed_watching_to(command, &mut std::io::stdout(), watch)
}

fn run_streamed_watching_to(
    command: &mut Command,
    log: &mut dyn Write,
    watch: &mut dyn FnMut(&str),
) -> Result<(), CommandError> {
    let description = describe(command);
    let spawn_failed = |error: std::io::Error| CommandError {
        command: description.clone(),
        exit_code: None,
        spawn_error: Some(error.to_string()),
        output_tail: String::new(),
    };
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_failed)?;

    let (sender, receiver) = mpsc::channel::<String>();
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|out| Box::new(out) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|err| Box::new(err) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|stream| {
        let sender = sender.clone();
        std::thread::spawn(move || {
            // Bytes, not `lines()`: a tool may print text that is not UTF-8 (gcc quoting a
            // Latin-1 source line), and stopping there would close the pipe under it.
            for line in BufReader::new(stream).split(b'\n') {
                let Ok(mut bytes) = line else { break };
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                }
                if sender.send(String::from_utf8_lossy(&bytes).into_owned()).is_err() {
                    break;
                }
            }
        })
    })
    .collect();
    drop(sender);

    let mut tail = VecDeque::with_capacity(TAIL_LINES);
    for line in receiver {
        let _ = writeln!(log, "{INDENT}{line}");
        watch(&line);
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    }
    let _ = log.flush();
    for reader in readers {
        let _ = reader.join();
    }
    let status = child.wait().map_err(spawn_failed)?;
    if status.success() {
        Ok(())
    } else {
        Err(CommandError {
            command: description,
            exit_code: status.code(),
            spawn_error: None,
            output_tail: tail.into_iter().collect::<Vec<_>>().join("\n"),
        })
    }
}

/// Runs `command` and returns its standard output, without streaming it.
///
/// # Errors
///
/// When it cannot start or exits non-zero.
pub fn output(command: &mut Command) -> Result<String, CommandError> {
    let description = describe(command);
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| CommandError {
            command: description.clone(),
            exit_code: None,
            spawn_error: Some(error.to_string()),
            output_tail: String::new(),
        })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        let lines: Vec<&str> = text.lines().collect();
        Err(CommandError {
            command: description,
            exit_code: output.status.code(),
            spawn_error: None,
            output_tail: lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n"),
        })
    }
}

/// The command as a user would type it: the program's file name and its arguments.
fn describe(command: &Command) -> String {
    let program = command.get_program().to_string_lossy();
    let program = program.rsplit('/').next().unwrap_or(&program).to_string();
    std::iter::once(program)
        .chain(command.get_args().map(|arg| arg.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_indented_and_keeps_the_tail_on_failure() {
        let mut log = Vec::new();
        let error = run_streamed_to(
            Command::new("bash").args(["-c", "for i in $(seq 1 40); do echo line $i; done; sleep 0.2; echo oops >&2; sleep 0.2; echo done; exit 3"]),
            &mut log,
        )
        .unwrap_err();
        let log = String::from_utf8(log).unwrap();
        assert!(log.starts_with("      line 1\n"), "{log}");
        assert!(log.contains("      oops\n"), "{log}");
        assert_eq!(error.exit_code, Some(3));
        assert_eq!(error.output_tail.lines().count(), 42);
        let quoted = error.message("t", "d", true).render();
        assert!(!quoted.contains("line 12\n"), "{quoted}");
        assert!(quoted.contains("line 13\n"), "{quoted}");
        assert!(error.output_tail.ends_with("oops\ndone"), "{}", error.output_tail);
        assert!(error.output_tail.contains("line 40"));
        assert!(error.to_string().starts_with("`bash -c for i in"), "{error}");
    }

    #[test]
    fn every_line_is_watched_not_only_the_tail() {
        let mut log = Vec::new();
        let mut watched = Vec::new();
        let error = run_streamed_watching_to(
            Command::new("bash").args(["-c", "echo 'failed: a'; seq 1 400; echo 'failed: b' >&2; exit 1"]),
            &mut log,
            &mut |line| {
                if let Some(name) = line.strip_prefix("failed: ") {
                    watched.push(name.to_string());
                }
            },
        )
        .unwrap_err();
        assert_eq!(watched, ["a", "b"]);
        assert!(!error.output_tail.contains("failed: a"));
    }

    #[test]
    fn output_that_is_not_utf8_is_shown_lossily_and_read_to_the_end() {
        // A Latin-1 line, then more than a pipe's buffer: the tool must not lose its pipe.
        let mut log = Vec::new();
        run_streamed_to(
            Command::new("bash").args([
                "-c",
                r"printf 'caf\xe9\r\n'; for i in $(seq 1 20000); do echo line $i; done",
            ]),
            &mut log,
        )
        .unwrap();
        let log = String::from_utf8(log).unwrap();
        assert!(log.starts_with("      caf\u{fffd}\n"), "{}", &log[..40]);
        assert!(log.ends_with("      line 20000\n"));
    }

    #[test]
    fn success_and_spawn_failure() {
        let mut log = Vec::new();
        run_streamed_to(Command::new("true").arg("x"), &mut log).unwrap();
        let error = run_streamed_to(&mut Command::new("/nonexistent/tool"), &mut log).unwrap_err();
        assert!(error.spawn_error.is_some());
        assert_eq!(error.command, "tool");
        assert_eq!(output(Command::new("echo").arg("hi")).unwrap(), "hi\n");
        assert_eq!(output(&mut Command::new("false")).unwrap_err().exit_code, Some(1));
    }
}
