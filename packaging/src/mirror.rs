//! `CPython` runtimes for the tests, built here from Debian's source packages.
//!
//! The Python buildpack downloads `CPython` from an inventory of python-build-standalone archives,
//! and the tests cannot reach the internet. So this module builds `CPython` from the pristine
//! upstream tarball of Debian's `pythonX.Y` source package (apt checks it against the signed
//! archive), inside the Toolforge build image so that it links against exactly the libraries the
//! run image has, and lays it out as python-build-standalone's `install_only` archives do. The
//! tests serve [`python_mirror_dir`] over HTTP and point the buildpack at its `inventory.toml`.
//!
//! A build takes minutes, so each archive is kept in the cache with a sidecar naming the recipe
//! that made it; a missing or differently made archive is built again.

use crate::buildpacks::TARGET_TRIPLE;
use crate::mirror_files::{
    Release, ensure_each, megabytes, render_inventory, sidecar_name, version_key, write_atomically,
};
use crate::{command, paths, stack};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The minor versions the tests use.
///
/// 3.13 and 3.11: the Debian mirror these machines reach lists python3.14's source package in
/// unstable but answers 404 for its files, and no other suite has 3.14, 3.12 or a newer minor.
/// Two minors from two suites still exercise version selection and two different runtimes.
pub const TEST_PYTHON_MINORS: [&str; 2] = ["3.13", "3.11"];

/// Part of every archive's recipe sidecar. The sidecar also holds the digest of the build script
/// and its inputs, so editing those rebuilds by itself; bump this for any other change to how an
/// archive is made (how it is named, checked or moved into place).
const RECIPE: u32 = 1;

/// Where each minor version's source package comes from: the suite, and whether apt may accept
/// that suite's Release file after its `Valid-Until`.
///
/// Unstable's Release file is valid for a week only, and a mirror that lags behind serves one
/// apt calls expired (the mirror this was written on did, by weeks); the signature is still
/// checked, which is what ties the tarball to Debian. Trixie's Release has no `Valid-Until`, and
/// the build image already lists trixie, whose entry may not differ in that option.
const DEBIAN_SOURCES: [(&str, DebianSuite); 3] = [
    (
        "3.11",
        DebianSuite {
            name: "bookworm",
            check_valid_until: true,
        },
    ),
    (
        "3.13",
        DebianSuite {
            name: "trixie",
            check_valid_until: true,
        },
    ),
    (
        "3.14",
        DebianSuite {
            name: "unstable",
            check_valid_until: false,
        },
    ),
];

#[derive(Debug, Clone, Copy)]
struct DebianSuite {
    name: &'static str,
    check_valid_until: bool,
}

/// What `CPython`'s optional modules link against. The build image has them all (each with its
/// runtime library in the run image, as the stack guarantees); installing them again is a no-op
/// that keeps this build working should the build image lose one. Tk is left out on purpose: the
/// run image has no Tk, so `_tkinter` is not built.
const BUILD_DEPENDENCIES: [&str; 15] = [
    "build-essential",
    "pkg-config",
    "libssl-dev",
    "libffi-dev",
    "zlib1g-dev",
    "libbz2-dev",
    "liblzma-dev",
    "libzstd-dev",
    "libreadline-dev",
    "libncurses-dev",
    "libgdbm-dev",
    "libgdbm-compat-dev",
    "libsqlite3-dev",
    "uuid-dev",
    "libexpat1-dev",
];

/// Runs as root in a throwaway container of the build image, with the work directory at /out.
/// Progress goes to stderr; everything verbose goes to /out/build.log, which is what a failure
/// shows.
const BUILD_SCRIPT: &str = r#"#!/bin/bash
set -euo pipefail
log=/out/build.log
: >"$log"
note() { echo "    $*" >&2; }
quiet() { "$@" >>"$log" 2>&1; }
# Files written to /out belong to whoever owns it on the host, even after a failure.
trap 'chown -R "$(stat -c %u:%g /out)" /out' EXIT
export DEBIAN_FRONTEND=noninteractive

