//! The start check: after the build, the `web` process starts as the image will start it — by
//! the lifecycle's own launcher, with the processes and the launch layers the image will have —
//! for a few seconds, with PORT set. A process that exits at once would likely crash on
//! Toolforge too, so the build warns with its last lines of output. The check never fails the
//! build: a tool that needs a database or another service to start cannot start here and may
//! well work on Toolforge.
//!
//! The image stays what it would be without the check: the process's whole group is killed, the
//! temporary layers directory removed, and what the process created in the app directory
//! removed (Toolforge's tool account cannot write there, so an app that writes at start only
//! shows it here).

use libtoolforge::output::{BuildOutput, format_duration};
use libtoolforge::private_dir;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime};

/// The lifecycle's launcher: in every builder image, and the entrypoint of every image built.
const LAUNCHER: &str = "/cnb/lifecycle/launcher";
/// How long the web process gets to listen. Web servers listen within a second or two of
/// starting; one that has not after five is waiting for something (a database) or is no web
/// server, and a build should not wait longer for it.
const DEADLINE: Duration = Duration::from_secs(5);
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
/// The port Toolforge's web services listen on (`environment_layer::DEFAULT_PORT`).
const TOOLFORGE_PORT: u16 = 8000;
/// The run image's environment (stacks/run.Dockerfile). The exporter puts /cnb/process and
/// /cnb/lifecycle before PATH, and the launcher takes them out again.
const RUN_IMAGE_ENV: [(&str, &str); 3] = [
    (
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("LANG", "C.UTF-8"),
    ("LC_ALL", "C.UTF-8"),
];
/// The Platform API the exporter sets in the image (`CNB_PLATFORM_API`): the newest that pack
/// 0.40.6 and lifecycle 0.21.17 both support. Buildpacks are not given the build's.
const PLATFORM_API: &str = "0.15";

/// Starts the app's `web` process and says how it went. `buildpack_layers_dir` is this
/// buildpack's layers directory, whose parent holds every buildpack's.
pub(crate) fn run(app_dir: &Path, buildpack_layers_dir: &Path, enabled: bool, output: &mut BuildOutput) {
    if !enabled {
        output.step("Start check: off ([org.toolforge.build] start-check = false in project.toml)");
        return;
    }
    if !Path::new(LAUNCHER).is_file() {
        output.step(&format!(
            "Start check: skipped, this platform has no lifecycle launcher at {LAUNCHER}"
        ));
        return;
    }
    let root = buildpack_layers_dir.parent().unwrap_or(buildpack_layers_dir);
    match check(app_dir, root, Path::new(LAUNCHER), DEADLINE) {
        Ok(None) => output.step("Start check: no web process: nothing to check"),
        Ok(Some(checked)) => report(&checked, output),
        Err(reason) => output.step(&format!("Start check: skipped, {reason}")),
    }
}

/// What a check found.
struct Checked {
    port: u16,
    watched: Watched,
    changes: AppChanges,
    /// Launch layers kept from the previous image, whose files are not here.
    absent_layers: Vec<String>,
}

fn check(
    app_dir: &Path,
    root: &Path,
    launcher: &Path,
    deadline: Duration,
) -> Result<Option<Checked>, String> {
    let group = read_group(&root.join("group.toml"))?;
    let processes = merged_processes(root, &group)?;
    if !processes.contains_key("web") {
        return Ok(None);
    }
    // A directory only this build's user can write, in /tmp (not in the layers, which export).
    let scratch = std::env::temp_dir().join(format!("toolforge-start-check-{}", std::process::id()));
    private_dir::create(&scratch, nix::unistd::getuid().as_raw())
        .map_err(|error| format!("cannot create {}: {error}", scratch.display()))?;
    let checked = check_in(&scratch, app_dir, root, launcher, &group, processes, deadline);
    let _ = std::fs::remove_dir_all(&scratch);
    checked.map(Some)
}

fn check_in(
    scratch: &Path,
    app_dir: &Path,
    root: &Path,
    launcher: &Path,
    group: &[GroupBuildpack],
    processes: BTreeMap<String, MetadataProcess>,
    deadline: Duration,
) -> Result<Checked, String> {
    fn cannot(what: &'static str) -> impl Fn(io::Error) -> String {
        move |error| format!("cannot {what}: {error}")
    }
    let metadata = launch_metadata(group, processes.into_values().collect());
    std::fs::create_dir(scratch.join("config")).map_err(cannot("write the launcher's metadata"))?;
    std::fs::write(scratch.join("config").join("metadata.toml"), metadata)
        .map_err(cannot("write the launcher's metadata"))?;
    let absent_layers = link_launch_layers(root, scratch, group).map_err(cannot("link the launch layers"))?;
    // The launcher runs the process named by its own name, as /cnb/process/web does.
    let web = scratch.join("web");
    std::os::unix::fs::symlink(launcher, &web).map_err(cannot("link the launcher"))?;
    let port = choose_port(TOOLFORGE_PORT);
    let before = AppTree::read(app_dir).map_err(cannot("list the app directory"))?;
    let watched = watch(launch_command(&web, scratch, app_dir, port), port, deadline)
        .map_err(cannot("start the launcher"));
    let changes = before.restore(app_dir);
    Ok(Checked {
        port,
        watched: watched?,
        changes,
        absent_layers,
    })
}

/// The launcher as the image's entrypoint runs it: the run image's environment and what the
/// exporter adds, no HOME (Toolforge sets none; the exec.d program chooses it), PORT.
fn launch_command(web: &Path, layers: &Path, app_dir: &Path, port: u16) -> Command {
    let mut command = Command::new(web);
    command
        .env_clear()
        .envs(RUN_IMAGE_ENV)
        .env("CNB_LAYERS_DIR", layers)
        .env("CNB_APP_DIR", app_dir)
        .env("CNB_PLATFORM_API", PLATFORM_API)
        .env("CNB_DEPRECATION_MODE", "quiet")
        .env("PORT", port.to_string())
        .current_dir(app_dir);
    command
}

fn report(checked: &Checked, output: &mut BuildOutput) {
    let Checked {
        port,
        watched,
        changes,
        absent_layers,
    } = checked;
    let after = format_duration(watched.after);
    match watched.outcome {
        Outcome::Listening => output.step(&format!(
            "Start check: web process started: listening on port {port} after {after}"
        )),
        Outcome::StillRunning => output.step(&format!(
            "Start check: web process still running after {after}, not yet listening on port {port}"
        )),
        Outcome::Exited(status) => {
            output.step("Start check: the web process exited at start");
            output.warning(&exited_warning(status, watched));
        }
    }
    if *port != TOOLFORGE_PORT {
        output.detail(&format!(
            "port {TOOLFORGE_PORT} is taken here (a build with --network host?), so the check used port {port}"
        ));
    }
    let listed = |paths: &[PathBuf]| {
        const SHOWN: usize = 10;
        let mut names: Vec<String> = paths
            .iter()
            .take(SHOWN)
            .map(|path| path.display().to_string())
            .collect();
        if paths.len() > SHOWN {
            names.push(format!("and {} more", paths.len() - SHOWN));
        }
        names.join(", ")
    };
    if !changes.removed.is_empty() {
        output.detail(&format!(
            "removed what it created in the app directory: {}",
            listed(&changes.removed)
        ));
    }
    if !changes.modified.is_empty() {
        output.detail(&format!(
            "it changed app files, and the image has them as changed: {}",
            listed(&changes.modified)
        ));
    }
    if !changes.deleted.is_empty() {
        output.detail(&format!(
            "it deleted app files, and the image lacks them: {}",
            listed(&changes.deleted)
        ));
    }
    for failure in &changes.failures {
        output.detail(failure);
    }
    if !absent_layers.is_empty() {
        output.detail(&format!(
            "launch layers kept from the previous image are not here, so it ran without them: {}",
            absent_layers.join(", ")
        ));
    }
}

fn exited_warning(status: ExitStatus, watched: &Watched) -> String {
    let mut text = format!(
        "The web process exited {} after it started ({status}).\n",
        format_duration(watched.after)
    );
    if watched.tail.is_empty() {
        text.push_str("It printed nothing.\n");
    } else {
        text.push_str("Its last lines of output:\n\n");
        for line in &watched.tail {
            // Infallible: writing to a String.
            let _ = writeln!(text, "    {line}");
        }
        text.push('\n');
    }
    text.push_str(
        "It would likely crash the same way on Toolforge. A tool that needs a database or another \
         service to start may fail here and still work on Toolforge.\n\
         To turn this check off, set `start-check = false` under `[org.toolforge.build]` in project.toml.",
    );
    text
}

/// 8000, Toolforge's, when it is free on both loopback and every address; else one the system
/// chooses (a build with `--network host` shares the machine's ports).
fn choose_port(preferred: u16) -> u16 {
    let free = |address: Ipv4Addr| TcpListener::bind((address, preferred)).is_ok();
    if free(Ipv4Addr::LOCALHOST) && free(Ipv4Addr::UNSPECIFIED) {
        return preferred;
    }
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map_or(preferred, |address| address.port())
}

// ---- The processes and layers the image will have ------------------------------------------

/// `<layers>/group.toml`, the detector's output: the buildpacks of the build, in order.
#[derive(Deserialize)]
struct GroupToml {
    #[serde(default)]
    group: Vec<GroupBuildpack>,
}

/// A buildpack as group.toml and the image's metadata.toml list it.
#[derive(Debug, Clone, Deserialize, Serialize)]
struct GroupBuildpack {
    id: String,
    version: String,
    api: String,
}

/// A buildpack's `launch.toml`.
#[derive(Deserialize)]
struct LaunchToml {
    #[serde(default)]
    processes: Vec<LaunchProcess>,
}

/// A process of launch.toml, as buildpacks of API 0.9 and later write them (ours are 0.10).
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct LaunchProcess {
    r#type: String,
    command: Vec<String>,
    #[serde(default)]
    args: Vec<String>,
    working_dir: Option<String>,
    #[serde(default)]
    exec_env: Vec<String>,
}

/// A process as the lifecycle's builder writes it to `<layers>/config/metadata.toml`, which the
/// exporter puts in the image for the launcher (lifecycle's `launch.Process`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct MetadataProcess {
    r#type: String,
    command: Vec<String>,
    args: Vec<String>,
    /// Every process of Buildpack API 0.9 and later is direct.
    direct: bool,
    buildpack_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    working_dir: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    exec_env: Vec<String>,
}

