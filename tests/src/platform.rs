//! The platform harness: builds the way Toolforge's Tekton builds, not the way `pack` does.
//!
//! - A real OCI registry on 127.0.0.1 (Debian's `docker-registry`, CNCF distribution), started
//!   once per test process on a free port with its storage in a temporary directory, and stopped
//!   when the process ends. The builder, the run image and the build image are pushed to it.
//! - Each build runs the lifecycle from the builder image pulled from that registry, as the
//!   builder's CNB user, with `CNB_PLATFORM_API` set, the run image named separately
//!   (`-run-image`), the source in a volume, and the app image exported to the registry (never
//!   to the Docker engine). Either each phase in its own container, as the Tekton catalog's
//!   `buildpacks-phases` task 0.3 runs them (Platform API 0.13: analyzer, detector, restorer,
//!   builder, exporter), or the `creator` in one container, as its `buildpacks` task 0.7 does.
//! - The cache is an empty volume made for each build (Toolforge today: an emptyDir), a cache
//!   image in the registry (`-cache-image`), or a volume kept between builds (a cache
//!   workspace).
//!
//! <https://github.com/tektoncd/catalog/blob/main/task/buildpacks-phases/0.3/buildpacks-phases.yaml>
//! <https://github.com/tektoncd/catalog/blob/main/task/buildpacks/0.7/buildpacks.yaml>

use crate::{combined, docker};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The Platform API the Tekton catalog's `buildpacks-phases` task 0.3 supports.
pub const PLATFORM_API: &str = "0.13";

/// The tasks' `CNB_PROCESS_TYPE`/`PROCESS_TYPE`, set to empty: their default, `web`, fails the
/// export of every tool without a web process (a job-only tool), while the buildpacks make `web`
/// the default process wherever there is one.
const DEFAULT_PROCESS: &str = "-process-type=";

/// Where the phases see the volumes, as in the Tekton tasks.
const LAYERS: &str = "/layers";
const WORKSPACE: &str = "/workspace/source";
const PLATFORM: &str = "/platform";
const CACHE: &str = "/cache";

/// The registry the tests push to and build against.
pub struct Registry {
    /// `127.0.0.1:<port>`: also the name of the registry in image references.
    pub address: String,
    /// The shell that runs the registry and stops it when this process ends (never waited for:
    /// it outlives the process on purpose, by a second at most).
    _watcher: std::process::Child,
}

/// The registry of this test process, started on first use.
///
/// # Panics
///
/// When `docker-registry` is not installed (the set-up installs it) or does not answer.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::start)
}

impl Registry {
    fn start() -> Self {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let address = format!("127.0.0.1:{port}");
        let storage = tempfile::Builder::new()
            .prefix("toolforge-registry-")
            .tempdir()
            .expect("a temporary directory")
            .keep();
        let config = storage.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
                 delete:\n    enabled: true\nhttp:\n  addr: {address}\n",
                storage.join("data").display()
            ),
        )
        .expect("the registry's configuration");
        // The registry lives as long as this test process: a shell watches the process and
        // stops the registry, and removes its storage, when the process is gone.
        let watcher = format!(
            "docker-registry serve \"$1\" >\"$2\"/registry.log 2>&1 & registry=$!; \
             while kill -0 {parent} 2>/dev/null; do sleep 1; done; \
             kill $registry; wait $registry; rm -rf \"$2\"",
            parent = std::process::id()
        );
        let shell = Command::new("setsid")
            .args(["sh", "-c", &watcher, "sh"])
            .arg(&config)
            .arg(&storage)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry can be started (the set-up installs Debian's docker-registry)");
        let started = Instant::now();
        while ureq::get(&format!("http://{address}/v2/")).call().is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the registry at {address} did not answer within 30s: {}",
                std::fs::read_to_string(storage.join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            address,
            _watcher: shell,
        }
    }

    /// `name` in this registry.
    #[must_use]
    pub fn reference(&self, name: &str) -> String {
        format!("{}/{name}", self.address)
    }

    /// Pushes the local image `local` as `name`; returns the reference.
    ///
    /// # Panics
    ///
    /// When docker cannot tag or push it.
    #[must_use]
    pub fn push(&self, local: &str, name: &str) -> String {
        let reference = self.reference(name);
        docker(&["tag", local, &reference]).expect("docker tag");
        docker(&["push", "--quiet", &reference])
            .unwrap_or_else(|error| panic!("docker push {reference}: {error}"));
        reference
    }
}

/// The builder, run and build images, pushed to [`registry`] once per test process, and the
/// builder's CNB user.
pub struct Images {
    pub builder: String,
    pub run: String,
    pub build: String,
    /// `uid:gid` of the builder's CNB user (its `CNB_USER_ID`, `CNB_GROUP_ID`).
    pub user: (String, String),
}