note "fetching the source package python$MINOR from Debian $SUITE"
{
  echo "Types: deb-src"
  echo "URIs: http://deb.debian.org/debian"
  echo "Suites: $SUITE"
  echo "Components: main"
  echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
  if [ "$CHECK_VALID_UNTIL" = no ]; then echo "Check-Valid-Until: no"; fi
} >/etc/apt/sources.list.d/cpython-source.sources
quiet apt-get update -q --error-on=any
# apt checks every file against the hashes in the signed Sources index. The directory belongs
# to _apt so that apt downloads in its sandbox.
mkdir /src
chown _apt /src
cd /src
quiet apt-get source --download-only "python$MINOR/$SUITE"
shopt -s nullglob
# Upstream tarballs are .tar.xz in trixie and later, .tar.gz in bookworm.
origs=(python"$MINOR"_*.orig.tar.?z)
if [ "${#origs[@]}" -ne 1 ]; then
  echo "expected one python${MINOR}_*.orig.tar.?z from apt-get source, found: ${origs[*]}" >>"$log"
  exit 1
fi
echo "${origs[0]}" >/out/orig-tarball
# The pristine upstream tarball only: Debian's patches fit Debian's layout, not a relocatable
# install.
mkdir /build
tar -xf "${origs[0]}" -C /build --strip-components=1
cp /build/Include/patchlevel.h /out/patchlevel.h
# What the installed files' times are clamped to, and what makes compileall write hash-based
# .pyc files: those stay valid whatever times an extraction gives the sources, where time-based
# ones would go stale and be recompiled (or, in a read-only layer, ignored) at every start.
SOURCE_DATE_EPOCH="$(stat -c %Y /build/Include/patchlevel.h)"
export SOURCE_DATE_EPOCH

note "installing build dependencies"
# shellcheck disable=SC2086 # a list of package names
quiet apt-get install -y -q --no-install-recommends $BUILD_DEPENDENCIES

note "configure and make (a few minutes)"
cd /build
# No --enable-shared: with a static libpython the interpreter finds its prefix from its own
# path, so the tree works wherever it is extracted. No --enable-optimizations (PGO): it would
# double the build time on 2 cores for a runtime that only the tests use.
quiet ./configure --prefix=/opt/python --with-ensurepip=install
quiet make -j"$(nproc)"
note "make install"
quiet make install