fn read_group(path: &Path) -> Result<Vec<GroupBuildpack>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let group: GroupToml =
        toml::from_str(&text).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    Ok(group.group)
}

/// The lifecycle's name for a buildpack's directory (`toolforge/python` → `toolforge_python`).
fn escaped(id: &str) -> String {
    id.replace('/', "_")
}

/// Every buildpack's processes by type, as the lifecycle merges them: a later buildpack's
/// process replaces an earlier one's of the same type; listed by type.
fn merged_processes(
    root: &Path,
    group: &[GroupBuildpack],
) -> Result<BTreeMap<String, MetadataProcess>, String> {
    let mut processes = BTreeMap::new();
    for buildpack in group {
        let path = root.join(escaped(&buildpack.id)).join("launch.toml");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
        };
        let launch: LaunchToml =
            toml::from_str(&text).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        for process in launch.processes {
            let LaunchProcess {
                r#type,
                command,
                args,
                working_dir,
                exec_env,
            } = process;
            let merged = MetadataProcess {
                r#type: r#type.clone(),
                command,
                args,
                direct: true,
                buildpack_id: buildpack.id.clone(),
                working_dir,
                exec_env,
            };
            processes.insert(r#type, merged);
        }
    }
    Ok(processes)
}

/// The part of metadata.toml the launcher reads: the processes and the buildpacks.
fn launch_metadata(group: &[GroupBuildpack], processes: Vec<MetadataProcess>) -> String {
    #[derive(Serialize)]
    struct Metadata<'a> {
        buildpacks: &'a [GroupBuildpack],
        processes: Vec<MetadataProcess>,
    }
    // Infallible: strings and booleans only.
    toml::to_string(&Metadata {
        buildpacks: group,
        processes,
    })
    .unwrap_or_default()
}

