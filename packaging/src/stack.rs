//! The Toolforge stack: the run and build images, from `stacks/`.

use crate::command;
use crate::paths;
use crate::setup;
use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The label holding the digest of everything an image was built from; equal digest, no rebuild.
const INPUTS_LABEL: &str = "org.toolforge.stack.inputs";
/// The base image made with debootstrap where no public one is in the local engine.
const DEBOOTSTRAP_BASE_IMAGE: &str = "toolforge/debian-base";
/// Where debootstrap fetches from.
const DEBIAN_MIRROR: &str = "http://deb.debian.org/debian";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StackConfig {
    pub id: String,
    pub description: String,
    pub homepage: String,
    pub maintainer: String,
    pub base_image: String,
    pub distro: Distro,
    pub images: Images,
    pub users: Users,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Distro {
    pub name: String,
    pub version: String,
    pub codename: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Images {
    pub run: String,
    pub build: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Users {
    pub build: User,
    pub run: User,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Reads `stacks/stack.toml`.
///
/// # Errors
///
/// When the file is missing or malformed.
pub fn read_config() -> anyhow::Result<StackConfig> {
    let path = paths::workspace_root().join("stacks").join("stack.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
}

/// What the stack step is asked to do.
#[derive(Debug, Clone, Default)]
pub struct StackOptions {
    /// A base image to build on instead of stack.toml's; pulled when not in the local engine.
    pub base_image: Option<String>,
    /// A directory whose `*.crt` files both images trust in addition to Debian's CAs.
    pub extra_ca_dir: Option<PathBuf>,
}

/// Decides the base image: the one asked for (pulling it if needed), else stack.toml's if the
/// local engine has it, else one made here with debootstrap.
///
/// # Errors
///
/// When the asked-for image cannot be pulled, or debootstrap fails.
pub fn ensure_base_image(config: &StackConfig, options: &StackOptions) -> anyhow::Result<(String, String)> {
    if let Some(image) = &options.base_image {
        if !image_exists(image) {
            command::run(Command::new("docker").args(["pull", image]))
                .with_context(|| format!("cannot pull the base image {image}"))?;
            return Ok((image.clone(), format!("pulled {image}")));
        }
        return Ok((image.clone(), format!("{image} (local)")));
    }
    if image_exists(&config.base_image) {
        return Ok((
            config.base_image.clone(),
            format!("{} (local)", config.base_image),
        ));
    }
    let image = format!("{DEBOOTSTRAP_BASE_IMAGE}:{}", config.distro.codename);
    if image_exists(&image) {
        return Ok((image.clone(), format!("{image} (made earlier with debootstrap)")));
    }
    debootstrap_base_image(&config.distro.codename, &image)?;
    Ok((image.clone(), format!("made {image} with debootstrap")))
}

fn debootstrap_base_image(codename: &str, image: &str) -> anyhow::Result<()> {
    setup::apt_install(&["debootstrap", "debian-archive-keyring"])?;
    let work = paths::cache_dir().join(format!("debootstrap-{codename}"));
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    std::fs::create_dir_all(&work)?;
    let rootfs = work.join("rootfs");
    command::run(
        Command::new("debootstrap")
            .args([
                "--variant=minbase",
                "--keyring=/usr/share/keyrings/debian-archive-keyring.gpg",
                codename,
            ])
            .arg(&rootfs)
            .arg(DEBIAN_MIRROR)
            .stdout(std::process::Stdio::null()),
    )?;
    // As Debian's own images: deb822 sources with updates and security, no package lists.
    let _ = std::fs::remove_file(rootfs.join("etc/apt/sources.list"));
    std::fs::create_dir_all(rootfs.join("etc/apt/sources.list.d"))?;
    std::fs::write(
        rootfs.join("etc/apt/sources.list.d/debian.sources"),
        format!(
            "Types: deb\nURIs: {DEBIAN_MIRROR}\nSuites: {codename} {codename}-updates\nComponents: main\n\
             Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n\
             Types: deb\nURIs: {DEBIAN_MIRROR}-security\nSuites: {codename}-security\nComponents: main\n\
             Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        ),
    )?;
    for dir in ["var/lib/apt/lists", "var/cache/apt/archives"] {
        let dir = rootfs.join(dir);
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|kind| kind.is_file()) {
                std::fs::remove_file(entry.path())?;
            }
        }
    }
    // `docker import` images have no environment: give them a PATH.
    let tar = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .args(["--numeric-owner", "-c", "."])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("cannot start tar")?;
    command::run(
        Command::new("docker")
            .args([
                "import",
                "--change",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--change",
                "CMD [\"bash\"]",
                "-",
                image,
            ])
            .stdin(tar.stdout.context("no pipe from tar")?)
            .stdout(std::process::Stdio::null()),
    )?;
    std::fs::remove_dir_all(&work)?;
    Ok(())
}

/// Builds the run image, then the build image on it; skips each whose inputs have not changed.
///
/// # Errors
///
/// When docker build fails.
pub fn build_images(
    config: &StackConfig,
    base_image: &str,
    options: &StackOptions,
) -> anyhow::Result<String> {
    let context = prepare_context(options.extra_ca_dir.as_deref())?;
    let base_id = image_id(base_image).with_context(|| format!("no image {base_image}"))?;
    let run_digest = command::digest_paths(&[&context], &["run", &base_id, &format!("{config:?}")])?;
    let run = build_image(
        config,
        &context,
        "run.Dockerfile",
        &config.images.run,
        &run_digest,
        &[
            ("BASE_IMAGE", base_image),
            ("RUN_USER", &config.users.run.name),
            ("RUN_UID", &config.users.run.uid.to_string()),
            ("RUN_GID", &config.users.run.gid.to_string()),
        ],
    )?;
    let run_id = image_id(&config.images.run)?;
    let build_digest = command::digest_paths(&[&context], &["build", &run_id, &format!("{config:?}")])?;
    let build = build_image(
        config,
        &context,
        "build.Dockerfile",
        &config.images.build,
        &build_digest,
        &[
            ("RUN_IMAGE", &config.images.run),
            ("BUILD_USER", &config.users.build.name),
            ("BUILD_UID", &config.users.build.uid.to_string()),
            ("BUILD_GID", &config.users.build.gid.to_string()),
        ],
    )?;
    Ok(format!(
        "{}: {run}; {}: {build}",
        config.images.run, config.images.build
    ))
}

/// The Docker build context: `stacks/` plus the extra CA certificates.
fn prepare_context(extra_ca_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let context = paths::generated_dir().join("stack-context");
    if context.exists() {
        std::fs::remove_dir_all(&context)?;
    }
    std::fs::create_dir_all(&context)?;
    command::run(
        Command::new("cp")
            .arg("-a")
            .arg(paths::workspace_root().join("stacks").join("."))
            .arg(&context),
    )?;
    let certificates = context.join("ca-certificates");
    std::fs::create_dir_all(&certificates)?;
    if let Some(dir) = extra_ca_dir {
        let mut count = 0;
        for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
            let path = entry?.path();
            if path.extension().is_some_and(|extension| extension == "crt") && path.is_file() {
                std::fs::copy(&path, certificates.join(path.file_name().unwrap_or_default()))?;
                count += 1;
            }
        }
        if count == 0 {
            eprintln!(
                "    warning: {} has no *.crt files (update-ca-certificates reads only those); no extra CA added",
                dir.display()
            );
        }
    }
    Ok(context)
}

fn build_image(
    config: &StackConfig,
    context: &Path,
    dockerfile: &str,
    tag: &str,
    digest: &str,
    args: &[(&str, &str)],
) -> anyhow::Result<&'static str> {
    if image_label(tag, INPUTS_LABEL).as_deref() == Some(digest) {
        return Ok("unchanged");
    }
    let released = command::output(Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"]))?;
    let common = [
        ("STACK_ID", config.id.as_str()),
        ("DISTRO_NAME", &config.distro.name),
        ("DISTRO_VERSION", &config.distro.version),
        ("DESCRIPTION", &config.description),
        ("HOMEPAGE", &config.homepage),
        ("MAINTAINER", &config.maintainer),
        ("RELEASED", released.trim()),
        ("INPUTS_DIGEST", digest),
    ];
    let mut build = Command::new("docker");
    build
        .args(["build", "--quiet", "--file", dockerfile, "--tag", tag])
        // The classic builder: Debian's engine has no BuildKit front end for a modern client.
        .env("DOCKER_BUILDKIT", "0")
        .current_dir(context);
    for (name, value) in common.iter().chain(args) {
        build.arg("--build-arg").arg(format!("{name}={value}"));
    }
    build.arg(".");
    command::output(&mut build)?;
    Ok("built")
}

/// Whether the local engine has the image.
#[must_use]
pub fn image_exists(image: &str) -> bool {
    command::succeeds(Command::new("docker").args(["image", "inspect", image]))
}

/// The image's ID in the local engine.
///
/// # Errors
///
/// When the engine does not have the image.
pub fn image_id(image: &str) -> anyhow::Result<String> {
    Ok(
        command::output(Command::new("docker").args(["image", "inspect", "--format", "{{.Id}}", image]))?
            .trim()
            .to_string(),
    )
}

fn image_label(image: &str, label: &str) -> Option<String> {
    command::output(Command::new("docker").args([
        "image",
        "inspect",
        "--format",
        &format!("{{{{index .Config.Labels \"{label}\"}}}}"),
        image,
    ]))
    .ok()
    .map(|value| value.trim().to_string())
}
