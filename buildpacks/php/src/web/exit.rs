//! How a child of the launcher ended: for its notes, its exit code and its errors.

use nix::sys::signal::Signal;
use std::fmt;

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Status(i32),
    Signal(Signal),
}

impl Exit {
    /// The launcher's exit code when this child ended on its own: never 0, the site is down.
    pub(crate) fn failure_code(self) -> u8 {
        match self {
            Self::Status(status) => u8::try_from(status).ok().filter(|code| *code != 0).unwrap_or(1),
            Self::Signal(_) => 1,
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status) => write!(f, "exited with status {status}"),
            Self::Signal(signal) => write!(f, "was killed by {signal}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_after_an_unexpected_end() {
        assert_eq!(Exit::Status(78).failure_code(), 78);
        assert_eq!(Exit::Status(0).failure_code(), 1);
        assert_eq!(Exit::Status(300).failure_code(), 1);
        assert_eq!(Exit::Signal(Signal::SIGKILL).failure_code(), 1);
    }

    #[test]
    fn exits_in_words() {
        assert_eq!(Exit::Status(255).to_string(), "exited with status 255");
        assert_eq!(Exit::Signal(Signal::SIGKILL).to_string(), "was killed by SIGKILL");
    }
}