/// The images every platform build uses.
///
/// # Panics
///
/// When an image is missing (run `cargo packaging builder`) or cannot be pushed.
pub fn images() -> &'static Images {
    static IMAGES: OnceLock<Images> = OnceLock::new();
    IMAGES.get_or_init(|| {
        let registry = registry();
        let config = packaging::stack::read_config().expect("stacks/stack.toml");
        let local_builder = crate::builder();
        let env = docker(&[
            "image",
            "inspect",
            "--format",
            "{{json .Config.Env}}",
            &local_builder,
        ])
        .expect("the builder image exists (run `cargo packaging builder`)")
        .trim()
        .to_string();
        let env_value = |name: &str| {
            let prefix = format!("\"{name}=");
            env.split(',')
                .find_map(|entry| entry.trim_start_matches('[').strip_prefix(&prefix))
                .map_or_else(
                    || panic!("the builder image sets no {name}"),
                    |value| value.trim_end_matches(']').trim_end_matches('"').to_string(),
                )
        };
        let user = (env_value("CNB_USER_ID"), env_value("CNB_GROUP_ID"));
        Images {
            builder: registry.push(&local_builder, "toolforge/builder:latest"),
            run: registry.push(&config.images.run, "toolforge/run:latest"),
            build: registry.push(&config.images.build, "toolforge/build:latest"),
            user,
        }
    })
}

/// How the lifecycle runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// Each phase in its own container (`buildpacks-phases`).
    Phases,
    /// The creator in one container (`buildpacks`).
    Creator,
}

/// Where the build cache lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cache {
    /// A new, empty volume for each build: Toolforge's emptyDir today.
    Empty,
    /// An image in the registry (`-cache-image`), this reference.
    Image(String),
    /// A volume kept between builds, this name (a persistent cache workspace).
    Volume(String),
}

/// One build through the platform harness.
#[derive(Debug)]
pub struct PlatformBuild {
    /// The app image's reference in the registry.
    pub image: String,
    pub success: bool,
    /// Every container's output, in order, each under a `--- <phase>` line.
    pub output: String,
    /// Each container (`prepare`, the phases or `creator`) and how long it took.
    pub phases: Vec<(String, Duration)>,
}

impl PlatformBuild {
    /// Panics with the output unless the build succeeded.
    ///
    /// # Panics
    ///
    /// When it failed.
    #[must_use]
    pub fn expect_success(self) -> Self {
        assert!(self.success, "the platform build failed:\n{}", self.output);
        self
    }

    /// The whole build's time, the containers' times added.
    #[must_use]
    pub fn duration(&self) -> Duration {
        self.phases.iter().map(|(_, duration)| *duration).sum()
    }

    /// Pulls the image from the registry into the Docker engine, to run it; returns its local
    /// name (the same reference), removed when dropped.
    ///
    /// # Panics
    ///
    /// When the pull fails.
    #[must_use]
    pub fn pull(&self) -> crate::Image {
        docker(&["pull", "--quiet", &self.image])
            .unwrap_or_else(|error| panic!("docker pull {}: {error}", self.image));
        crate::Image(self.image.clone())
    }
}

/// The volumes of one build, removed when dropped (a kept cache volume stays).
struct Volumes {
    names: Vec<String>,
    cache: Option<String>,
}

impl Volumes {
    fn create(id: &str, cache: &Cache) -> Self {
        let mut names: Vec<String> = ["layers", "workspace", "platform"]
            .iter()
            .map(|kind| format!("toolforge-platform-{id}-{kind}"))
            .collect();
        let cache_volume = match cache {
            Cache::Empty => {
                let name = format!("toolforge-platform-{id}-cache");
                names.push(name.clone());
                Some(name)
            }
            Cache::Volume(name) => Some(name.clone()),
            Cache::Image(_) => None,
        };
        for name in names.iter().chain(cache_volume.iter()) {
            docker(&["volume", "create", name]).expect("docker volume create");
        }
        Self {
            names,
            cache: cache_volume,
        }
    }

    /// `--volume` arguments: every volume in every container, as Tekton mounts workspaces and
    /// the task's volumes in every step.
    fn mounts(&self) -> Vec<String> {
        let targets = [LAYERS, WORKSPACE, PLATFORM];
        let mut mounts: Vec<String> = self
            .names
            .iter()
            .zip(targets)
            .map(|(name, target)| format!("{name}:{target}"))
            .collect();
        if let Some(cache) = &self.cache {
            mounts.push(format!("{cache}:{CACHE}"));
        }
        mounts
    }
}

impl Drop for Volumes {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = docker(&["volume", "rm", "--force", name]);
        }
    }
}

