//! Watching the started process: in a process group of its own, its output kept to its last
//! lines, the whole group stopped at the end.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// How often the check looks whether the process exited or listens.
const POLL: Duration = Duration::from_millis(100);
/// Between SIGTERM and SIGKILL: time for a server to stop its workers.
const TERM_GRACE: Duration = Duration::from_secs(1);
/// How long the output is read after the process ended: a child that left the group may hold
/// the pipes open for ever.
const READ_GRACE: Duration = Duration::from_millis(300);
/// The lines of output the warning shows.
const TAIL_LINES: usize = 20;
/// The bytes kept of one line of output.
const MAX_LINE: usize = 400;

/// How the process went.
#[derive(Debug)]
pub(super) struct Watched {
    pub(super) outcome: Outcome,
    /// From its start to the outcome.
    pub(super) after: Duration,
    /// Its last lines of output, stdout and stderr together.
    pub(super) tail: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Listening,
    StillRunning,
    Exited(ExitStatus),
}

/// Starts `command` in a process group of its own and watches it until it listens on `port`,
/// exits, or `deadline` passes; then stops the whole group (a server's workers too).
pub(super) fn watch(mut command: Command, port: u16, deadline: Duration) -> io::Result<Watched> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let started = Instant::now();
    let mut child = command.spawn()?;
    let tail = Arc::new(Mutex::new(Tail::default()));
    let (finished, readers_done) = mpsc::channel();
    let mut readers = 0;
    let streams: [Option<Box<dyn Read + Send>>; 2] = [
        child
            .stdout
            .take()
            .map(|stream| Box::new(stream) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|stream| Box::new(stream) as Box<dyn Read + Send>),
    ];
    for stream in streams.into_iter().flatten() {
        let (tail, finished) = (Arc::clone(&tail), finished.clone());
        readers += 1;
        // Not joined: a grandchild that left the group may keep the pipe open.
        std::thread::spawn(move || {
            read_lines(stream, &tail);
            let _ = finished.send(());
        });
    }
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let outcome = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(Outcome::Exited(status)),
            Ok(None) => {}
            Err(error) => break Err(error),
        }
        if TcpStream::connect_timeout(&address, POLL).is_ok() {
            break Ok(Outcome::Listening);
        }
        if started.elapsed() >= deadline {
            break Ok(Outcome::StillRunning);
        }
        std::thread::sleep(POLL);
    };
    let after = started.elapsed();
    stop_group(&mut child);
    let reading_until = Instant::now() + READ_GRACE;
    for _ in 0..readers {
        if readers_done
            .recv_timeout(reading_until.saturating_duration_since(Instant::now()))
            .is_err()
        {
            break;
        }
    }
    let tail = tail
        .lock()
        .map(|tail| tail.lines.iter().cloned().collect())
        .unwrap_or_default();
    Ok(Watched {
        outcome: outcome?,
        after,
        tail,
    })
}

/// SIGTERM to the whole group, SIGKILL to what is left of it after `TERM_GRACE`, so that no
/// process of the check lives on into the export.
fn stop_group(child: &mut Child) {
    let Ok(id) = i32::try_from(child.id()) else {
        return;
    };
    let group = Pid::from_raw(id);
    let _ = killpg(group, Signal::SIGTERM);
    let until = Instant::now() + TERM_GRACE;
    // Reaped, the child no longer counts as a member; the group is gone when its last member is.
    while child.try_wait().is_ok() && killpg(group, None).is_ok() && Instant::now() < until {
        std::thread::sleep(POLL / 4);
    }
    let _ = killpg(group, Signal::SIGKILL);
    let _ = child.wait();
}

/// The last `TAIL_LINES` lines of output: a chatty process neither blocks on a full pipe nor
/// grows the build's memory.
#[derive(Default)]
struct Tail {
    lines: VecDeque<String>,
}

impl Tail {
    fn push(&mut self, line: &[u8], cut: bool) {
        if self.lines.len() == TAIL_LINES {
            self.lines.pop_front();
        }
        let mut text = String::from_utf8_lossy(line).trim_end_matches('\r').to_string();
        if cut {
            text.push('…');
        }
        self.lines.push_back(text);
    }
}