/// Gives `scratch` each buildpack's launch layers (`[types] launch = true`), which the image
/// will have, and not its build-only or cache-only ones. The launcher only applies real
/// directories (Go's `DirEntry.IsDir` does not follow a symbolic link), so each layer is a
/// directory of links to the real layer's entries. Returns the launch layers whose files are not
/// here: a launch-only layer kept from the previous image stays in the registry.
fn link_launch_layers(root: &Path, scratch: &Path, group: &[GroupBuildpack]) -> io::Result<Vec<String>> {
    let mut absent = Vec::new();
    for buildpack in group {
        let dir = root.join(escaped(&buildpack.id));
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        let mut names = Vec::new();
        for entry in entries {
            let path = entry?.path();
            let Some(name) = path.file_stem().and_then(|stem| stem.to_str()) else {
                continue;
            };
            let is_toml = path.extension().is_some_and(|extension| extension == "toml");
            if is_toml && !["launch", "build", "store"].contains(&name) && is_launch_layer(&path) {
                names.push(name.to_string());
            }
        }
        names.sort();
        for name in names {
            let layer = dir.join(&name);
            if !layer.is_dir() {
                absent.push(format!("{}:{name}", buildpack.id));
                continue;
            }
            let linked = scratch.join(escaped(&buildpack.id)).join(&name);
            std::fs::create_dir_all(&linked)?;
            for entry in std::fs::read_dir(&layer)? {
                let entry = entry?;
                std::os::unix::fs::symlink(entry.path(), linked.join(entry.file_name()))?;
            }
        }
    }
    Ok(absent)
}

