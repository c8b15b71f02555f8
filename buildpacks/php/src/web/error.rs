//! Everything that stops the launcher, each rendered as the one line `<command>: <what>` on stderr
//! (the prefix is added by `web::main`), so a tool's logs say what went wrong in one place.

use crate::web::exit::Exit;
use crate::web::names::LAUNCHER;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug)]
pub(crate) enum Error {
    /// Called as `toolforge-php-web` without `apache2` or `nginx` first.
    NoServer,
    UnknownServer(String),
    UnknownOption(String),
    MissingValue(String),
    TooManyArguments,
    NotUtf8(String),
    /// `-p` or `$PORT` (named by `from`) is not a port number.
    InvalidPort {
        value: String,
        from: &'static str,
    },
    DocumentRootMissing {
        root: String,
        cwd: PathBuf,
    },
    DocumentRootNotDirectory {
        root: String,
        cwd: PathBuf,
    },
    /// The file of `-C`, `-F` or `-i` cannot be read.
    UnreadableFile {
        option: char,
        file: String,
        error: io::Error,
    },
    /// A `-l` file can be neither opened nor created.
    LogFile {
        file: String,
        error: io::Error,
    },
    /// A path that would change the meaning of the configuration it is written into.
    UnsafePath(PathBuf),
    CurrentDir(io::Error),
    CurrentExe(io::Error),
    RunDir {
        dir: PathBuf,
        error: io::Error,
    },
    WriteConfig {
        file: PathBuf,
        error: io::Error,
    },
    Signals(io::Error),
    Spawn {
        program: PathBuf,
        error: io::Error,
    },
    FpmFailed(Exit),
    FpmTimeout {
        socket: PathBuf,
        waited: Duration,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoServer => write!(
                f,
                "name the server first: {LAUNCHER} apache2|nginx [options] [DOCUMENT_ROOT]"
            ),
            Self::UnknownServer(name) => {
                write!(f, "unknown server '{name}': apache2 or nginx")
            }
            Self::UnknownOption(option) => write!(f, "invalid option {option} (see -h)"),
            Self::MissingValue(option) => {
                write!(f, "option {option} requires an argument (see -h)")
            }
            Self::TooManyArguments => write!(f, "too many arguments: one DOCUMENT_ROOT at most"),
            Self::NotUtf8(argument) => write!(f, "argument '{argument}' is not valid UTF-8"),
            Self::InvalidPort { value, from } => {
                write!(f, "invalid port '{value}' (from {from}): 1 to 65535")
            }
            Self::DocumentRootMissing { root, cwd } => {
                write!(f, "document root '{root}' does not exist (in {})", cwd.display())
            }
            Self::DocumentRootNotDirectory { root, cwd } => write!(
                f,
                "document root '{root}' is not a directory (in {})",
                cwd.display()
            ),
            Self::UnreadableFile { option, file, error } => {
                write!(f, "cannot read -{option} '{file}': {error}")
            }
            Self::LogFile { file, error } => {
                write!(f, "cannot open or create the log file -l '{file}': {error}")
            }
            Self::UnsafePath(path) => write!(
                f,
                "the path '{}' cannot go into a server configuration: it contains a quote, a backslash, a '$' or a control character",
                path.display()
            ),
            Self::CurrentDir(error) => write!(f, "cannot read the current directory: {error}"),
            Self::CurrentExe(error) => {
                write!(f, "cannot find the PHP layer from this program's path: {error}")
            }
            Self::RunDir { dir, error } => {
                write!(
                    f,
                    "cannot create the run-time directory {}: {error}",
                    dir.display()
                )
            }
            Self::WriteConfig { file, error } => {
                write!(f, "cannot write {}: {error}", file.display())
            }
            Self::Signals(error) => write!(f, "cannot handle signals: {error}"),
            Self::Spawn { program, error } => {
                write!(f, "cannot start {}: {error}", program.display())
            }
            Self::FpmFailed(exit) => write!(f, "PHP-FPM failed to start: it {exit}"),
            Self::FpmTimeout { socket, waited } => write!(
                f,
                "PHP-FPM did not open {} within {} s",
                socket.display(),
                waited.as_secs()
            ),
        }
    }
}
