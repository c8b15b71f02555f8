//! Runs PHP-FPM and the web server side by side, stops them together, and reaps every child.
//!
//! The CNB launcher execs the web process, so the launcher is usually PID 1 of the container:
//! the kernel delivers PID 1 no signal it has no handler for (but SIGKILL,
//! <https://man7.org/linux/man-pages/man7/pid_namespaces.7.html>), and every orphan (FPM's
//! workers when their master is killed, for example) becomes its child. So SIGTERM and SIGINT
//! have handlers, and each SIGCHLD reaps every ended child with `waitpid(-1)`, of which only
//! the ones started here count. Signals arrive through signal-hook's self-pipe iterator: no code
//! of ours runs in a signal handler, and no `unsafe` (which this workspace forbids) is needed.
//! Children started by `std::process::Command` get an empty signal mask and default handlers.
//!
//! - FPM or the server ends on its own: the site is down, so the other is stopped and the
//!   launcher exits with the ended one's status, or 1 when that was 0 or a signal.
//! - SIGTERM (`docker stop`, Kubernetes) or SIGINT: the server stops gracefully first, so the
//!   requests in flight get their PHP answers, then FPM (SIGQUIT, its graceful stop, in
//!   <https://manpages.debian.org/trixie/php8.4-fpm/php-fpm8.4.8.en.html>); exit code 0.
//! - Another SIGTERM or SIGINT while stopping: both get SIGTERM, which ends them at once.

use crate::web::error::Error;
use crate::web::exit::Exit;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use signal_hook::consts::{SIGCHLD, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::fs;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long PHP-FPM may take to open its socket.
const FPM_START_TIMEOUT: Duration = Duration::from_secs(5);
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How often a graceful stop is repeated until the child ends: a signal that arrives before the
/// child has set its handlers is lost (Apache ignores SIGWINCH until then). Repeats are ignored.
const STOP_REPEAT: Duration = Duration::from_secs(1);

/// A process started here.
struct Child {
    name: &'static str,
    pid: Pid,
    graceful_stop: Signal,
    /// When the graceful stop was last sent.
    stop_sent: Option<Instant>,
}

impl Child {
    fn spawn(name: &'static str, mut command: Command, graceful_stop: Signal) -> Result<Self, Error> {
        let child = command
            .stdin(Stdio::null())
            .spawn()
            .map_err(|error| Error::Spawn {
                program: command.get_program().into(),
                error,
            })?;
        Ok(Self {
            name,
            pid: Pid::from_raw(child.id().cast_signed()),
            graceful_stop,
            stop_sent: None,
        })
    }

    fn request_stop(&mut self) {
        if self.stop_sent.is_none_or(|sent| sent.elapsed() >= STOP_REPEAT) {
            self.signal(self.graceful_stop);
            self.stop_sent = Some(Instant::now());
        }
    }

    fn signal(&self, signal: Signal) {
        // Fails only when the child has ended already; the next SIGCHLD reaps it.
        let _ = kill(self.pid, signal);
    }
}

/// The children and what the launcher is doing with them.
struct Children {
    /// The command, for the notes on stderr.
    command: String,
    fpm: Option<Child>,
    server: Option<Child>,
    tails: Vec<Child>,
    /// Once stopping, the code to exit with.
    stopping: Option<u8>,
}

impl Children {
    fn note(&self, what: &str) {
        eprintln!("{}: {what}", self.command);
    }

    /// Reaps every ended child, started here or orphaned here. Returns FPM's or the server's
    /// end, if one of them ended.
    fn reap(&mut self) -> Option<(&'static str, Exit)> {
        let mut ended = None;
        loop {
            let (pid, exit) = match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, status)) => (pid, Exit::Status(status)),
                Ok(WaitStatus::Signaled(pid, signal, _)) => (pid, Exit::Signal(signal)),
                // StillAlive: none (else) has ended; ECHILD: there are no children.
                _ => return ended,
            };
            if let Some(name) = self.forget(pid) {
                ended = ended.or(Some((name, exit)));
            }
        }
    }

    /// Drops an ended child; its name if it was FPM or the server.
    fn forget(&mut self, pid: Pid) -> Option<&'static str> {
        for slot in [&mut self.fpm, &mut self.server] {
            if slot.as_ref().is_some_and(|child| child.pid == pid) {
                return slot.take().map(|child| child.name);
            }
        }
        self.tails.retain(|tail| tail.pid != pid);
        None
    }

    fn on_signal(&mut self, signal: i32) {
        if signal == SIGCHLD {
            if let Some((name, exit)) = self.reap()
                && self.stopping.is_none()
            {
                self.note(&format!("{name} {exit}; stopping"));
                self.stopping = Some(exit.failure_code());
            }
        } else if self.stopping.is_some() {
            for child in self.server.iter().chain(&self.fpm) {
                child.signal(Signal::SIGTERM);
            }
        } else {
            let name = Signal::try_from(signal).map_or("a signal", Signal::as_str);
            self.note(&format!("{name}: stopping"));
            self.stopping = Some(0);
        }
    }

    /// Once stopping: asks the server, then FPM, to stop (again, see [`STOP_REPEAT`]). The exit
    /// code once both have ended.
    fn advance(&mut self) -> Option<u8> {
        let code = self.stopping?;
        if let Some(server) = &mut self.server {
            server.request_stop();
            return None;
        }
        if let Some(fpm) = &mut self.fpm {
            fpm.request_stop();
            return None;
        }
        Some(code)
    }
}

