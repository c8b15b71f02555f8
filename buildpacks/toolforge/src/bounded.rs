//! Steps of a process start that can block for ever: an NSS lookup that SSSD never answers, a
//! `stat` of an NFS mount that hangs in the kernel (D-state), a name lookup of an LDAP server. A
//! blocking system call cannot be cancelled, so each step runs on a thread of its own and is
//! waited for until a deadline that all the steps share; a step that misses it is left behind,
//! still blocked, and the program carries on as if the step had found nothing. The exec.d program
//! ends with `std::process::exit`, which never joins such a thread, and the kernel's fatal signal
//! at exit reaches a thread asleep in NFS (its waits are killable).

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// What a step that starts after the deadline still gets: enough for a directory or a server
/// that answers at once (a lookup after a hung SSSD still finds a healthy NFS mount), too little
/// to matter when they hang too.
pub const LATE_STEP: Duration = Duration::from_millis(100);

/// The moment by which the steps of one process start should be done.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Instant);

impl Deadline {
    #[must_use]
    pub fn after(timeout: Duration) -> Self {
        Self(Instant::now() + timeout)
    }

    /// How long a step starting now may take: what is left, and at least [`LATE_STEP`].
    #[must_use]
    pub fn budget(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now()).max(LATE_STEP)
    }
}

/// Why a step gave no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// It was still running when the wait ended (it is left behind).
    NoAnswer(Duration),
    /// It panicked, or no thread could be started for it.
    Failed,
}

impl std::fmt::Display for Missed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoAnswer(wait) => write!(f, "did not answer within {:.1}s", wait.as_secs_f32()),
            Self::Failed => write!(f, "failed unexpectedly"),
        }
    }
}

/// Runs `step` on a thread of its own and waits for it at most `wait`.
///
/// # Errors
///
/// When the step did not finish in time (it keeps running, detached) or did not finish at all.
pub fn within<T: Send + 'static>(
    wait: Duration,
    step: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Missed> {
    let (sender, receiver) = mpsc::channel();
    std::thread::Builder::new()
        .spawn(move || {
            // The receiver is gone when the wait is over: nobody needs the result any more.
            let _ = sender.send(step());
        })
        .map_err(|_| Missed::Failed)?;
    receiver.recv_timeout(wait).map_err(|error| match error {
        RecvTimeoutError::Timeout => Missed::NoAnswer(wait),
        RecvTimeoutError::Disconnected => Missed::Failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_that_never_ends_is_left_behind_at_the_wait() {
        let started = Instant::now();
        let outcome = within(Duration::from_millis(100), || {
            let (_sender, receiver) = mpsc::channel::<()>();
            receiver.recv()
        });
        assert_eq!(outcome, Err(Missed::NoAnswer(Duration::from_millis(100))));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            Missed::NoAnswer(Duration::from_millis(1960)).to_string(),
            "did not answer within 2.0s"
        );
    }

    #[test]
    fn a_step_that_ends_gives_its_result() {
        assert_eq!(within(Duration::from_secs(5), || 42), Ok(42));
    }

    #[test]
    fn a_late_step_still_gets_a_moment() {
        let deadline = Deadline::after(Duration::ZERO);
        assert_eq!(deadline.budget(), LATE_STEP);
        assert!(Deadline::after(Duration::from_secs(2)).budget() > Duration::from_secs(1));
    }
}
