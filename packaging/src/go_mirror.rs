//! Go toolchains from the Go module proxy: the test mirror, and the data of the production
//! inventory (`cargo packaging inventory go`).
//!
//! Every Go release's binary distribution is also the module `golang.org/toolchain` at
//! `v0.0.1-go<version>.<os>-<arch>`, the zips `GOTOOLCHAIN` switches to. The host's `go` fetches
//! them (`go mod download`), which checks each zip against the checksum database, so a zip here
//! is the one every Go user gets. Their entries are under
//! `golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64/` (the module zip format requires that
//! prefix), hence [`TOOLCHAIN_STRIP_COMPONENTS`]; a zip carries no permission bits, so whoever
//! extracts one makes `bin/*` and `pkg/tool/*/*` executable, as `go` does when it switches.
//!
//! The mirror keeps each zip with a sidecar naming the recipe that fetched it; a missing or
//! differently fetched zip is fetched again.

use crate::mirror_files::{
    Release, ensure_each, megabytes, remove_other_versions, render_inventory_with, sidecar_name, version_key,
    write_atomically,
};
use crate::{command, paths};
use anyhow::{Context, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The exact Go versions the tests use, newest first: the newest patch release of the newest
/// minor (1.27) and of an older one (1.24, for a go.mod asking for it) that the module proxy
/// listed for linux-amd64 when these were pinned (2026-11-30).
pub const TEST_GO_VERSIONS: [&str; 2] = ["1.27.4", "1.24.13"];

/// The module whose versions are Go's binary distributions.
pub(crate) const TOOLCHAIN_MODULE: &str = "golang.org/toolchain";

/// The platform of every toolchain here: the stack's.
const PLATFORM: &str = "linux-amd64";

/// The inventory key telling the buildpack how many leading path components of a zip's entries
/// to drop. The buildpack's inventory reader must use the same name.
pub(crate) const STRIP_COMPONENTS_KEY: &str = "strip_components";

/// `golang.org/toolchain@v0.0.1-goX.Y.Z.linux-amd64/`: two components.
pub(crate) const TOOLCHAIN_STRIP_COMPONENTS: usize = 2;

/// Part of every zip's recipe sidecar, with the module version that went in. Bump it for any
/// change to how a zip is fetched, named or checked.
const RECIPE: u32 = 1;

const INVENTORY_HEADER: &str = "Go's official linux-amd64 toolchains, the golang.org/toolchain module zips of \
                                the Go module proxy, for the tests.";

/// Directory holding the toolchain zips and `inventory.toml`: `<cache_dir>/mirror/go`.
#[must_use]
pub fn go_mirror_dir() -> PathBuf {
    paths::mirrors_dir().join("go")
}

/// Fetches (or reuses from the cache) the toolchain zip of each exact Go version (`"1.27.4"`),
/// then writes `inventory.toml` listing them and removes zips of versions no longer asked for;
/// returns an outcome line. Every version is attempted, so one that fails does not cost the
/// others theirs.
///
/// # Errors
///
/// When a version is not `X.Y.Z`, when `go` is missing or cannot fetch a zip, or when a fetched
/// toolchain fails its check.
pub fn ensure_go_mirror(versions: &[&str]) -> anyhow::Result<String> {
    let dir = go_mirror_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let releases = ensure_each("go", versions, |version| ensure_version(&dir, version))?;
    let inventory = dir.join("inventory.toml");
    let text = render_mirror_inventory(&releases);
    check_toolchain_inventory(&text).with_context(|| format!("the inventory for {}", inventory.display()))?;
    write_atomically(&inventory, text.as_bytes())?;
    remove_other_versions(&dir, versions, version_from_zip_name)?;
    let versions: Vec<&str> = releases.iter().map(|release| release.version.as_str()).collect();
    Ok(format!("Go {} in {}", versions.join(", "), inventory.display()))
}

/// The mirror's inventory: relative URLs, each release with its strip count.
fn render_mirror_inventory(releases: &[Release]) -> String {
    render_inventory_with(
        INVENTORY_HEADER,
        releases,
        &[(STRIP_COMPONENTS_KEY, TOOLCHAIN_STRIP_COMPONENTS.to_string())],
    )
}

/// The zip of one version: the cached one if the same recipe fetched it, else a new one.
fn ensure_version(dir: &Path, version: &str) -> anyhow::Result<(Release, String)> {
    version_key(version).with_context(|| format!("Go version `{version}` is not X.Y.Z"))?;
    let recipe = recipe_stamp(version);
    let file = zip_name(version);
    let path = dir.join(&file);
    let (sha256, outcome) = if let Some(sha256) = cached_sha256(dir, &file, &recipe) {
        (sha256, format!("cached: {file}"))
    } else {
        let fetched = fetch_toolchain(version, &std::env::var_os("GOPROXY").unwrap_or_default())?;
        // The sidecar goes first, so that a zip is never there with a stale one; the copy is
        // renamed into place, so that the zip appears whole.
        let _ = std::fs::remove_file(dir.join(sidecar_name(&file)));
        let partial = dir.join(format!("{file}.partial"));
        std::fs::copy(&fetched.zip, &partial)
            .with_context(|| format!("cannot copy {} to {}", fetched.zip.display(), partial.display()))?;
        std::fs::rename(&partial, &path).with_context(|| format!("cannot write {}", path.display()))?;
        let sha256 = command::sha256_file(&path)?;
        let size = std::fs::metadata(&path)?.len();
        write_atomically(
            &dir.join(sidecar_name(&file)),
            sidecar_text(&recipe, &sha256, size).as_bytes(),
        )?;
        fetched.clean_up()?;
        let outcome = format!("fetched {file}, {} ({})", megabytes(size), fetched.checked);
        (sha256, outcome)
    };
    Ok((
        Release {
            version: version.to_string(),
            file,
            sha256,
        },
        outcome,
    ))
}

/// The recipe line of a zip's sidecar.
fn recipe_stamp(version: &str) -> String {
    format!("recipe {RECIPE} {TOOLCHAIN_MODULE}@{}\n", module_version(version))
}

/// What a zip's sidecar holds: the recipe, and the zip's sha256 and size when it was fetched, so
/// that a second run need not hash it again (the buildpack checks the sha256 of what it gets).
fn sidecar_text(recipe: &str, sha256: &str, size: u64) -> String {
    format!("{recipe}sha256 {sha256}\nsize {size}\n")
}

/// The sha256 of the zip `file` in `dir` if its sidecar names exactly `recipe` and the zip has
/// the size the sidecar says.
fn cached_sha256(dir: &Path, file: &str, recipe: &str) -> Option<String> {
    let sidecar = std::fs::read_to_string(dir.join(sidecar_name(file))).ok()?;
    let rest = sidecar.strip_prefix(recipe)?;
    let mut lines = rest.lines();
    let sha256 = lines.next()?.strip_prefix("sha256 ")?;
    let size: u64 = lines.next()?.strip_prefix("size ")?.parse().ok()?;
    let valid = lines.next().is_none()
        && sha256.len() == 64
        && sha256.bytes().all(|byte| byte.is_ascii_hexdigit())
        && std::fs::metadata(dir.join(file))
            .is_ok_and(|metadata| metadata.is_file() && metadata.len() == size);
    valid.then(|| sha256.to_string())
}

/// A toolchain zip in a work directory of its own, with its extracted module.
pub(crate) struct FetchedToolchain {
    work: PathBuf,
    /// The module zip, as the proxy served it.
    pub(crate) zip: PathBuf,
    /// What the extracted toolchain printed: `go version go1.27.4 linux/amd64`.
    pub(crate) checked: String,
}

impl FetchedToolchain {
    /// Removes the work directory (the module cache holding the zip and its extracted tree).
    pub(crate) fn clean_up(&self) -> anyhow::Result<()> {
        std::fs::remove_dir_all(&self.work).with_context(|| format!("cannot remove {}", self.work.display()))
    }
}

/// Fetches the toolchain zip of `version` through `go mod download` from `proxy` (Go's default
/// when empty) into a fresh module cache in the work directory, and checks that its `bin/go`
/// runs and is that version.
pub(crate) fn fetch_toolchain(version: &str, proxy: &std::ffi::OsStr) -> anyhow::Result<FetchedToolchain> {
    let work = paths::mirrors_dir().join("work").join(format!("go-{version}"));
    let module = format!("{TOOLCHAIN_MODULE}@{}", module_version(version));
    let json = command::output(
        go_command(&work, proxy)?
            .args(["mod", "download", "-json"])
            .arg(&module),
    )
    .with_context(|| format!("cannot download {module} from the Go module proxy"))?;
    let downloaded =
        downloaded_module(&json).with_context(|| format!("`go mod download -json {module}` printed"))?;
    let checked = check_toolchain(&downloaded.dir, version)?;
    Ok(FetchedToolchain {
        work,
        zip: downloaded.zip,
        checked,
    })
}

/// Every version of the toolchain module the proxy lists, as `go list -m -versions` prints them.
pub(crate) fn list_toolchain_versions(proxy: &std::ffi::OsStr) -> anyhow::Result<String> {
    let work = paths::mirrors_dir().join("work").join("go-list");
    let listing = command::output(
        go_command(&work, proxy)?
            .args(["list", "-m", "-versions"])
            .arg(TOOLCHAIN_MODULE),
    )
    .with_context(|| format!("cannot list the versions of {TOOLCHAIN_MODULE}"))?;
    std::fs::remove_dir_all(&work).with_context(|| format!("cannot remove {}", work.display()))?;
    Ok(listing)
}

/// `go` run in a fresh `work` directory that is also its module cache: the module proxy from
/// `proxy` (or Go's default), the checksum database always consulted, no toolchain switch.
fn go_command(work: &Path, proxy: &std::ffi::OsStr) -> anyhow::Result<Command> {
    if !command::on_path("go") {
        bail!("Go is needed to fetch Go toolchains from the module proxy, and `go` is not on PATH");
    }
    if work.exists() {
        std::fs::remove_dir_all(work).with_context(|| format!("cannot remove {}", work.display()))?;
    }
    std::fs::create_dir_all(work).with_context(|| format!("cannot create {}", work.display()))?;
    let mut go = Command::new("go");
    go.current_dir(work)
        // No go.env settings (`go env -w`) either: they could turn the checksum database off.
        .env("GOENV", "off")
        .env("GOMODCACHE", work.join("modcache"))
        // -modcacherw: the extracted tree can be removed like any directory.
        .env("GOFLAGS", "-mod=mod -modcacherw")
        .env("GOTOOLCHAIN", "local");
    for bypass in [
        "GONOSUMDB",
        "GONOSUMCHECK",
        "GOPRIVATE",
        "GOINSECURE",
        "GONOPROXY",
    ] {
        go.env_remove(bypass);
    }
    if std::env::var("GOSUMDB").is_ok_and(|sumdb| sumdb.trim() == "off") {
        go.env_remove("GOSUMDB");
    }
    if proxy.is_empty() {
        go.env_remove("GOPROXY");
    } else {
        go.env("GOPROXY", proxy);
    }
    Ok(go)
}

/// Where `go mod download -json` put a module: its zip and its extracted tree.
#[derive(Debug, PartialEq, Eq)]
struct DownloadedModule {
    zip: PathBuf,
    dir: PathBuf,
}

fn downloaded_module(json: &str) -> anyhow::Result<DownloadedModule> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Download {
        error: Option<String>,
        zip: Option<PathBuf>,
        dir: Option<PathBuf>,
    }
    let download: Download = serde_json::from_str(json).context("no JSON")?;
    if let Some(error) = download.error {
        bail!("{error}");
    }
    Ok(DownloadedModule {
        zip: download.zip.context("no `Zip`")?,
        dir: download.dir.context("no `Dir`")?,
    })
}

