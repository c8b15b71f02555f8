//! The end-to-end harness: builds apps with the real `pack` and lifecycle into images in the
//! local Docker engine, and runs them the way Toolforge runs tools (an arbitrary uid with no
//! passwd entry, `PORT=8000`, no `HOME` from the platform), talking to them only on 127.0.0.1.
//!
//! Everything here needs `cargo packaging builder` to have run (the test command does that).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub use packaging;

pub use packaging::file_server;

pub mod directory;
pub mod floor;
pub mod platform;

use packaging::file_server::FileServer;
use std::sync::OnceLock;

/// The uid and gid tests run images as: a Toolforge tool's, unknown to the image.
pub const TOOL_USER: &str = "52503:52503";
/// The port Toolforge gives web services.
pub const PORT: u16 = 8000;

/// The builder `packaging` created (`TOOLFORGE_BUILDER_IMAGE` names another).
#[must_use]
pub fn builder() -> String {
    format!("{}:latest", packaging::builder_image())
}

/// A fixture app under `tests/fixtures`.
#[must_use]
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// A copy of a fixture in a temporary directory, for tests that change files between builds.
///
/// # Panics
///
/// When the copy fails.
#[must_use]
pub fn fixture_copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let status = Command::new("cp")
        .arg("-a")
        .arg(fixture(name).join("."))
        .arg(dir.path())
        .status()
        .expect("cp can be started");
    assert!(status.success(), "cannot copy fixture {name}");
    dir
}

/// A throwaway app directory with the given files, for bad-input tests.
///
/// # Panics
///
/// When the files cannot be written.
#[must_use]
pub fn app_with_files(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, contents) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create directory");
        }
        std::fs::write(path, contents).expect("write fixture file");
    }
    dir
}

/// The server of the runtime mirrors `cargo packaging mirror` built (`python/`, `nodejs/`,
/// `go/`), on 127.0.0.1 for the whole test run.
fn mirror_server() -> &'static FileServer {
    static SERVER: OnceLock<FileServer> = OnceLock::new();
    SERVER.get_or_init(|| FileServer::start(&packaging::paths::mirrors_dir()))
}

/// The served URL of the inventory in `dir`, one of the mirrors.
///
/// # Panics
///
/// When that mirror has not been built.
fn served_inventory_url(dir: &Path) -> String {
    assert!(
        dir.join("inventory.toml").is_file(),
        "{} has no inventory: run `cargo packaging mirror` first",
        dir.display()
    );
    let relative = dir
        .strip_prefix(packaging::paths::mirrors_dir())
        .expect("each mirror is in the mirrors' directory");
    format!(
        "{}/{}/inventory.toml",
        mirror_server().base_url,
        relative.display()
    )
}

/// The URL of the self-built CPython mirror's inventory (`cargo packaging mirror`), served on
/// 127.0.0.1 for the whole test run.
///
/// # Panics
///
/// When the mirror has not been built.
#[must_use]
pub fn python_inventory_url() -> String {
    served_inventory_url(&packaging::mirror::python_mirror_dir())
}

/// The URL of the Node.js mirror's inventory (`cargo packaging mirror`), served on 127.0.0.1 for
/// the whole test run.
///
/// # Panics
///
/// When the mirror has not been built.
#[must_use]
pub fn nodejs_inventory_url() -> String {
    served_inventory_url(&packaging::node_mirror::node_mirror_dir())
}

/// The URL of the Go mirror's inventory (`cargo packaging mirror`), served on 127.0.0.1 for the
/// whole test run.
///
/// # Panics
///
/// When the mirror has not been built.
#[must_use]
pub fn go_inventory_url() -> String {
    served_inventory_url(&packaging::go_mirror::go_mirror_dir())
}

/// Builds an app with our builder, its runtimes (Python, Node.js, Go) from the mirrors (the
/// build reaches 127.0.0.1 through the host network).
#[must_use]
pub fn mirrored_build(app: &Path, purpose: &str) -> Build {
    mirrored_build_into(app, &unique_image_name(purpose), &[])
}

