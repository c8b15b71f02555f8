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

/// Where the phases see the volumes, as in the Tekton tasks.
const LAYERS: &str = "/layers";
const WORKSPACE: &str = "/workspace/source";
const PLATFORM: &str = "/platform";
const CACHE: &str = "/cache";

/// The registry the tests push to and build against.
pub struct Registry {
    /// `127.0.0.1:<port>`: also the name of the registry in image references.
    pub address: String,
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
        Command::new("setsid")
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
        Self { address }
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
                .map(|value| value.trim_end_matches(']').trim_end_matches('"').to_string())
                .unwrap_or_else(|| panic!("the builder image sets no {name}"))
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
    let registry = registry();
    let id = image.rsplit('/').next().unwrap_or(image).replace([':', '.'], "-");
    let volumes = Volumes::create(&format!("{id}-{}", std::process::id()), cache);
    let mut build = PlatformBuild {
        image: image.to_string(),
        success: true,
        output: String::new(),
        phases: Vec::new(),
    };
    let (uid, gid) = &images.user;
    let user = format!("{uid}:{gid}");

    // Tekton's `prepare` step: the source (a git clone in Toolforge), the platform env, and
    // the volumes owned by the CNB user.
    let mut prepare = format!(
        "cp -a /source/. {WORKSPACE}/ && mkdir -p {PLATFORM}/env && \
         for name in $TOOLFORGE_ENV_NAMES; do printf %s \"$(printenv \"$name\")\" > {PLATFORM}/env/\"$name\"; done && \
         chown -R {user} {LAYERS} {WORKSPACE} {PLATFORM}"
    );
    if volumes.cache.is_some() {
        write!(prepare, " {CACHE}").expect("a String takes writes");
    }
    let names: Vec<&str> = env.iter().map(|(name, _)| name.as_str()).collect();
    let mut prepare_args = vec![
        "--user".to_string(),
        "0:0".to_string(),
        "--volume".to_string(),
        format!("{}:/source:ro", app.display()),
        "--env".to_string(),
        format!("TOOLFORGE_ENV_NAMES={}", names.join(" ")),
    ];
    for (name, value) in env {
        prepare_args.extend(["--env".to_string(), format!("{name}={value}")]);
    }
    prepare_args.extend(["--entrypoint".to_string(), "sh".to_string()]);
    run_step(
        &mut build,
        &volumes,
        "prepare",
        &prepare_args,
        &images.builder,
        &["-c", &prepare],
    );

    let cache_args: Vec<String> = match cache {
        Cache::Image(reference) => vec![format!("-cache-image={reference}")],
        Cache::Empty | Cache::Volume(_) => vec![format!("-cache-dir={CACHE}")],
    };
    let common = |extra: &[&str]| -> Vec<String> { extra.iter().map(ToString::to_string).collect() };
    let insecure = format!("-insecure-registry={}", registry.address);
    let phase_args = vec![
        "--user".to_string(),
        user.clone(),
        "--network".to_string(),
        "host".to_string(),
        "--env".to_string(),
        format!("CNB_PLATFORM_API={PLATFORM_API}"),
    ];
    let ids = [format!("-uid={uid}"), format!("-gid={gid}")];
    let run_image = format!("-run-image={}", images.run);
    let app_dir = format!("-app={WORKSPACE}");
    match lifecycle {
        Lifecycle::Phases => {
            let mut analyze = common(&["-log-level=info", "-layers=/layers", &run_image]);
            if let Cache::Image(_) = cache {
                analyze.extend(cache_args.iter().cloned());
            }
            analyze.extend(ids.iter().cloned());
            analyze.extend([insecure.clone(), image.to_string()]);
            let mut restore = common(&["-log-level=info", "-group=/layers/group.toml", "-layers=/layers"]);
            restore.extend(cache_args.iter().cloned());
            restore.extend(ids.iter().cloned());
            restore.push(insecure.clone());
            let mut export = common(&[
                "-log-level=info",
                &app_dir,
                "-layers=/layers",
                "-group=/layers/group.toml",
                "-report=/layers/report.toml",
                "-process-type=web",
            ]);
            export.extend(cache_args.iter().cloned());
            export.extend(ids.iter().cloned());
            export.extend([insecure, image.to_string()]);
            let phases: [(&str, Vec<String>); 5] = [
                ("analyzer", analyze),
                (
                    "detector",
                    common(&[
                        "-log-level=info",
                        &app_dir,
                        "-group=/layers/group.toml",
                        "-plan=/layers/plan.toml",
                        "-layers=/layers",
                        "-platform=/platform",
                    ]),
                ),
                ("restorer", restore),
                (
                    "builder",
                    common(&[
                        "-log-level=info",
                        &app_dir,
                        "-layers=/layers",
                        "-group=/layers/group.toml",
                        "-plan=/layers/plan.toml",
                        "-platform=/platform",
                    ]),
                ),
                ("exporter", export),
            ];
            for (phase, args) in phases {
                if !build.success {
                    break;
                }
                let program = format!("/cnb/lifecycle/{phase}");
                let mut docker_args = phase_args.clone();
                docker_args.extend(["--entrypoint".to_string(), program]);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                run_step(&mut build, &volumes, phase, &docker_args, &images.builder, &args);
            }
        }
        Lifecycle::Creator => {
            let mut create = common(&[&app_dir]);
            create.extend(cache_args.iter().cloned());
            create.extend(ids.iter().cloned());
            create.extend(common(&[
                "-layers=/layers",
                "-platform=/platform",
                "-report=/layers/report.toml",
                "-process-type=web",
                "-skip-restore=false",
                &format!("-previous-image={image}"),
                &run_image,
                &insecure,
                image,
            ]));
            let mut docker_args = phase_args.clone();
            docker_args.extend(["--entrypoint".to_string(), "/cnb/lifecycle/creator".to_string()]);
            if build.success {
                let args: Vec<&str> = create.iter().map(String::as_str).collect();
                run_step(
                    &mut build,
                    &volumes,
                    "creator",
                    &docker_args,
                    &images.builder,
                    &args,
                );
            }
        }
    }
    build
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
