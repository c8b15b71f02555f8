//! pack and the lifecycle, built from source with Go.
//!
//! Nothing is downloaded as a binary: the Go module proxy has both modules' source. `go install`
//! cannot build pack (its go.mod has a `replace` directive), so each module is copied out of the
//! module cache and built as the main module, with the version ldflags their Makefiles use.

use crate::command;
use crate::paths;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The pack CLI version we build. 0.40.0 and 0.40.1 reject Docker API 1.41 (Debian's engine).
pub const PACK_VERSION: &str = "0.40.6";
/// The oldest pack on PATH we use instead of building our own.
const OLDEST_USABLE_PACK: (u64, u64, u64) = (0, 40, 2);

/// Replacements in the lifecycle's go.mod for module versions the Go module proxy here refuses
/// (HTTP 403). `osscontainertools/kaniko` is used only by the `extender` phase (image
/// extensions through Dockerfiles), which our builder does not use; v1.27.5 is the newest version
/// the proxy serves, and the extender builds against it unchanged.
const LIFECYCLE_REPLACEMENTS: [(&str, &str); 1] = [("github.com/osscontainertools/kaniko", "v1.27.5")];

/// Part of the cached tarball's name: bump it when the way the tarball is made changes
/// (replacements, SBOMs), so that no cache keeps an old one.
const LIFECYCLE_RECIPE: u32 = 2;

/// The lifecycle's phases, which are symlinks to the one binary.
const LIFECYCLE_PHASES: [&str; 8] = [
    "detector", "analyzer", "restorer", "builder", "exporter", "rebaser", "creator", "extender",
];

/// The pack binary to use: `TOOLFORGE_PACK`, else the one `packaging` built, else `pack` on PATH.
#[must_use]
pub fn pack_binary() -> PathBuf {
    if let Some(pack) = std::env::var_os("TOOLFORGE_PACK") {
        return PathBuf::from(pack);
    }
    let built = built_pack_path();
    if built.is_file() {
        built
    } else {
        PathBuf::from("pack")
    }
}

/// A `pack` command. Unless the caller chose one, it gets a fixed `PACK_VOLUME_KEY`: without it
/// pack records a random key per image in `~/.pack/volume-keys.toml`, and builds running in
/// parallel (the test suite) race on rewriting that file and fail to parse it.
#[must_use]
pub fn pack_command(pack: &Path) -> Command {
    let mut command = Command::new(pack);
    if std::env::var_os(PACK_VOLUME_KEY).is_none() {
        command.env(PACK_VOLUME_KEY, "toolforge-buildpacks");
    }
    command
}

const PACK_VOLUME_KEY: &str = "PACK_VOLUME_KEY";

fn built_pack_path() -> PathBuf {
    paths::cache_dir()
        .join("bin")
        .join(format!("pack-{PACK_VERSION}"))
}

/// Makes sure a usable pack exists: one on PATH at least `0.40.2`, or ours, built from source.
///
/// # Errors
///
/// When Go is missing or the build fails.
pub fn ensure_pack() -> anyhow::Result<(PathBuf, String)> {
    if let Some(pack) = std::env::var_os("TOOLFORGE_PACK") {
        return Ok((
            PathBuf::from(&pack),
            format!("using TOOLFORGE_PACK: {}", pack.to_string_lossy()),
        ));
    }
    let target = built_pack_path();
    if target.is_file() {
        return Ok((target.clone(), format!("cached: {}", target.display())));
    }
    if let Some(version @ (major, minor, patch)) = pack_on_path_version()
        && version >= OLDEST_USABLE_PACK
    {
        return Ok((
            PathBuf::from("pack"),
            format!("using pack {major}.{minor}.{patch} from PATH"),
        ));
    }
    let source = module_source("github.com/buildpacks/pack", PACK_VERSION)?;
    let ldflags = format!("-s -w -X 'github.com/buildpacks/pack/pkg/client.Version={PACK_VERSION}'");
    go_build(&source, ".", &ldflags, &target)?;
    Ok((
        target.clone(),
        format!("built pack {PACK_VERSION} from source: {}", target.display()),
    ))
}

fn pack_on_path_version() -> Option<(u64, u64, u64)> {
    let text = command::output(Command::new("pack").arg("version")).ok()?;
    let version = text.split_whitespace().next()?.trim_start_matches('v');
    let mut parts = version
        .split(['.', '+', '-'])
        .map(|part| part.parse::<u64>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

/// The lifecycle tarball `pack builder create` consumes (`lifecycle.toml` at its root,
/// `lifecycle/` with the binary, the launcher and the phase symlinks), built from source.
///
/// # Errors
///
/// When Go is missing or the build fails.
pub fn ensure_lifecycle(version: &str) -> anyhow::Result<(PathBuf, String)> {
    let tarball = paths::cache_dir().join(format!(
        "lifecycle-v{version}+linux.x86-64-r{LIFECYCLE_RECIPE}.tgz"
    ));
    if tarball.is_file() {
        return Ok((tarball.clone(), format!("cached: {}", tarball.display())));
    }
    let source = module_source("github.com/buildpacks/lifecycle", version)?;
    for (module, replacement) in LIFECYCLE_REPLACEMENTS {
        command::run(
            Command::new("go")
                .args([
                    "mod",
                    "edit",
                    &format!("-replace={module}={module}@{replacement}"),
                ])
                .current_dir(&source),
        )?;
    }
    let ldflags = format!(
        "-s -w -X 'github.com/buildpacks/lifecycle/cmd.Version={version}' \
         -X 'github.com/buildpacks/lifecycle/cmd.SCMRepository=github.com/buildpacks/lifecycle'"
    );
    let out = source.join("out").join("lifecycle");
    go_build(&source, "./cmd/lifecycle", &ldflags, &out.join("lifecycle"))?;
    go_build(&source, "./cmd/launcher", &ldflags, &out.join("launcher"))?;
    for binary in ["lifecycle", "launcher"] {
        crate::sbom::write_for_binary(&out.join(binary), binary, version)?;
    }
    for phase in LIFECYCLE_PHASES {
        let link = out.join(phase);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("lifecycle", &link)?;
    }
    // The lifecycle's own packager fills in lifecycle.toml (supported APIs) and writes the tarball.
    let partial = PathBuf::from(format!("{}.partial", tarball.display()));
    command::run(
        go_command(&source)
            .args(["run", "./tools/packager/main.go", "-inputDir"])
            .arg(&out)
            .arg("-archivePath")
            .arg(&partial)
            .args(["-descriptorPath", "lifecycle.toml", "-version", version]),
    )?;
    std::fs::rename(&partial, &tarball)?;
    Ok((
        tarball.clone(),
        format!("built lifecycle {version} from source: {}", tarball.display()),
    ))
}

/// Copies a module's source out of the (read-only) Go module cache into a writable directory.
fn module_source(module: &str, version: &str) -> anyhow::Result<PathBuf> {
    if !command::on_path("go") {
        bail!("Go is needed to build pack and the lifecycle from source, and `go` is not on PATH");
    }
    let json = command::output(
        Command::new("go")
            .args(["mod", "download", "-json", &format!("{module}@v{version}")])
            .env("GOFLAGS", "-mod=mod"),
    )
    .with_context(|| format!("cannot download {module}@v{version} from the Go module proxy"))?;
    let dir = json
        .lines()
        .find_map(|line| line.trim().strip_prefix("\"Dir\": \""))
        .and_then(|rest| rest.strip_suffix("\","))
        .with_context(|| format!("`go mod download` did not say where {module} is:\n{json}"))?;
    let name = module.rsplit('/').next().unwrap_or(module);
    let destination = paths::cache_dir().join("src").join(format!("{name}-{version}"));
    if destination.exists() {
        std::fs::remove_dir_all(&destination)?;
    }
    std::fs::create_dir_all(destination.parent().unwrap_or(Path::new("/")))?;
    command::run(Command::new("cp").arg("-r").arg(dir).arg(&destination))?;
    command::run(Command::new("chmod").args(["-R", "u+w"]).arg(&destination))?;
    Ok(destination)
}

fn go_command(source: &Path) -> Command {
    let mut command = Command::new("go");
    command
        .current_dir(source)
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "-mod=mod")
        // Build with the Go that is here; never download a toolchain.
        .env("GOTOOLCHAIN", "local");
    command
}

fn go_build(source: &Path, package: &str, ldflags: &str, output: &Path) -> anyhow::Result<()> {
    if let Some(parent) = output.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // Built next to its place and renamed, so an interrupted build never leaves a binary behind.
    let partial = PathBuf::from(format!("{}.partial", output.display()));
    command::run(
        go_command(source)
            .args(["build", "-trimpath", "-ldflags", ldflags, "-o"])
            .arg(&partial)
            .arg(package),
    )?;
    std::fs::rename(&partial, output)?;
    Ok(())
}