/// Reads `stream` to its end into `tail`, line by line, keeping `MAX_LINE` bytes of each.
fn read_lines(mut stream: impl Read, tail: &Mutex<Tail>) {
    let mut buffer = [0; 8192];
    let mut line = Vec::new();
    let mut cut = false;
    let push = |line: &mut Vec<u8>, cut: &mut bool| {
        if let Ok(mut tail) = tail.lock() {
            tail.push(line, *cut);
        }
        line.clear();
        *cut = false;
    };
    while let Ok(read @ 1..) = stream.read(&mut buffer) {
        for &byte in &buffer[..read] {
            if byte == b'\n' {
                push(&mut line, &mut cut);
            } else if line.len() < MAX_LINE {
                line.push(byte);
            } else {
                cut = true;
            }
        }
    }
    if !line.is_empty() {
        push(&mut line, &mut cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::start_check::DEADLINE;
    use std::net::TcpListener;
    use std::os::unix::process::ExitStatusExt;

    fn shell(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    /// A port nothing listens on (closed again at once).
    fn free_port() -> u16 {
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[test]
    fn a_process_that_exits_gives_its_status_and_last_lines() {
        let watched = watch(shell("echo one; echo boom >&2; exit 3"), free_port(), DEADLINE).unwrap();
        assert_eq!(watched.outcome, Outcome::Exited(ExitStatus::from_raw(3 << 8)));
        assert!(watched.after < Duration::from_secs(2), "{:?}", watched.after);
        let mut tail = watched.tail.clone();
        tail.sort();
        assert_eq!(tail, ["boom", "one"]);
        let watched = Watched {
            after: Duration::from_millis(420),
            tail: vec![
                "Traceback (most recent call last):".into(),
                "cannot start: missing setting".into(),
            ],
            ..watched
        };
        insta::assert_snapshot!(super::super::exited_warning(
            ExitStatus::from_raw(1 << 8),
            &watched
        ));
    }

    #[test]
    fn a_chatty_process_keeps_its_last_lines_only() {
        let script = "seq 1 200000; head -c 5000 /dev/zero | tr '\\0' x; echo; printf 'no newline'; exit 2";
        let watched = watch(shell(script), free_port(), DEADLINE).unwrap();
        assert!(matches!(watched.outcome, Outcome::Exited(_)));
        assert_eq!(watched.tail.len(), TAIL_LINES);
        assert_eq!(watched.tail[TAIL_LINES - 3], "200000");
        assert_eq!(watched.tail[TAIL_LINES - 2], format!("{}…", "x".repeat(MAX_LINE)));
        assert_eq!(watched.tail[TAIL_LINES - 1], "no newline");
    }

    #[test]
    fn a_listening_process_passes_at_once_and_is_stopped() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let started = Instant::now();
        let watched = watch(shell("exec sleep 30"), port, DEADLINE).unwrap();
        assert_eq!(watched.outcome, Outcome::Listening);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    fn gone(pid: &str) -> bool {
        // Gone, or a zombie waiting for its new parent to reap it.
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
            stat.rsplit(") ").next().is_some_and(|rest| rest.starts_with('Z'))
        })
    }

    #[test]
    fn a_process_still_running_at_the_deadline_is_killed_with_its_group() {
        // A child that ignores SIGTERM, as a stuck worker would: SIGKILL ends it.
        let script = "sh -c 'trap \"\" TERM; echo $$; while :; do sleep 0.1; done' & wait";
        let deadline = Duration::from_millis(500);
        let watched = watch(shell(script), free_port(), deadline).unwrap();
        assert_eq!(watched.outcome, Outcome::StillRunning);
        assert!(watched.after >= deadline);
        let pid = watched.tail.first().expect("the worker's pid").clone();
        // SIGKILL is delivered asynchronously: the worker dies within moments of the watch.
        let until = Instant::now() + Duration::from_secs(2);
        while !gone(&pid) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(gone(&pid), "worker {pid} survived");
    }
}