/// As [`mirrored_build`], into `image` (a rebuild), with more `pack build` arguments.
#[must_use]
pub fn mirrored_build_into(app: &Path, image: &str, extra_args: &[&str]) -> Build {
    let mut args = mirror_args();
    args.extend(extra_args.iter().map(ToString::to_string));
    pack_build(
        app,
        image,
        &builder(),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    )
}

/// [`mirrored_build`], which must succeed; the image is removed when the returned [`Image`] drops.
///
/// # Panics
///
/// When the build fails (with its output).
#[must_use]
pub fn mirrored_build_ok(app: &Path, purpose: &str) -> (Build, Image) {
    let built = mirrored_build(app, purpose).expect_success();
    let image = Image(built.image.clone());
    (built, image)
}

/// The `pack build` arguments that point the buildpacks at the mirrors' inventories, reached
/// through the host network, so that an app using several runtimes gets each of them there.
#[must_use]
pub fn mirror_args() -> Vec<String> {
    vec![
        "--network".to_string(),
        "host".to_string(),
        "--env".to_string(),
        format!("BP_PYTHON_INVENTORY_URL={}", python_inventory_url()),
        "--env".to_string(),
        format!("BP_NODEJS_INVENTORY_URL={}", nodejs_inventory_url()),
        "--env".to_string(),
        format!("BP_GO_INVENTORY_URL={}", go_inventory_url()),
    ]
}