cd /opt/python
[ -e bin/python ] || ln -s python3 bin/python
# Scripts such as pip3 start with `#!/opt/python/bin/python3.X`, which is wrong once the tree
# moves: use python-build-standalone's (and pip's) relocatable preamble, which runs the python
# next to the script. It is both valid sh and a Python string.
for script in bin/*; do
  if [ -f "$script" ] && [ ! -L "$script" ] && head -n 1 "$script" | grep -q '^#!/opt/python/bin/python'; then
    {
      echo '#!/bin/sh'
      echo "'''exec' \"\$(dirname -- \"\$(realpath -- \"\$0\")\")\"/'python$MINOR' \"\$0\" \"\$@\""
      echo "' '''"
      tail -n +2 "$script"
    } >"$script.new"
    chmod --reference="$script" "$script.new"
    mv "$script.new" "$script"
  fi
done
# The stdlib's own test suites are a third of its size and of no use to a tool.
find "lib/python$MINOR" -path "lib/python$MINOR/site-packages" -prune -o \
  -type d \( -name test -o -name tests -o -name idle_test \) -prune -exec rm -rf {} + >>"$log" 2>&1
find . -type f \( -name '*.so' -o -name '*.so.*' \) -exec strip --strip-unneeded {} +
strip --strip-unneeded "bin/python$MINOR"
find . -type f -name '*.a' -exec strip --strip-debug {} +

note "checking a moved copy"
# Moved, not copied: nothing may still find the tree at its build path. Run as nobody, who
# cannot write into it, like a tool in its read-only image layer.
mkdir /stage
mv /opt/python /stage/python
check() {
  setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp "$@"
}
if ! check /stage/python/bin/python3 -c "$IMPORT_CHECK" >/out/check.txt 2>&1 \
  || ! check /stage/python/bin/python3 -m venv /tmp/venv-check >>/out/check.txt 2>&1 \
  || ! check /tmp/venv-check/bin/python -m pip --version >>/out/check.txt 2>&1 \
  || ! check /stage/python/bin/pip3 --version >>/out/check.txt 2>&1; then
  {
    echo "the built CPython fails its check when moved to /stage/python:"
    cat /out/check.txt
  } >>"$log"
  exit 1
fi

note "archiving"
tar --sort=name --numeric-owner --owner=0 --group=0 \
  --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime -C /stage -cf - python | gzip -n >/out/python.tar.gz.partial
mv /out/python.tar.gz.partial /out/python.tar.gz
"#;

/// What the moved copy must import: every optional module a tool is likely to need, by the
/// extension modules themselves, since `decimal` and `uuid` quietly fall back to pure Python.
const IMPORT_CHECK: &str = "import ssl, sqlite3, ctypes, zlib, bz2, lzma, readline, uuid, decimal, hashlib, \
                            venv, ensurepip, curses, dbm.gnu, pyexpat, _decimal, _uuid, _ctypes; \
                            print(ssl.OPENSSL_VERSION)";

const INVENTORY_HEADER: &str = "Self-built CPython runtimes (from Debian source packages), for the tests.";

/// Directory holding the built runtimes and `inventory.toml`: `<cache_dir>/mirror/python`.
#[must_use]
pub fn python_mirror_dir() -> PathBuf {
    paths::mirrors_dir().join("python")
}

/// Builds (or reuses from the cache) `CPython` for each minor version (`"3.13"`), then writes
/// `inventory.toml` listing them; returns an outcome line. Every minor is attempted, so one that
/// fails does not cost the others their build.
///
/// # Errors
///
/// When a minor has no known Debian suite, or Docker, apt or the build fails, or the built
/// `CPython` fails its check; the error carries the end of the build log.
pub fn ensure_python_mirror(minors: &[&str]) -> anyhow::Result<String> {
    let dir = python_mirror_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let releases = ensure_each("python", minors, |minor| ensure_minor(&dir, minor))?;
    let inventory = dir.join("inventory.toml");
    write_atomically(
        &inventory,
        render_inventory(INVENTORY_HEADER, &releases).as_bytes(),
    )?;
    let versions: Vec<&str> = releases.iter().map(|release| release.version.as_str()).collect();
    Ok(format!(
        "CPython {} in {}",
        versions.join(", "),
        inventory.display()
    ))
}

/// The archive of one minor version: the cached one if the same recipe made it, else a new build.
fn ensure_minor(dir: &Path, minor: &str) -> anyhow::Result<(Release, String)> {
    let suite = debian_suite(minor)?;
    let recipe = recipe_stamp()?;
    if let Some((version, file)) = cached_archive(dir, minor, &recipe)? {
        let sha256 = command::sha256_file(&dir.join(&file))?;
        let outcome = format!("cached: {file}");
        return Ok((
            Release {
                version,
                file,
                sha256,
            },
            outcome,
        ));
    }
    let (version, built) = build(minor, suite)?;
    let file = archive_name(&version);
    // Older archives of this minor (another patch version or recipe) would otherwise linger.
    for (_, old) in archives_of(dir, minor)? {
        std::fs::remove_file(dir.join(&old))?;
        let _ = std::fs::remove_file(dir.join(sidecar_name(&old)));
    }
    // The rename is what makes the archive appear, whole; the sidecar after it, so an archive
    // without one (the process stopped in between) is built again rather than trusted.
    std::fs::rename(&built, dir.join(&file))
        .with_context(|| format!("cannot move {} into {}", built.display(), dir.display()))?;
    write_atomically(&dir.join(sidecar_name(&file)), recipe.as_bytes())?;
    let path = dir.join(&file);
    let sha256 = command::sha256_file(&path)?;
    let size = std::fs::metadata(&path)?.len();
    let outcome = format!("built cpython {version}: {file}, {}", megabytes(size));
    Ok((
        Release {
            version,
            file,
            sha256,
        },
        outcome,
    ))
}

fn debian_suite(minor: &str) -> anyhow::Result<DebianSuite> {
    DEBIAN_SOURCES
        .iter()
        .find(|(known, _)| *known == minor)
        .map(|(_, suite)| *suite)
        .with_context(|| {
            let known: Vec<&str> = DEBIAN_SOURCES.iter().map(|(minor, _)| *minor).collect();
            format!(
                "no Debian suite is known for Python {minor} (known: {}); add it to DEBIAN_SOURCES",
                known.join(", ")
            )
        })
}

/// What an archive's sidecar holds: the recipe version and the digest of everything the
/// container is given.
fn recipe_stamp() -> anyhow::Result<String> {
    let digest = command::digest_paths(
        &[],
        &[
            BUILD_SCRIPT,
            IMPORT_CHECK,
            &BUILD_DEPENDENCIES.join(" "),
            &format!("{DEBIAN_SOURCES:?}"),
        ],
    )?;
    Ok(format!("recipe {RECIPE} inputs {digest}\n"))
}

/// The newest archive of `minor` in `dir` that the current recipe made, as (version, file name).
fn cached_archive(dir: &Path, minor: &str, recipe: &str) -> anyhow::Result<Option<(String, String)>> {
    let mut usable: Vec<(String, String)> = archives_of(dir, minor)?
        .into_iter()
        .filter(|(_, file)| {
            std::fs::read_to_string(dir.join(sidecar_name(file))).is_ok_and(|stamp| stamp == recipe)
        })
        .collect();
    usable.sort_by_key(|(version, _)| std::cmp::Reverse(version_key(version)));
    Ok(usable.into_iter().next())
}

/// Every archive of `minor` in `dir`, as (version, file name).
fn archives_of(dir: &Path, minor: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(version) = version_from_archive_name(&name)
            && minor_of(&version) == Some(minor)
        {
            found.push((version, name));
        }
    }
    Ok(found)
}

/// Runs the build in a container; returns the full version and the archive (in the work
/// directory).
fn build(minor: &str, suite: DebianSuite) -> anyhow::Result<(String, PathBuf)> {
    let image = stack::read_config()?.images.build;
    if !stack::image_exists(&image) {
        bail!("the build image {image} is not in the local Docker engine; run `cargo packaging stack`");
    }
    let work = paths::cache_dir()
        .join("mirror")
        .join("work")
        .join(format!("python{minor}"));
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("cannot remove {}", work.display()))?;
    }
    std::fs::create_dir_all(&work)?;
    // Docker mounts absolute paths only, and the cache directory may be given as a relative one.
    let work = work.canonicalize()?;
    std::fs::write(work.join("build-cpython.sh"), BUILD_SCRIPT)?;

    // A container left over from an interrupted run would hold the name.
    let container = format!("toolforge-mirror-python{minor}");
    let _ = command::output(Command::new("docker").args(["rm", "--force", &container]));
    let status = Command::new("docker")
        .args(["run", "--rm", "--init", "--name", &container, "--user", "root"])
        .arg("--volume")
        .arg(format!("{}:/out", work.display()))
        .args(["--env", &format!("MINOR={minor}")])
        .args(["--env", &format!("SUITE={}", suite.name)])
        .args([
            "--env",
            &format!(
                "CHECK_VALID_UNTIL={}",
                if suite.check_valid_until { "yes" } else { "no" }
            ),
        ])
        .args([
            "--env",
            &format!("BUILD_DEPENDENCIES={}", BUILD_DEPENDENCIES.join(" ")),
        ])
        .args(["--env", &format!("IMPORT_CHECK={IMPORT_CHECK}")])
        .args(["--entrypoint", "/bin/bash", &image, "/out/build-cpython.sh"])
        .status()
        .context("cannot start docker")?;
    if !status.success() {
        let log = work.join("build.log");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        bail!(
            "the build of CPython {minor} in a {image} container failed ({status}); the end of {}:\n{}",
            log.display(),
            tail(&text, 40)
        );
    }

    let patchlevel = std::fs::read_to_string(work.join("patchlevel.h"))?;
    let version =
        version_from_patchlevel(&patchlevel).context("Include/patchlevel.h defines no PY_VERSION")?;
    check_final_release(&version, minor)?;
    let orig = std::fs::read_to_string(work.join("orig-tarball"))?;
    let orig = orig.trim();
    if version_from_orig_tarball(orig, minor).as_deref() != Some(version.as_str()) {
        bail!("the source package's tarball {orig} does not hold CPython {version}, its patchlevel.h says");
    }
    Ok((version, work.join("python.tar.gz")))
}

/// `PY_VERSION` from `CPython`'s `Include/patchlevel.h` (`#define PY_VERSION "3.13.5"`).
fn version_from_patchlevel(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("#define")?.trim_start();
        let value = rest.strip_prefix("PY_VERSION")?;
        // PY_VERSION_HEX and the like share the prefix.
        if !value.starts_with(char::is_whitespace) {
            return None;
        }
        let value = value.trim().strip_prefix('"')?;
        Some(value[..value.find('"')?].to_string())
    })
}

/// The upstream version in a Debian orig tarball's name (`python3.13_3.13.5.orig.tar.xz`), without
/// a repack suffix such as `+dfsg`.
fn version_from_orig_tarball(name: &str, minor: &str) -> Option<String> {
    let rest = name.strip_prefix(&format!("python{minor}_"))?;
    let version = rest
        .strip_suffix(".orig.tar.xz")
        .or_else(|| rest.strip_suffix(".orig.tar.gz"))?;
    Some(version.split('+').next()?.to_string())
}

/// The inventory's versions are plain `X.Y.Z`, as the buildpack compares them; a pre-release
/// (`3.14.0rc1`) or another minor than asked for is a mistake in `DEBIAN_SOURCES`.
fn check_final_release(version: &str, minor: &str) -> anyhow::Result<()> {
    if version_key(version).is_none() {
        bail!("CPython {version} is not a final release (X.Y.Z)");
    }
    if minor_of(version) != Some(minor) {
        bail!("asked for Python {minor}, the source package holds {version}");
    }
    Ok(())
}

fn archive_name(version: &str) -> String {
    format!("cpython-{version}-{TARGET_TRIPLE}-install_only.tar.gz")
}

/// The inverse of [`archive_name`], for final releases only.
fn version_from_archive_name(name: &str) -> Option<String> {
    let version = name
        .strip_prefix("cpython-")?
        .strip_suffix(&format!("-{TARGET_TRIPLE}-install_only.tar.gz"))?;
    version_key(version)?;
    Some(version.to_string())
}

/// `3.13` of `3.13.5`.
fn minor_of(version: &str) -> Option<&str> {
    let (minor, patch) = version.rsplit_once('.')?;
    minor.contains('.').then_some(())?;
    patch.parse::<u64>().ok()?;
    Some(minor)
}

/// The last `count` lines of `text`.
fn tail(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_py_version_from_patchlevel() {
        let text = "#define PY_RELEASE_SERIAL   0\n\n/* Version as a string */\n\
                    #define PY_VERSION              \"3.13.5\"\n/*--end constants--*/\n\
                    #define PY_VERSION_HEX ((PY_MAJOR_VERSION << 24))\n";
        assert_eq!(version_from_patchlevel(text).as_deref(), Some("3.13.5"));
        assert_eq!(
            version_from_patchlevel("#define PY_VERSION_HEX 0x030d05f0\n"),
            None
        );
        assert_eq!(version_from_patchlevel(""), None);
    }

    #[test]
    fn reads_upstream_version_from_orig_tarball() {
        assert_eq!(
            version_from_orig_tarball("python3.13_3.13.5.orig.tar.xz", "3.13").as_deref(),
            Some("3.13.5")
        );
        assert_eq!(
            version_from_orig_tarball("python3.14_3.14.10+dfsg.orig.tar.xz", "3.14").as_deref(),
            Some("3.14.10")
        );
        assert_eq!(
            version_from_orig_tarball("python3.11_3.11.2.orig.tar.gz", "3.11").as_deref(),
            Some("3.11.2")
        );
        assert_eq!(
            version_from_orig_tarball("python3.13_3.13.5.orig.tar.xz", "3.14"),
            None
        );
        assert_eq!(
            version_from_orig_tarball("python3.13_3.13.5-2.debian.tar.xz", "3.13"),
            None
        );
    }

    #[test]
    fn archive_names_round_trip() {
        let name = archive_name("3.13.5");
        assert_eq!(
            name,
            "cpython-3.13.5-x86_64-unknown-linux-gnu-install_only.tar.gz"
        );
        assert_eq!(version_from_archive_name(&name).as_deref(), Some("3.13.5"));
        assert_eq!(version_from_archive_name(&sidecar_name(&name)), None);
        assert_eq!(
            version_from_archive_name("cpython-3.14.0rc1-x86_64-unknown-linux-gnu-install_only.tar.gz"),
            None
        );
    }

    #[test]
    fn versions_order_numerically_and_know_their_minor() {
        assert!(version_key("3.13.10") > version_key("3.13.9"));
        assert_eq!(version_key("3.14"), None);
        assert_eq!(version_key("3.14.0.1"), None);
        assert_eq!(version_key("3.14.+1"), None);
        assert_eq!(minor_of("3.13.5"), Some("3.13"));
        assert_eq!(minor_of("3.13"), None);
        assert!(check_final_release("3.14.10", "3.14").is_ok());
        assert!(check_final_release("3.14.0rc1", "3.14").is_err());
        assert!(check_final_release("3.13.5", "3.14").is_err());
    }

    #[test]
    fn knows_the_suite_of_each_test_minor() {
        for minor in TEST_PYTHON_MINORS {
            assert!(debian_suite(minor).is_ok(), "{minor}");
        }
        assert_eq!(debian_suite("3.14").unwrap().name, "unstable");
        assert!(debian_suite("2.7").is_err());
    }

    #[test]
    fn renders_the_inventory_newest_first_with_relative_urls() {
        let release = |version: &str, sha256: &str| Release {
            version: version.to_string(),
            file: archive_name(version),
            sha256: sha256.to_string(),
        };
        let inventory = render_inventory(
            INVENTORY_HEADER,
            &[release("3.13.5", "aa"), release("3.14.10", "bb")],
        );
        assert_eq!(
            inventory,
            "# Self-built CPython runtimes (from Debian source packages), for the tests. Generated by \
             `cargo packaging mirror`.\n\
             [[releases]]\n\
             version = \"3.14.10\"\n\
             url = \"cpython-3.14.10-x86_64-unknown-linux-gnu-install_only.tar.gz\"\n\
             sha256 = \"bb\"\n\
             \n\
             [[releases]]\n\
             version = \"3.13.5\"\n\
             url = \"cpython-3.13.5-x86_64-unknown-linux-gnu-install_only.tar.gz\"\n\
             sha256 = \"aa\"\n"
        );
        assert!(inventory.parse::<toml::Table>().is_ok());
    }

    #[test]
    fn finds_the_newest_archive_the_current_recipe_made() {
        let dir = std::env::temp_dir().join(format!("toolforge-mirror-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let recipe = "recipe 1 inputs abc\n";
        for (version, stamp) in [
            ("3.13.4", Some(recipe)),
            ("3.13.5", Some(recipe)),
            ("3.13.6", Some("recipe 0 inputs abc\n")),
            ("3.13.7", None),
            ("3.14.1", Some(recipe)),
        ] {
            std::fs::write(dir.join(archive_name(version)), "").unwrap();
            if let Some(stamp) = stamp {
                std::fs::write(dir.join(sidecar_name(&archive_name(version))), stamp).unwrap();
            }
        }
        let found = cached_archive(&dir, "3.13", recipe).unwrap();
        let missing = cached_archive(&dir, "3.12", recipe).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found, Some(("3.13.5".to_string(), archive_name("3.13.5"))));
        assert_eq!(missing, None);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