fn is_launch_layer(layer_toml: &Path) -> bool {
    std::fs::read_to_string(layer_toml)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| table.get("types")?.get("launch")?.as_bool())
        .unwrap_or(false)
}

// ---- Watching the process -------------------------------------------------------------------

/// How the process went.
#[derive(Debug)]
struct Watched {
    outcome: Outcome,
    /// From its start to the outcome.
    after: Duration,
    /// Its last lines of output, stdout and stderr together.
    tail: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Listening,
    StillRunning,
    Exited(ExitStatus),
}

/// Starts `command` in a process group of its own and watches it until it listens on `port`,
/// exits, or `deadline` passes; then stops the whole group (a server's workers too).
fn watch(mut command: Command, port: u16, deadline: Duration) -> io::Result<Watched> {
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

// ---- Leaving the app directory as it was ----------------------------------------------------

/// The app directory's entries by path (relative), not looking into `node_modules` (large, and
/// no server writes there at start).
struct AppTree {
    entries: BTreeMap<PathBuf, Stamp>,
}

/// Enough of an entry to tell that it changed.
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    directory: bool,
    len: u64,
    modified: Option<SystemTime>,
}

/// What the process did to the app directory.
#[derive(Debug, Default)]
struct AppChanges {
    /// Created by it, and removed since.
    removed: Vec<PathBuf>,
    /// Changed by it: the image has them as it left them.
    modified: Vec<PathBuf>,
    /// Deleted by it.
    deleted: Vec<PathBuf>,
    failures: Vec<String>,
}

impl AppTree {
    fn read(app_dir: &Path) -> io::Result<Self> {
        let mut entries = BTreeMap::new();
        let mut pending = vec![PathBuf::new()];
        while let Some(relative) = pending.pop() {
            for entry in std::fs::read_dir(app_dir.join(&relative))? {
                let entry = entry?;
                let metadata = entry.metadata()?;
                let path = relative.join(entry.file_name());
                // `DirEntry::metadata` does not follow links: a link to a directory is not walked.
                if metadata.is_dir() && entry.file_name() != "node_modules" {
                    pending.push(path.clone());
                }
                let stamp = Stamp {
                    directory: metadata.is_dir(),
                    len: if metadata.is_dir() { 0 } else { metadata.len() },
                    modified: if metadata.is_dir() {
                        None
                    } else {
                        metadata.modified().ok()
                    },
                };
                entries.insert(path, stamp);
            }
        }
        Ok(Self { entries })
    }