/// A unique image name, so tests running in parallel never share an image or its caches.
#[must_use]
pub fn unique_image_name(purpose: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    format!(
        "toolforge-test/{purpose}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// One `pack build`.
#[derive(Debug)]
pub struct Build {
    pub image: String,
    pub success: bool,
    /// pack's and the lifecycle's output, stdout and stderr interleaved as pack prints them.
    pub output: String,
    pub duration: Duration,
}

impl Build {
    /// Panics with the build's output unless it succeeded.
    ///
    /// # Panics
    ///
    /// When the build failed.
    #[must_use]
    pub fn expect_success(self) -> Self {
        assert!(self.success, "pack build failed:\n{}", self.output);
        self
    }

    /// Panics with the build's output unless it failed.
    ///
    /// # Panics
    ///
    /// When the build succeeded.
    #[must_use]
    pub fn expect_failure(self) -> Self {
        assert!(
            !self.success,
            "pack build succeeded, but should have failed:\n{}",
            self.output
        );
        self
    }

    /// Asserts that the build failed with exactly one of our rendered errors, which contains
    /// every one of `expected`, and that nothing panicked.
    ///
    /// # Panics
    ///
    /// When it did not.
    pub fn assert_one_error(&self, expected: &[&str]) {
        assert!(
            !self.success,
            "pack build succeeded, but should have failed:\n{}",
            self.output
        );
        for text in expected {
            self.assert_output_contains(text);
        }
        assert_eq!(self.output.matches("! ERROR:").count(), 1, "{}", self.output);
        assert!(!self.output.contains("panicked"), "{}", self.output);
    }

    /// Asserts that the output contains `text`.
    ///
    /// # Panics
    ///
    /// When it does not.
    pub fn assert_output_contains(&self, text: &str) {
        assert!(
            self.output.contains(text),
            "the build output does not contain {text:?}:\n{}",
            self.output
        );
    }
}

/// Builds `app` into `image` with `builder`.
///
/// # Panics
///
/// When pack cannot be started.
#[must_use]
pub fn pack_build(app: &Path, image: &str, builder: &str, extra_args: &[&str]) -> Build {
    let started = Instant::now();
    let output = packaging::cnb_tools::pack_command(&packaging::cnb_tools::pack_binary())
        .args(["build", image, "--builder", builder, "--path"])
        .arg(app)
        .args(["--trust-builder", "--pull-policy", "never", "--timestamps"])
        .args(extra_args)
        .stdin(Stdio::null())
        .output()
        .expect("pack can be started (run `cargo packaging builder` first)");
    Build {
        image: image.to_string(),
        success: output.status.success(),
        output: combined(&output),
        duration: started.elapsed(),
    }
}

/// Runs pack with `args` (a command other than `build`) and returns its combined output; panics
/// with it unless pack succeeded. pack saves a copy of the image under `TMPDIR` for `sbom
/// download` and `rebase` and never removes it (300–400 MB each time): it gets a directory of its
/// own, removed afterwards.
///
/// # Panics
///
/// When pack cannot be started or fails.
#[must_use]
pub fn pack(args: &[&str]) -> String {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let output = packaging::cnb_tools::pack_command(&packaging::cnb_tools::pack_binary())
        .args(args)
        .env("TMPDIR", scratch.path())
        .stdin(Stdio::null())
        .output()
        .expect("pack can be started (run `cargo packaging builder` first)");
    let text = combined(&output);
    assert!(output.status.success(), "pack {} failed:\n{text}", args.join(" "));
    text
}

/// Builds `app` with our builder into a fresh image name.
#[must_use]
pub fn build(app: &Path, purpose: &str) -> Build {
    pack_build(app, &unique_image_name(purpose), &builder(), &[])
}

pub(crate) fn combined(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Removes an image and the build and launch caches pack keeps for it.
pub fn remove_image(image: &str) {
    let _ = docker(&["image", "rm", "--force", image]);
    // pack names cache volumes after the image: pack-cache-<name with / as _>_latest-<hash>.*
    let prefix = format!("pack-cache-{}", image.replace(['/', ':'], "_"));
    if let Ok(volumes) = docker(&["volume", "ls", "--quiet", "--filter", &format!("name={prefix}")]) {
        for volume in volumes.split_whitespace() {
            let _ = docker(&["volume", "rm", "--force", volume]);
        }
    }
}

/// An image that is removed, with its caches, when dropped.
pub struct Image(pub String);

impl Drop for Image {
    fn drop(&mut self) {
        remove_image(&self.0);
    }
}

/// Runs `docker` and returns its standard output.
///
/// # Errors
///
/// The combined output, when docker exits non-zero.
pub fn docker(args: &[&str]) -> Result<String, String> {
    let output = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot start docker: {error}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(combined(&output))
    }
}

/// How to start a container, as Toolforge would.
#[derive(Debug, Clone)]
pub struct Run {
    image: String,
    user: Option<String>,
    entrypoint: Option<String>,
    env: Vec<(String, String)>,
    args: Vec<String>,
    read_only: bool,
    mounts: Vec<String>,
    network: Option<String>,
    memory: Option<String>,
}

impl Run {
    /// As Toolforge runs a tool: uid and gid 52503 (no passwd entry), `PORT=8000`, no `HOME`.
    #[must_use]
    pub fn toolforge(image: &str) -> Self {
        Self {
            image: image.to_string(),
            user: Some(TOOL_USER.to_string()),
            entrypoint: None,
            env: vec![("PORT".to_string(), PORT.to_string())],
            args: Vec::new(),
            read_only: false,
            mounts: Vec::new(),
            network: None,
            memory: None,
        }
    }

    /// As another user (`0`, `1002:1000`), or as the image's own (`None`: no `--user`).
    #[must_use]
    pub fn user(mut self, user: Option<&str>) -> Self {
        self.user = user.map(ToString::to_string);
        self
    }

    /// Without a variable the platform would set (`PORT`), to see the image's default.
    #[must_use]
    pub fn without_env(mut self, name: &str) -> Self {
        self.env.retain(|(existing, _)| existing != name);
        self
    }

    /// Bind-mounts a host path, as Toolforge mounts NFS and the LDAP configuration, or (a name that
    /// is not a path) a Docker volume.
    #[must_use]
    pub fn mount(mut self, source: &Path, target: &str, read_only: bool) -> Self {
        let mode = if read_only { ":ro" } else { "" };
        self.mounts.push(format!("{}:{target}{mode}", source.display()));
        self
    }

    /// On a Docker network the test created, to reach the servers it started there.
    #[must_use]
    pub fn network(mut self, network: &str) -> Self {
        self.network = Some(network.to_string());
        self
    }

    /// A read-only root file system with a writable `/tmp`: proves the app writes nowhere else.
    #[must_use]
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// A process by name (`--entrypoint web`), as `webservice` starts one.
    #[must_use]
    pub fn process(mut self, name: &str) -> Self {
        self.entrypoint = Some(name.to_string());
        self
    }

    /// `launcher COMMAND…`, as Toolforge jobs start.
    #[must_use]
    pub fn launcher(self, command: &[&str]) -> Self {
        self.entrypoint_command("launcher", command)
    }

    /// Any program as the entrypoint, bypassing the launcher (measurements, not how tools start).
    #[must_use]
    pub fn entrypoint_command(mut self, entrypoint: &str, args: &[&str]) -> Self {
        self.entrypoint = Some(entrypoint.to_string());
        self.args = args.iter().map(ToString::to_string).collect();
        self
    }

    /// A memory limit (`512m`), as Toolforge's web services have one.
    #[must_use]
    pub fn memory(mut self, limit: &str) -> Self {
        self.memory = Some(limit.to_string());
        self
    }

    #[must_use]
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    fn docker_args(&self, detached: bool) -> Vec<String> {
        let mut args = vec!["run".to_string()];
        if detached {
            args.extend([
                "--detach".into(),
                "--publish".into(),
                format!("127.0.0.1::{PORT}"),
            ]);
        } else {
            args.push("--rm".into());
        }
        if let Some(user) = &self.user {
            args.extend(["--user".into(), user.clone()]);
        }
        if self.read_only {
            args.extend(["--read-only".into(), "--tmpfs".into(), "/tmp".into()]);
        }
        for (name, value) in &self.env {
            args.extend(["--env".into(), format!("{name}={value}")]);
        }
        for mount in &self.mounts {
            args.extend(["--volume".into(), mount.clone()]);
        }
        if let Some(network) = &self.network {
            args.extend(["--network".into(), network.clone()]);
        }
        if let Some(memory) = &self.memory {
            args.extend(["--memory".into(), memory.clone()]);
        }
        if let Some(entrypoint) = &self.entrypoint {
            args.extend(["--entrypoint".into(), entrypoint.clone()]);
        }
        args.push(self.image.clone());
        args.extend(self.args.iter().cloned());
        args
    }

    /// Runs to completion; returns (exit code, stdout, stderr).
    ///
    /// # Panics
    ///
    /// When docker cannot be started.
    #[must_use]
    pub fn output(&self) -> (i32, String, String) {
        let output = Command::new("docker")
            .args(self.docker_args(false))
            .stdin(Stdio::null())
            .output()
            .expect("docker can be started");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Starts detached with the port published on 127.0.0.1; waits until it answers HTTP.
    ///
    /// # Panics
    ///
    /// When the container does not start or never answers.
    #[must_use]
    pub fn start(&self) -> WebContainer {
        let args = self.docker_args(true);
        let id = docker(&args.iter().map(String::as_str).collect::<Vec<_>>())
            .expect("the container starts")
            .trim()
            .to_string();
        let container = Container { id };
        let address = docker(&["port", &container.id, &format!("{PORT}/tcp")])
            .unwrap_or_else(|error| panic!("the port is not published: {error}\n{}", container.logs()));
        let web = WebContainer {
            container,
            base_url: format!("http://{}", address.lines().next().unwrap_or_default().trim()),
        };
        web.wait_until_answering();
        web
    }
}

/// A running container, removed when dropped.
pub struct Container {
    id: String,
}

/// A running container that answers HTTP at `base_url`.
pub struct WebContainer {
    container: Container,
    pub base_url: String,
}

impl Container {
    /// The container's output so far.
    #[must_use]
    pub fn logs(&self) -> String {
        match Command::new("docker").args(["logs", &self.id]).output() {
            Ok(output) => combined(&output),
            Err(error) => format!("(no logs: {error})"),
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&["rm", "--force", &self.id]);
    }
}

impl WebContainer {
    fn wait_until_answering(&self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if ureq::get(&self.base_url).call().is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "{} did not answer within 30s; container log:\n{}",
            self.base_url,
            self.logs()
        );
    }

    /// GETs `path`; returns the status and body.
    ///
    /// # Panics
    ///
    /// When there is no HTTP answer at all.
    #[must_use]
    pub fn get(&self, path: &str) -> (u16, String) {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .new_agent();
        let mut response = agent
            .get(&format!("{}{path}", self.base_url))
            .call()
            .unwrap_or_else(|error| panic!("no answer from {path}: {error}\n{}", self.container.logs()));
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        (status, body)
    }

    /// The container's output so far.
    #[must_use]
    pub fn logs(&self) -> String {
        self.container.logs()
    }

    /// `docker stop` (SIGTERM, then SIGKILL after `grace`); returns the exit code and how long
    /// stopping took.
    ///
    /// # Panics
    ///
    /// When docker cannot stop or inspect the container.
    #[must_use]
    pub fn stop(&self, grace: Duration) -> (i32, Duration) {
        let started = Instant::now();
        docker(&["stop", "--time", &grace.as_secs().to_string(), &self.container.id]).expect("docker stop");
        let stopped = started.elapsed();
        let code = docker(&["inspect", "--format", "{{.State.ExitCode}}", &self.container.id])
            .expect("docker inspect")
            .trim()
            .parse()
            .unwrap_or(-1);
        (code, stopped)
    }
}

/// The image's layer digests, in order.
///
/// # Panics
///
/// When the image does not exist.
#[must_use]
pub fn image_layers(image: &str) -> Vec<String> {
    docker(&[
        "image",
        "inspect",
        "--format",
        "{{range .RootFS.Layers}}{{println .}}{{end}}",
        image,
    ])
    .expect("the image exists")
    .lines()
    .filter(|line| !line.is_empty())
    .map(ToString::to_string)
    .collect()
}

/// An image label's value.
///
/// # Panics
///
/// When the image does not exist.
#[must_use]
pub fn image_label(image: &str, label: &str) -> String {
    docker(&[
        "image",
        "inspect",
        "--format",
        &format!("{{{{index .Config.Labels \"{label}\"}}}}"),
        image,
    ])
    .expect("the image exists")
    .trim()
    .to_string()
}

/// The libc6 stanza of a dpkg status, as a sed address.
pub const LIBC6: &str = "/^Package: libc6$/,/^$/";

/// A run image `FROM` the stack's, its dpkg status edited by `edit` (a `sed` script run as root;
/// no network: the packages' files stay as they are, only what dpkg says about them changes),
/// for rebase tests.
///
/// # Panics
///
/// When docker cannot build it.
#[must_use]
pub fn run_image_with_status_edited(purpose: &str, edit: &str) -> Image {
    let config = packaging::stack::read_config().expect("stacks/stack.toml");
    let run = &config.users.run;
    let image = Image(unique_image_name(purpose));
    let dockerfile = format!(
        "FROM {}\nUSER root\nRUN sed -i -e '{edit}' /var/lib/dpkg/status\nUSER {}:{}\n",
        config.images.run, run.uid, run.gid
    );
    let mut child = Command::new("docker")
        .args(["build", "--quiet", "--tag", &image.0, "-"])
        // The classic builder, as `packaging stack` uses.
        .env("DOCKER_BUILDKIT", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("docker can be started");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(dockerfile.as_bytes())
        .expect("the Dockerfile is written");
    let output = child.wait_with_output().expect("docker build finishes");
    assert!(
        output.status.success(),
        "docker build of\n{dockerfile}failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    image
}