/// Runs the extracted toolchain's `bin/go version`, which must name `version`; returns what it
/// printed.
fn check_toolchain(dir: &Path, version: &str) -> anyhow::Result<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let go = dir.join("bin/go");
    // The zip has no permission bits: the extracted files are not executable.
    std::fs::set_permissions(&go, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("the toolchain has no {}", go.display()))?;
    let said = command::output(Command::new(&go).arg("version").env("GOTOOLCHAIN", "local"))?;
    let said = said.trim().to_string();
    if said != format!("go version go{version} linux/amd64") {
        bail!(
            "{} version printed `{said}`, expected go{version} linux/amd64",
            go.display()
        );
    }
    Ok(said)
}

/// The toolchain module's version for a Go version: `v0.0.1-go1.27.4.linux-amd64`.
fn module_version(version: &str) -> String {
    format!("v0.0.1-go{version}.{PLATFORM}")
}

/// The zip's name, as the module proxy names it: `v0.0.1-go1.27.4.linux-amd64.zip`.
pub(crate) fn zip_name(version: &str) -> String {
    format!("{}.zip", module_version(version))
}

/// The production URL of a toolchain zip, on the public module proxy.
pub(crate) fn proxy_url(version: &str) -> String {
    format!("{PUBLIC_PROXY}/{TOOLCHAIN_MODULE}/@v/{}", zip_name(version))
}

