//! Machine set-up: a Docker engine that answers, and Debian packages the other steps need.
//! On a machine that already has them, nothing is installed.

use crate::command;
use anyhow::{Context, bail};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a freshly started dockerd gets to answer.
const DOCKERD_START_TIMEOUT: Duration = Duration::from_mins(1);

/// Makes sure `docker info` answers: installs Debian's `docker.io` when there is no engine, and
/// starts `dockerd` when none is running.
///
/// # Errors
///
/// When Docker cannot be installed or the engine does not start; the error carries dockerd's log.
pub fn ensure_docker() -> anyhow::Result<String> {
    if docker_answers() {
        return Ok("engine answers".to_string());
    }
    let mut done = Vec::new();
    if !command::on_path("dockerd") {
        apt_install(&["docker.io"])?;
        done.push("installed docker.io");
    }
    if !docker_answers() {
        start_dockerd()?;
        done.push("started dockerd");
    }
    Ok(done.join(", "))
}

fn docker_answers() -> bool {
    command::on_path("docker") && command::succeeds(Command::new("docker").arg("info"))
}

fn start_dockerd() -> anyhow::Result<()> {
    let log_path = crate::paths::cache_dir().join("dockerd.log");
    std::fs::create_dir_all(crate::paths::cache_dir())?;
    let log = std::fs::File::create(&log_path)?;
    // setsid: the engine outlives this command, as a service would.
    Command::new("setsid")
        .arg("dockerd")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("cannot start dockerd")?;
    let started = Instant::now();
    while started.elapsed() < DOCKERD_START_TIMEOUT {
        if docker_answers() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(20).collect();
    bail!(
        "dockerd did not answer within {}s; the end of {}:\n{}",
        DOCKERD_START_TIMEOUT.as_secs(),
        log_path.display(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    )
}

/// Installs Debian packages that are not installed yet.
///
/// # Errors
///
/// When apt-get fails (for example when not run as root).
pub fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|package| {
            !command::output(Command::new("dpkg-query").args(["-W", "-f", "${Status}", package]))
                .is_ok_and(|status| status.contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("    installing Debian packages: {}", missing.join(" "));
    command::run(
        Command::new("apt-get")
            .args(["update", "-q"])
            .stdout(Stdio::null()),
    )
    .context("apt-get update failed (set-up installs packages, so it needs root)")?;
    command::run(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null()),
    )
}