/// Builds `app` into the registry image `image` (a name in [`registry`]) through the lifecycle
/// as the Tekton tasks run it, with `env` as the platform's build-time environment
/// (`/platform/env`, as the tasks' `ENV_VARS` write it).
///
/// # Panics
///
/// When docker cannot run a container.
#[must_use]
pub fn platform_build(
    app: &Path,
    image: &str,
    lifecycle: Lifecycle,
    cache: &Cache,
    env: &[(String, String)],
) -> PlatformBuild {
    let images = images();
    platform_build_with((&images.builder, &images.run), app, image, lifecycle, cache, env)
}

/// As [`platform_build`], with another builder and run image in [`registry`] (on the same
/// stack): `(builder, run image)`.
///
/// # Panics
///
/// When docker cannot run a container.
#[must_use]
pub fn platform_build_with(
    (builder, run_image): (&str, &str),
    app: &Path,
    image: &str,
    lifecycle: Lifecycle,
    cache: &Cache,
    env: &[(String, String)],
) -> PlatformBuild {
    let id = image.rsplit('/').next().unwrap_or(image).replace([':', '.'], "-");
    let volumes = Volumes::create(&format!("{id}-{}", std::process::id()), cache);
    let mut build = PlatformBuild {
        image: image.to_string(),
        success: true,
        output: String::new(),
        phases: Vec::new(),
    };
    let (prepare_args, prepare) = prepare(app, env, volumes.cache.is_some());
    run_step(
        &mut build,
        &volumes,
        "prepare",
        &prepare_args,
        builder,
        &["-c", &prepare],
    );
    let (uid, gid) = &images().user;
    for (phase, args) in lifecycle_steps(lifecycle, cache, image, run_image) {
        let docker_args = [
            "--user".to_string(),
            format!("{uid}:{gid}"),
            "--network".to_string(),
            "host".to_string(),
            "--env".to_string(),
            format!("CNB_PLATFORM_API={PLATFORM_API}"),
            "--entrypoint".to_string(),
            format!("/cnb/lifecycle/{phase}"),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_step(&mut build, &volumes, phase, &docker_args, builder, &args);
    }
    build
}

/// Tekton's `prepare` step, as root: the source (a git clone on Toolforge), the platform's env
/// directory, and the volumes owned by the CNB user. Returns the docker arguments and the script.
fn prepare(app: &Path, env: &[(String, String)], with_cache: bool) -> (Vec<String>, String) {
    let (uid, gid) = &images().user;
    let mut script = format!(
        "cp -a /source/. {WORKSPACE}/ && mkdir -p {PLATFORM}/env && \
         for name in $TOOLFORGE_ENV_NAMES; do printf %s \"$(printenv \"$name\")\" > {PLATFORM}/env/\"$name\"; done && \
         chown -R {uid}:{gid} {LAYERS} {WORKSPACE} {PLATFORM}"
    );
    if with_cache {
        write!(script, " {CACHE}").expect("a String takes writes");
    }
    let names: Vec<&str> = env.iter().map(|(name, _)| name.as_str()).collect();
    let mut args = vec![
        "--user".to_string(),
        "0:0".to_string(),
        "--volume".to_string(),
        format!("{}:/source:ro", app.display()),
        "--env".to_string(),
        format!("TOOLFORGE_ENV_NAMES={}", names.join(" ")),
    ];
    for (name, value) in env {
        args.extend(["--env".to_string(), format!("{name}={value}")]);
    }
    args.extend(["--entrypoint".to_string(), "sh".to_string()]);
    (args, script)
}

/// The lifecycle's programs and their arguments, as the Tekton tasks give them.
fn lifecycle_steps(
    lifecycle: Lifecycle,
    cache: &Cache,
    image: &str,
    run_image: &str,
) -> Vec<(&'static str, Vec<String>)> {
    let images = images();
    let (uid, gid) = &images.user;
    let strings = |items: &[&str]| -> Vec<String> { items.iter().map(ToString::to_string).collect() };
    let cache_arg = match cache {
        Cache::Image(reference) => format!("-cache-image={reference}"),
        Cache::Empty | Cache::Volume(_) => format!("-cache-dir={CACHE}"),
    };
    let insecure = format!("-insecure-registry={}", registry().address);
    let run_image = format!("-run-image={run_image}");
    let app_dir = format!("-app={WORKSPACE}");
    let (uid, gid) = (format!("-uid={uid}"), format!("-gid={gid}"));
    let group = "-group=/layers/group.toml";
    let plan = "-plan=/layers/plan.toml";
    match lifecycle {
        Lifecycle::Phases => {
            // The analyzer takes only a cache image; a cache directory is the restorer's.
            let analyzer_cache = matches!(cache, Cache::Image(_)).then_some(cache_arg.as_str());
            let analyze = [
                Some("-layers=/layers"),
                Some(&run_image),
                analyzer_cache,
                Some(&uid),
                Some(&gid),
            ];
            let mut analyze: Vec<&str> = analyze.into_iter().flatten().collect();
            analyze.extend([insecure.as_str(), image]);
            vec![
                ("analyzer", strings(&analyze)),
                (
                    "detector",
                    strings(&[&app_dir, group, plan, "-layers=/layers", "-platform=/platform"]),
                ),
                (
                    "restorer",
                    strings(&[group, "-layers=/layers", &cache_arg, &uid, &gid, &insecure]),
                ),
                (
                    "builder",
                    strings(&[&app_dir, "-layers=/layers", group, plan, "-platform=/platform"]),
                ),
                (
                    "exporter",
                    strings(&[
                        &app_dir,
                        "-layers=/layers",
                        group,
                        "-report=/layers/report.toml",
                        DEFAULT_PROCESS,
                        &cache_arg,
                        &uid,
                        &gid,
                        &insecure,
                        image,
                    ]),
                ),
            ]
        }
        Lifecycle::Creator => vec![(
            "creator",
            strings(&[
                &app_dir,
                &cache_arg,
                &uid,
                &gid,
                "-layers=/layers",
                "-platform=/platform",
                "-report=/layers/report.toml",
                DEFAULT_PROCESS,
                "-skip-restore=false",
                &format!("-previous-image={image}"),
                &run_image,
                &insecure,
                image,
            ]),
        )],
    }
}

/// Runs one container of a build with every volume mounted; records its output and time.
fn run_step(
    build: &mut PlatformBuild,
    volumes: &Volumes,
    name: &str,
    docker_args: &[String],
    image: &str,
    args: &[&str],
) {
    if !build.success {
        return;
    }
    let started = Instant::now();
    let mut command = Command::new("docker");
    command.args(["run", "--rm"]).args(docker_args);
    for mount in volumes.mounts() {
        command.args(["--volume", &mount]);
    }
    let output = command
        .arg(image)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("docker can be started");
    build.phases.push((name.to_string(), started.elapsed()));
    writeln!(build.output, "--- {name}\n{}", combined(&output)).expect("a String takes writes");
    build.success = output.status.success();
}

/// A unique image reference in [`registry`].
#[must_use]
pub fn unique_reference(purpose: &str) -> String {
    let local = crate::unique_image_name(purpose);
    registry().reference(&local)
}

impl PlatformBuild {
    /// The app image's digest, as the exporter printed it (`*** Images (sha256:…)`).
    ///
    /// # Panics
    ///
    /// When the exporter printed none (the build failed).
    #[must_use]
    pub fn digest(&self) -> &str {
        self.output
            .split("*** Images (")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .unwrap_or_else(|| panic!("the exporter printed no digest:\n{}", self.output))
    }

    /// The output of one container (`builder`, `exporter`, …).
    #[must_use]
    pub fn phase_output(&self, name: &str) -> &str {
        self.output
            .split(&format!("--- {name}\n"))
            .nth(1)
            .map_or("", |rest| rest.split("\n--- ").next().unwrap_or(rest))
    }
}

/// The build-time environment the tests give pack (`--env`, see [`crate::mirror_args`]), as the
/// platform's `/platform/env`: the runtimes come from the mirrors.
#[must_use]
pub fn mirror_env() -> Vec<(String, String)> {
    crate::mirror_args()
        .chunks(2)
        .filter(|pair| pair[0] == "--env")
        .filter_map(|pair| pair[1].split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// The lifecycle's `rebaser` against the registry, as a platform runs it: `image` in
/// [`registry`] onto `run_image` (also there), in place. Returns whether it succeeded, and its
/// output.
///
/// With `-force`: the image records the builder's run image name (`toolforge/run:trixie`), not
/// the registry's, and the rebaser refuses any other name without it (docs/tekton.md).
///
/// # Panics
///
/// When docker cannot run it.
#[must_use]
pub fn rebase(image: &str, run_image: &str) -> (bool, String) {
    let images = images();
    let (uid, gid) = &images.user;
    let output = Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network",
            "host",
            "--user",
            &format!("{uid}:{gid}"),
        ])
        .args(["--env", &format!("CNB_PLATFORM_API={PLATFORM_API}")])
        .args(["--entrypoint", "/cnb/lifecycle/rebaser", &images.builder])
        .args([
            format!("-run-image={run_image}"),
            "-force".to_string(),
            format!("-insecure-registry={}", registry().address),
            "-report=/tmp/report.toml".to_string(),
            image.to_string(),
        ])
        .stdin(Stdio::null())
        .output()
        .expect("docker can be started");
    (output.status.success(), combined(&output))
}