/// Go's public module proxy, which the production inventory's URLs name.
pub(crate) const PUBLIC_PROXY: &str = "https://proxy.golang.org";

/// The Go version of a toolchain module version (`v0.0.1-go1.27.4.linux-amd64`), for final
/// `X.Y.Z` linux-amd64 releases only: not `go1.21rc2`, not `go1.20` (Go named `.0` releases
/// without the patch before 1.21), not another platform.
fn version_from_module_version(module_version: &str) -> Option<String> {
    let version = module_version
        .strip_prefix("v0.0.1-go")?
        .strip_suffix(&format!(".{PLATFORM}"))?;
    version_key(version)?;
    Some(version.to_string())
}

/// The inverse of [`zip_name`].
fn version_from_zip_name(name: &str) -> Option<String> {
    version_from_module_version(name.strip_suffix(".zip")?)
}

/// The final linux-amd64 releases in `go list -m -versions golang.org/toolchain`'s output (the
/// module path, then every version), newest first.
pub(crate) fn stable_releases(listing: &str) -> Vec<String> {
    let mut versions: Vec<String> = listing
        .split_whitespace()
        .filter_map(version_from_module_version)
        .collect();
    versions.sort_by_key(|version| std::cmp::Reverse(version_key(version)));
    versions.dedup();
    versions
}