    /// Removes what was created in `app_dir` since `self` was read; reports what changed.
    fn restore(&self, app_dir: &Path) -> AppChanges {
        let mut changes = AppChanges::default();
        let now = match Self::read(app_dir) {
            Ok(now) => now,
            Err(error) => {
                changes
                    .failures
                    .push(format!("cannot list the app directory after the check: {error}"));
                return changes;
            }
        };
        // Created by the process: removed whole, so entries under one are skipped. Paths sort by
        // component, so a directory comes before its entries.
        let mut created: Vec<&Path> = Vec::new();
        for (path, stamp) in &now.entries {
            if created.iter().any(|root| path.starts_with(root)) {
                continue;
            }
            match self.entries.get(path) {
                None => {
                    created.push(path);
                    let full = app_dir.join(path);
                    let removed = if stamp.directory {
                        std::fs::remove_dir_all(&full)
                    } else {
                        std::fs::remove_file(&full)
                    };
                    match removed {
                        Ok(()) => changes.removed.push(path.clone()),
                        Err(error) => changes.failures.push(format!(
                            "cannot remove {} from the app directory: {error}",
                            path.display()
                        )),
                    }
                }
                Some(before) if before != stamp && !stamp.directory => changes.modified.push(path.clone()),
                _ => {}
            }
        }
        for path in self.entries.keys() {
            let under_deleted = changes.deleted.iter().any(|deleted| path.starts_with(deleted));
            if !now.entries.contains_key(path) && !under_deleted {
                changes.deleted.push(path.clone());
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::ExitStatusExt;

    const GROUP: &str = "[[group]]\nid = \"toolforge/python\"\nversion = \"0.1.0\"\napi = \"0.10\"\n\n\
                         [[group]]\nid = \"toolforge/procfile\"\nversion = \"0.1.0\"\napi = \"0.10\"\n\n\
                         [[group]]\nid = \"toolforge/toolforge\"\nversion = \"0.1.0\"\napi = \"0.10\"\n";

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A layers root as the build leaves it: python's web process, which the Procfile's
    /// replaces, and a launch layer, a build-only layer and a launch layer without its files.
    fn layers_root() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let root_path = root.path();
        write(&root_path.join("group.toml"), GROUP);
        write(
            &root_path.join("toolforge_python/launch.toml"),
            "[[processes]]\ntype = \"web\"\ncommand = [\"gunicorn\", \"app:app\"]\nargs = []\ndefault = true\n\n\
             [[processes]]\ntype = \"migrate\"\ncommand = [\"python\", \"manage.py\", \"migrate\"]\n",
        );
        write(
            &root_path.join("toolforge_python/venv.toml"),
            "[types]\nlaunch = true\ncache = true\n",
        );
        write(&root_path.join("toolforge_python/venv/bin/python"), "");
        write(&root_path.join("toolforge_python/venv/pyvenv.cfg"), "");
        write(
            &root_path.join("toolforge_python/uv.toml"),
            "[types]\nbuild = true\n",
        );
        write(&root_path.join("toolforge_python/uv/bin/uv"), "");
        write(
            &root_path.join("toolforge_python/kept.toml"),
            "[types]\nlaunch = true\n",
        );
        write(
            &root_path.join("toolforge_procfile/launch.toml"),
            "[[processes]]\ntype = \"web\"\ncommand = [\"bash\", \"-c\", \"exec gunicorn -b 0.0.0.0:$PORT app:app\"]\n\
             args = []\ndefault = true\nworking-dir = \"/workspace/site\"\n",
        );
        root
    }

    fn group() -> Vec<GroupBuildpack> {
        toml::from_str::<GroupToml>(GROUP).unwrap().group
    }

    #[test]
    fn later_buildpacks_replace_processes_and_only_launch_layers_are_linked() {
        let root = layers_root();
        let processes = merged_processes(root.path(), &group()).unwrap();
        assert_eq!(processes.keys().collect::<Vec<_>>(), ["migrate", "web"]);
        assert_eq!(processes["web"].buildpack_id, "toolforge/procfile");
        insta::assert_snapshot!(launch_metadata(&group(), processes.into_values().collect()));

        let scratch = tempfile::tempdir().unwrap();
        let absent = link_launch_layers(root.path(), scratch.path(), &group()).unwrap();
        assert_eq!(absent, ["toolforge/python:kept"]);
        let venv = scratch.path().join("toolforge_python/venv");
        assert!(
            std::fs::symlink_metadata(&venv).unwrap().is_dir(),
            "a real directory"
        );
        assert_eq!(
            std::fs::read_link(venv.join("pyvenv.cfg")).unwrap(),
            root.path().join("toolforge_python/venv/pyvenv.cfg")
        );
        assert!(venv.join("bin/python").is_file());
        assert!(!scratch.path().join("toolforge_python/uv").exists(), "build-only");
        assert!(!scratch.path().join("toolforge_procfile").exists(), "no layers");
    }

    #[test]
    fn a_bad_launch_toml_skips_the_check() {
        let root = layers_root();
        write(
            &root.path().join("toolforge_procfile/launch.toml"),
            "[[processes]]\ntype = 1\n",
        );
        let error = merged_processes(root.path(), &group()).unwrap_err();
        assert!(error.starts_with("cannot read "), "{error}");
        assert!(read_group(&root.path().join("missing.toml")).is_err());
    }

    #[test]
    fn the_port_is_8000_unless_taken() {
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let taken_port = taken.local_addr().unwrap().port();
        let chosen = choose_port(taken_port);
        assert_ne!(chosen, taken_port);
        assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, chosen)).is_ok());
        drop(taken);
        assert_eq!(choose_port(taken_port), taken_port);
    }

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
        insta::assert_snapshot!(exited_warning(ExitStatus::from_raw(1 << 8), &watched));
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

    #[test]
    fn what_the_process_created_is_removed_and_changes_are_told() {
        let app = tempfile::tempdir().unwrap();
        let app_path = app.path();
        write(&app_path.join("app.py"), "print('hi')\n");
        write(&app_path.join("settings.py"), "A = 1\n");
        write(&app_path.join("gone.txt"), "");
        write(&app_path.join("node_modules/a/index.js"), "");
        let before = AppTree::read(app_path).unwrap();
        write(&app_path.join("__pycache__/app.cpython-313.pyc"), "x");
        write(&app_path.join("app.log"), "started\n");
        write(&app_path.join("settings.py"), "A = 2 # changed\n");
        write(&app_path.join("node_modules/a/.cache"), "");
        std::fs::remove_file(app_path.join("gone.txt")).unwrap();
        let changes = before.restore(app_path);
        assert_eq!(
            changes.removed,
            [PathBuf::from("__pycache__"), PathBuf::from("app.log")]
        );
        assert_eq!(changes.modified, [PathBuf::from("settings.py")]);
        assert_eq!(changes.deleted, [PathBuf::from("gone.txt")]);
        assert!(changes.failures.is_empty(), "{:?}", changes.failures);
        assert!(!app_path.join("__pycache__").exists() && !app_path.join("app.log").exists());
        // Not looked into: left as it is.
        assert!(app_path.join("node_modules/a/.cache").exists());
    }

    fn fake_launcher(dir: &Path, script: &str) -> PathBuf {
        let launcher = dir.join("launcher");
        write(&launcher, &format!("#!/bin/sh\n{script}\n"));
        std::fs::set_permissions(&launcher, std::fs::Permissions::from_mode(0o755)).unwrap();
        launcher
    }

    #[test]
    fn the_launcher_runs_as_web_in_the_app_directory_with_the_image_environment() {
        let root = layers_root();
        let app = tempfile::tempdir().unwrap();
        let tools = tempfile::tempdir().unwrap();
        let launcher = fake_launcher(
            tools.path(),
            "echo \"$(basename \"$0\") $(pwd) home=${HOME:-unset} $PORT $CNB_PLATFORM_API\"\n\
             cat \"$CNB_LAYERS_DIR/config/metadata.toml\" | grep -c '^\\[\\[processes\\]\\]'\n\
             ls \"$CNB_LAYERS_DIR/toolforge_python\"\n\
             touch created.db; exit 1",
        );
        let checked = check(app.path(), root.path(), &launcher, DEADLINE)
            .unwrap()
            .unwrap();
        assert!(matches!(checked.watched.outcome, Outcome::Exited(_)));
        let mut tail = checked.watched.tail.clone();
        tail.sort();
        let app_dir = app.path().canonicalize().unwrap();
        let first = format!("web {} home=unset {} 0.15", app_dir.display(), checked.port);
        assert_eq!(tail, ["2", "venv", &first]);
        assert_eq!(checked.changes.removed, [PathBuf::from("created.db")]);
        assert_eq!(checked.absent_layers, ["toolforge/python:kept"]);
        assert!(!app.path().join("created.db").exists());
        let scratch = std::env::temp_dir().join(format!("toolforge-start-check-{}", std::process::id()));
        assert!(!scratch.exists(), "the temporary layers are removed");

        std::fs::remove_file(root.path().join("toolforge_procfile/launch.toml")).unwrap();
        write(
            &root.path().join("toolforge_python/launch.toml"),
            "[[processes]]\ntype = \"worker\"\ncommand = [\"w\"]\n",
        );
        assert!(
            check(app.path(), root.path(), &launcher, DEADLINE)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn the_report_lines() {
        let mut text = Vec::new();
        let captured = Captured::default();
        let mut output = BuildOutput::start_with(Box::new(captured.clone()), "T", "t/t");
        let checked = |outcome, port| Checked {
            port,
            watched: Watched {
                outcome,
                after: Duration::from_millis(1300),
                tail: vec![],
            },
            changes: AppChanges {
                removed: vec![PathBuf::from("__pycache__")],
                ..AppChanges::default()
            },
            absent_layers: vec![],
        };
        report(&checked(Outcome::Listening, 8000), &mut output);
        report(&checked(Outcome::StillRunning, 41234), &mut output);
        run(
            Path::new("/nonexistent"),
            Path::new("/nonexistent/t"),
            false,
            &mut output,
        );
        text.extend(captured.0.lock().unwrap().iter());
        insta::assert_snapshot!(String::from_utf8(text).unwrap());
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// With the lifecycle's real launcher (from the lifecycle tarball, `lifecycle/launcher`):
    /// `TOOLFORGE_TEST_LAUNCHER=/path/to/launcher cargo test -p toolforge-toolforge -- --ignored`.
    #[test]
    #[ignore = "needs the lifecycle's launcher: set TOOLFORGE_TEST_LAUNCHER"]
    fn the_real_launcher_starts_the_web_process_with_the_launch_layers() {
        let launcher = PathBuf::from(std::env::var("TOOLFORGE_TEST_LAUNCHER").unwrap());
        let root = tempfile::tempdir().unwrap();
        let app = tempfile::tempdir().unwrap();
        write(&root.path().join("group.toml"), GROUP);
        // A launch layer with a program on PATH and an environment variable; a build-only one
        // whose variable must not reach the process.
        write(
            &root.path().join("toolforge_python/runtime.toml"),
            "[types]\nlaunch = true\n",
        );
        write(
            &root.path().join("toolforge_python/runtime/bin/greet"),
            "#!/bin/sh\necho \"hello $GREETING\"\n",
        );
        std::fs::set_permissions(
            root.path().join("toolforge_python/runtime/bin/greet"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        write(
            &root
                .path()
                .join("toolforge_python/runtime/env.launch/GREETING.default"),
            "from the layer",
        );
        write(
            &root.path().join("toolforge_python/tools.toml"),
            "[types]\nbuild = true\n",
        );
        write(
            &root.path().join("toolforge_python/tools/env/BUILD_ONLY.default"),
            "leaked",
        );
        write(
            &root.path().join("toolforge_procfile/launch.toml"),
            "[[processes]]\ntype = \"web\"\ncommand = [\"bash\", \"-c\", \"greet; echo build=${BUILD_ONLY:-none} home=${HOME:-unset}; exit 7\"]\nargs = []\ndefault = true\n",
        );
        let checked = check(app.path(), root.path(), &launcher, DEADLINE)
            .unwrap()
            .unwrap();
        assert_eq!(
            checked.watched.outcome,
            Outcome::Exited(ExitStatus::from_raw(7 << 8)),
            "{:?}",
            checked.watched.tail
        );
        assert_eq!(
            checked.watched.tail,
            ["hello from the layer", "build=none home=unset"]
        );
    }
}
