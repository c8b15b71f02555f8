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

mod app_dir;
mod launch_metadata;
mod watch;

use crate::environment_layer::DEFAULT_PORT;
use crate::exported::{self, GroupBuildpack};
use app_dir::{AppChanges, AppTree};
use launch_metadata::{MetadataProcess, launch_metadata, link_launch_layers, merged_processes};
use libtoolforge::output::{BuildOutput, format_duration};
use libtoolforge::private_dir;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;
use watch::{Outcome, Watched, watch};

/// The lifecycle's launcher: in every builder image, and the entrypoint of every image built.
const LAUNCHER: &str = "/cnb/lifecycle/launcher";
/// How long the web process gets to listen. Web servers listen within a second or two of
/// starting; one that has not after five is waiting for something (a database) or is no web
/// server, and a build should not wait longer for it.
const DEADLINE: Duration = Duration::from_secs(5);
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
}

fn check(
    app_dir: &Path,
    root: &Path,
    launcher: &Path,
    deadline: Duration,
) -> Result<Option<Checked>, String> {
    let group = exported::read_group(root)?;
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
    // Without them the process would fail to start (its programs are there): not the image's fault.
    if !absent_layers.is_empty() {
        return Err(format!(
            "launch layers are reused from the previous image without their files: {}",
            absent_layers.join(", ")
        ));
    }
    // The launcher runs the process named by its own name, as /cnb/process/web does.
    let web = scratch.join("web");
    std::os::unix::fs::symlink(launcher, &web).map_err(cannot("link the launcher"))?;
    let port = choose_port(DEFAULT_PORT);
    let before = AppTree::read(app_dir).map_err(cannot("list the app directory"))?;
    let watched = watch(launch_command(&web, scratch, app_dir, port), port, deadline)
        .map_err(cannot("start the launcher"));
    let changes = before.restore(app_dir);
    Ok(Checked {
        port,
        watched: watched?,
        changes,
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
    if *port != DEFAULT_PORT {
        output.detail(&format!(
            "port {DEFAULT_PORT} is taken here (a build with --network host?), so the check used port {port}"
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::ExitStatusExt;
    use std::sync::{Arc, Mutex};

    const GROUP: &str = "[[group]]\nid = \"toolforge/python\"\nversion = \"0.1.0\"\napi = \"0.10\"\n\n\
                         [[group]]\nid = \"toolforge/procfile\"\nversion = \"0.1.0\"\napi = \"0.10\"\n\n\
                         [[group]]\nid = \"toolforge/toolforge\"\nversion = \"0.1.0\"\napi = \"0.10\"\n";

    pub(super) fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A layers root as the build leaves it: python's web process, which the Procfile's
    /// replaces, and a launch layer, a build-only layer and a launch layer without its files.
    pub(super) fn layers_root() -> tempfile::TempDir {
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
        let skipped = check(app.path(), root.path(), &launcher, DEADLINE).err().unwrap();
        assert_eq!(
            skipped,
            "launch layers are reused from the previous image without their files: toolforge/python:kept"
        );
        std::fs::remove_file(root.path().join("toolforge_python/kept.toml")).unwrap();
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
        let skipped = check(app.path(), root.path(), &launcher, DEADLINE).err().unwrap();
        assert_eq!(
            skipped,
            "launch layers are reused from the previous image without their files: toolforge/python:kept"
        );
        std::fs::remove_file(root.path().join("toolforge_python/kept.toml")).unwrap();
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