/// The newest patch release of each of the newest `minors` minor versions, newest first.
pub(crate) fn newest_patches(releases: &[String], minors: usize) -> Vec<String> {
    let mut sorted: Vec<&String> = releases.iter().collect();
    sorted.sort_by_key(|version| std::cmp::Reverse(version_key(version)));
    let mut chosen: Vec<String> = Vec::new();
    for version in sorted {
        let minor = |version: &str| version_key(version).map(|(major, minor, _)| (major, minor));
        if chosen.last().is_none_or(|last| minor(last) != minor(version)) {
            if chosen.len() == minors {
                break;
            }
            chosen.push(version.clone());
        }
    }
    chosen
}

/// Checks a toolchain inventory as the buildpack reads it (libtoolforge's `Inventory`, relative
/// URLs against a placeholder base), and that every release strips the module zip's two-component
/// prefix. Returns the number of releases.
pub(crate) fn check_toolchain_inventory(text: &str) -> anyhow::Result<usize> {
    let inventory =
        libtoolforge::inventory::Inventory::parse(text, "inventory.toml", Some("http://127.0.0.1/go/"))?;
    for release in inventory.releases() {
        if release.strip_components != TOOLCHAIN_STRIP_COMPONENTS {
            bail!(
                "{} does not have {STRIP_COMPONENTS_KEY} = {TOOLCHAIN_STRIP_COMPONENTS}",
                release.version
            );
        }
    }
    Ok(inventory.releases().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of `go list -m -versions golang.org/toolchain`'s output, abridged.
    const LISTING: &str = "golang.org/toolchain v0.0.1-go1.8.linux-amd64 v0.0.1-go1.20.14.linux-amd64 \
                           v0.0.1-go1.21.0.linux-amd64 v0.0.1-go1.21rc2.linux-amd64 \
                           v0.0.1-go1.24.9.linux-amd64 v0.0.1-go1.24.13.linux-amd64 \
                           v0.0.1-go1.24.10.linux-amd64 v0.0.1-go1.25.14.linux-amd64 \
                           v0.0.1-go1.26.11.linux-amd64 v0.0.1-go1.26.8.linux-arm64 \
                           v0.0.1-go1.27.4.linux-amd64 v0.0.1-go1.27.4.darwin-amd64 \
                           v0.0.1-go1.28beta1.linux-amd64 v0.0.1-go1.27.0.linux-amd64\n";

    #[test]
    fn the_mirror_is_beside_the_others() {
        assert_eq!(go_mirror_dir().parent(), Some(paths::mirrors_dir().as_path()));
        assert_eq!(go_mirror_dir().file_name().unwrap(), "go");
    }

    #[test]
    fn keeps_final_linux_amd64_releases_newest_first() {
        assert_eq!(
            stable_releases(LISTING),
            [
                "1.27.4", "1.27.0", "1.26.11", "1.25.14", "1.24.13", "1.24.10", "1.24.9", "1.21.0", "1.20.14"
            ]
        );
        assert!(stable_releases("golang.org/toolchain\n").is_empty());
    }

    #[test]
    fn chooses_the_newest_patch_of_the_newest_minors() {
        let releases = stable_releases(LISTING);
        assert_eq!(
            newest_patches(&releases, 4),
            ["1.27.4", "1.26.11", "1.25.14", "1.24.13"]
        );
        assert_eq!(newest_patches(&releases, 1), ["1.27.4"]);
        assert_eq!(newest_patches(&releases, 20).len(), 6);
        assert!(newest_patches(&[], 4).is_empty());
        let unsorted = ["1.24.9".to_string(), "1.25.1".into(), "1.24.10".into()];
        assert_eq!(newest_patches(&unsorted, 2), ["1.25.1", "1.24.10"]);
    }

    #[test]
    fn test_versions_are_newest_first_one_per_minor() {
        let keys: Vec<(u64, u64, u64)> = TEST_GO_VERSIONS
            .iter()
            .map(|version| version_key(version).unwrap())
            .collect();
        assert!(keys.is_sorted_by(|a, b| a > b), "{keys:?}");
        let mut minors: Vec<(u64, u64)> = keys.iter().map(|key| (key.0, key.1)).collect();
        minors.dedup();
        assert_eq!(minors.len(), TEST_GO_VERSIONS.len());
    }

    #[test]
    fn names_follow_the_module_proxy() {
        assert_eq!(module_version("1.27.4"), "v0.0.1-go1.27.4.linux-amd64");
        let name = zip_name("1.27.4");
        assert_eq!(name, "v0.0.1-go1.27.4.linux-amd64.zip");
        assert_eq!(version_from_zip_name(&name).as_deref(), Some("1.27.4"));
        assert_eq!(version_from_zip_name(&sidecar_name(&name)), None);
        assert_eq!(version_from_zip_name("v0.0.1-go1.27.4.linux-arm64.zip"), None);
        assert_eq!(version_from_zip_name("v0.0.1-go1.21rc2.linux-amd64.zip"), None);
        assert_eq!(version_from_zip_name("inventory.toml"), None);
        assert_eq!(
            proxy_url("1.27.4"),
            "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go1.27.4.linux-amd64.zip"
        );
        assert_eq!(
            recipe_stamp("1.27.4"),
            "recipe 1 golang.org/toolchain@v0.0.1-go1.27.4.linux-amd64\n"
        );
    }

    #[test]
    fn reads_go_mod_download_json() {
        let json = r#"{
	"Path": "golang.org/toolchain",
	"Version": "v0.0.1-go1.24.13.linux-amd64",
	"Zip": "/c/cache/download/golang.org/toolchain/@v/v0.0.1-go1.24.13.linux-amd64.zip",
	"Dir": "/c/golang.org/toolchain@v0.0.1-go1.24.13.linux-amd64",
	"Sum": "h1:5sgfUhn9QCgVl4UYj32GrIYFHI3bi2UX55tNfupXwxc="
}"#;
        assert_eq!(
            downloaded_module(json).unwrap(),
            DownloadedModule {
                zip: "/c/cache/download/golang.org/toolchain/@v/v0.0.1-go1.24.13.linux-amd64.zip".into(),
                dir: "/c/golang.org/toolchain@v0.0.1-go1.24.13.linux-amd64".into(),
            }
        );
        let failed = r#"{"Path": "golang.org/toolchain", "Version": "v0.0.1-go1.99.0.linux-amd64",
            "Error": "golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64: invalid version: unknown revision"}"#;
        assert!(
            downloaded_module(failed)
                .unwrap_err()
                .to_string()
                .contains("unknown revision")
        );
        assert!(downloaded_module("go: not JSON").is_err());
    }

    #[test]
    fn uses_the_cache_only_with_the_same_recipe_and_size() {
        let dir = tempfile::tempdir().unwrap();
        let file = zip_name("1.27.4");
        let recipe = recipe_stamp("1.27.4");
        let sha256 = "c".repeat(64);
        let sidecar = dir.path().join(sidecar_name(&file));
        assert_eq!(cached_sha256(dir.path(), &file, &recipe), None);
        std::fs::write(dir.path().join(&file), "four").unwrap();
        assert_eq!(cached_sha256(dir.path(), &file, &recipe), None, "no sidecar");
        std::fs::write(&sidecar, sidecar_text("recipe 0 x\n", &sha256, 4)).unwrap();
        assert_eq!(cached_sha256(dir.path(), &file, &recipe), None, "another recipe");
        std::fs::write(&sidecar, sidecar_text(&recipe, &sha256, 5)).unwrap();
        assert_eq!(cached_sha256(dir.path(), &file, &recipe), None, "another size");
        std::fs::write(&sidecar, &recipe).unwrap();
        assert_eq!(cached_sha256(dir.path(), &file, &recipe), None, "no sha256");
        std::fs::write(&sidecar, sidecar_text(&recipe, &sha256, 4)).unwrap();
        assert_eq!(cached_sha256(dir.path(), &file, &recipe), Some(sha256));
        std::fs::remove_file(dir.path().join(&file)).unwrap();
        assert_eq!(cached_sha256(dir.path(), &file, &recipe), None, "a sidecar alone");
    }

    #[test]
    fn writes_the_mirror_inventory_with_relative_urls_and_the_strip_count() {
        let release = |version: &str, sha256: char| Release {
            version: version.to_string(),
            file: zip_name(version),
            sha256: sha256.to_string().repeat(64),
        };
        let text = render_mirror_inventory(&[release("1.24.13", 'a'), release("1.27.4", 'b')]);
        assert_eq!(
            text,
            format!(
                "# {INVENTORY_HEADER} Generated by `cargo packaging mirror`.\n\
                 [[releases]]\n\
                 version = \"1.27.4\"\n\
                 url = \"v0.0.1-go1.27.4.linux-amd64.zip\"\n\
                 sha256 = \"{b}\"\n\
                 strip_components = 2\n\
                 \n\
                 [[releases]]\n\
                 version = \"1.24.13\"\n\
                 url = \"v0.0.1-go1.24.13.linux-amd64.zip\"\n\
                 sha256 = \"{a}\"\n\
                 strip_components = 2\n",
                a = "a".repeat(64),
                b = "b".repeat(64)
            )
        );
        assert_eq!(check_toolchain_inventory(&text).unwrap(), 2);
    }

    #[test]
    fn checks_toolchain_inventories() {
        let good = format!(
            "[[releases]]\nversion = \"1.27.4\"\nurl = \"x.zip\"\nsha256 = \"{}\"\nstrip_components = 2\n",
            "a".repeat(64)
        );
        assert_eq!(check_toolchain_inventory(&good).unwrap(), 1);
        for bad in [
            good.replace("strip_components = 2\n", ""),
            good.replace("= 2", "= 1"),
        ] {
            let error = check_toolchain_inventory(&bad).unwrap_err().to_string();
            assert!(error.contains("strip_components = 2"), "{error}");
        }
        // The rest is libtoolforge's Inventory, as the buildpack reads it.
        for bad in [
            good.replace("1.27.4", "1.27"),
            good.replace(&"a".repeat(64), "abc"),
            "[releases]\n".to_string(),
        ] {
            assert!(check_toolchain_inventory(&bad).is_err(), "{bad}");
        }
    }
}