impl Drop for Children {
    /// What still runs when the launcher gives up (a start-up error) or is done (the log tails)
    /// ends with it, also when it is not PID 1.
    fn drop(&mut self) {
        for child in self.server.iter().chain(&self.fpm).chain(&self.tails) {
            child.signal(Signal::SIGTERM);
        }
    }
}

pub(crate) struct Supervisor {
    signals: Signals,
    children: Children,
}

impl Supervisor {
    /// Takes over SIGCHLD, SIGTERM and SIGINT.
    pub(crate) fn new(command: &str) -> Result<Self, Error> {
        let signals = Signals::new([SIGCHLD, SIGTERM, SIGINT]).map_err(Error::Signals)?;
        Ok(Self {
            signals,
            children: Children {
                command: command.to_owned(),
                fpm: None,
                server: None,
                tails: Vec::new(),
                stopping: None,
            },
        })
    }

    /// Follows `file` on stderr from its end, across rotation and re-creation (`tail -F`).
    pub(crate) fn follow(&mut self, file: &Path) -> Result<(), Error> {
        let stderr = io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|error| Error::Spawn {
                program: "tail".into(),
                error,
            })?;
        let mut tail = Command::new("tail");
        tail.args(["-n", "0", "-q", "-F"]).arg(file).stdout(stderr);
        let tail = Child::spawn("tail", tail, Signal::SIGTERM)?;
        self.children.tails.push(tail);
        Ok(())
    }

    /// Starts PHP-FPM and waits until its socket is there. Returns early, with
    /// [`Self::is_stopping`], on SIGTERM or SIGINT meanwhile.
    pub(crate) fn start_fpm(&mut self, command: Command, socket: &Path) -> Result<(), Error> {
        self.children.fpm = Some(Child::spawn("PHP-FPM", command, Signal::SIGQUIT)?);
        let deadline = Instant::now() + FPM_START_TIMEOUT;
        loop {
            if fs::metadata(socket).is_ok_and(|metadata| metadata.file_type().is_socket()) {
                return Ok(());
            }
            // Before reaping: Ctrl-C in a terminal also ends FPM, which is no failure then.
            if let Some(signal) = self.signals.pending().find(|signal| *signal != SIGCHLD) {
                self.children.on_signal(signal);
                return Ok(());
            }
            if let Some((_, exit)) = self.children.reap() {
                return Err(Error::FpmFailed(exit));
            }
            if Instant::now() >= deadline {
                return Err(Error::FpmTimeout {
                    socket: socket.to_path_buf(),
                    waited: FPM_START_TIMEOUT,
                });
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.children.stopping.is_some()
    }

    /// Starts the web server `name`, which `graceful_stop` stops once its requests are answered.
    pub(crate) fn start_server(
        &mut self,
        name: &'static str,
        command: Command,
        graceful_stop: Signal,
    ) -> Result<(), Error> {
        self.children.server = Some(Child::spawn(name, command, graceful_stop)?);
        Ok(())
    }

    /// Until FPM and the server have both ended; the exit code.
    pub(crate) fn supervise(mut self) -> u8 {
        // The SIGCHLD of a child that ended while FPM started may have been read already.
        self.children.on_signal(SIGCHLD);
        loop {
            if let Some(code) = self.children.advance() {
                return code;
            }
            let signals: Vec<i32> = if self.children.stopping.is_some() {
                // Back soon to repeat the stop signal.
                thread::sleep(POLL_INTERVAL);
                self.signals.pending().collect()
            } else {
                self.signals.wait().collect()
            };
            for signal in signals {
                self.children.on_signal(signal);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(name: &'static str, script: &str) -> Child {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        Child::spawn(name, command, Signal::SIGTERM).unwrap()
    }

    fn children(fpm: Child, server: Child) -> Children {
        Children {
            command: "test".to_owned(),
            fpm: Some(fpm),
            server: Some(server),
            tails: Vec::new(),
            stopping: None,
        }
    }

    /// What `Supervisor::supervise` does, with SIGCHLD polled instead of awaited.
    fn run_to_exit(children: &mut Children) -> u8 {
        for _ in 0..50 {
            if let Some(code) = children.advance() {
                return code;
            }
            thread::sleep(POLL_INTERVAL);
            children.on_signal(SIGCHLD);
        }
        panic!("the children did not end within 5 s");
    }

    /// One test: `reap` waits for any child, so another test's children would interfere.
    #[test]
    fn stops() {
        let mut stopped = children(child("PHP-FPM", "sleep 30"), child("nginx", "sleep 30"));
        stopped.on_signal(SIGTERM);
        assert_eq!(stopped.advance(), None);
        let fpm = stopped.fpm.as_ref().unwrap();
        assert!(fpm.stop_sent.is_none(), "FPM stops after the server");
        assert_eq!(run_to_exit(&mut stopped), 0);

        let mut failed = children(child("PHP-FPM", "sleep 30"), child("nginx", "exit 3"));
        assert_eq!(run_to_exit(&mut failed), 3);
        assert!(failed.fpm.is_none(), "FPM was stopped");
    }
}
