//! Debian packages into a layer: resolved and downloaded by apt itself (signatures checked by apt,
//! against the stack's own sources and keyring), unpacked with `dpkg-deb -x`, then made usable
//! from the layer (alternatives, absolute symlinks, pkg-config prefixes, search paths).
//!
//! apt runs as the unprivileged build user with private state, lists and cache directories, and
//! sees the *run image's* package list as installed: every dependency the run image lacks is
//! fetched, even one the build image happens to have, and nothing the run image has is duplicated.

use crate::command::{self, CommandError};
use crate::error::Location;
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// Written by stacks/build.Dockerfile: the run image's dpkg status, before build packages.
pub const RUN_IMAGE_STATUS: &str = "/usr/local/lib/toolforge-stack/run-image/dpkg-status";

/// The run image's C library: the dynamic loader and the libraries it loads into every program
/// (`libc6`: `ld-linux-x86-64.so.2`, `libc.so.6`, `libm.so.6`, NSS and iconv modules) and the
/// programs built on its private interfaces (`libc-bin`: `ldconfig`, `iconv`, `locale`). They are
/// never installed into a layer, whatever the version: the run image's `ld.so` stays the loader of
/// every program, and a second `libc.so.6` first on `LD_LIBRARY_PATH` would not be its own build.
/// Packages made for the run image's C library (its `libc6-dev`) are installed; packages that
/// need another version of it are refused ([`AptError::CLibrary`]).
pub const RUN_IMAGE_C_LIBRARY: [&str; 2] = ["libc6", "libc-bin"];

/// The source package of [`RUN_IMAGE_C_LIBRARY`] (and of `libc6-dev`, `libc-dev-bin`, `locales`,
/// whose versions must equal it).
const C_LIBRARY_SOURCE: &str = "glibc";

/// The build-time variable (never at launch) by which the apt buildpack tells later buildpacks
/// which Debian packages its layer holds: [`packages_digest`] of them, for the cache keys of
/// what those buildpacks compile against the packages. Unset when the layer holds none.
pub const PACKAGES_DIGEST_ENV: &str = "TOOLFORGE_APT_PACKAGES_DIGEST";

/// A short digest of the packages' names and exact versions, the same for the same set in any
/// order; `None` for no packages.
#[must_use]
pub fn packages_digest(packages: &[Resolved]) -> Option<String> {
    let mut lines: Vec<String> = packages
        .iter()
        .map(|package| format!("{}={}\n", package.name, package.version))
        .collect();
    lines.sort();
    lines.dedup();
    let digest = crate::download::sha256(lines.concat().as_bytes());
    (!packages.is_empty()).then(|| digest[..16].to_string())
}

/// A package as the app asks for it: `name` or `name=version`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PackageSpec {
    pub name: String,
    pub version: Option<String>,
}

impl fmt::Display for PackageSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(version) => write!(f, "{}={version}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

impl PackageSpec {
    /// Parses `name` or `name=version`; `None` unless the name is a valid Debian package name
    /// (lower case letters, digits, `+`, `-`, `.`; at least two characters, starting alphanumeric).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let (name, version) = match text.split_once('=') {
            Some((name, version)) => (name.trim(), Some(version.trim())),
            None => (text.trim(), None),
        };
        if !is_package_name(name) || version.is_some_and(|version| !is_version(version)) {
            return None;
        }
        Some(Self {
            name: name.to_string(),
            version: version.map(ToString::to_string),
        })
    }
}

/// Debian policy 5.6.1.
#[must_use]
pub fn is_package_name(name: &str) -> bool {
    name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '-' | '.'))
}

/// Debian policy 5.6.12, loosely: what may follow `=` without confusing apt or a shell.
fn is_version(version: &str) -> bool {
    !version.is_empty()
        && version.starts_with(|c: char| c.is_ascii_digit())
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '~' | ':'))
}

/// One package apt would install.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Resolved {
    pub name: String,
    pub version: String,
    /// The run image's version, when apt replaces one of its packages with a newer one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

/// A package the app asks for that apt does not know, with the names it may have meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPackage {
    pub name: String,
    /// The same name with other version numbers: another ABI version of a library (`libtiff5` →
    /// `libtiff6`, `libssl1.1` → `libssl3t64`, `libjpeg-turbo8` → `libjpeg62-turbo`), another
    /// version of a program (`python3.8` → `python3.13`). The nearest ones.
    pub renamed: Vec<String>,
    /// Other names close to it (a typo's correction, longer names starting with it).
    pub close: Vec<String>,
    /// Where the app asks for it, when the caller that knows the app's files says.
    pub location: Option<Location>,
}

impl UnknownPackage {
    /// `name`, with nothing to suggest.
    #[must_use]
    pub fn without_suggestions(name: &str) -> Self {
        Self {
            name: name.to_string(),
            renamed: Vec::new(),
            close: Vec::new(),
            location: None,
        }
    }

    /// Every suggestion, the renamed ones first: at most five.
    #[must_use]
    pub fn suggestions(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for name in self.renamed.iter().chain(&self.close) {
            if !all.contains(name) {
                all.push(name.clone());
            }
        }
        all.truncate(5);
        all
    }
}

#[derive(Debug)]
pub enum AptError {
    /// apt knows no package of these names (every one of the requested packages it lacks).
    UnknownPackages(Vec<UnknownPackage>),
    /// The package exists, not in that version.
    UnknownVersion {
        name: String,
        version: String,
        available: Vec<String>,
    },
    /// apt found no consistent set (conflicts, unmet dependencies, virtual packages).
    Unresolvable(CommandError),
    /// The packages need another version of the run image's C library ([`RUN_IMAGE_C_LIBRARY`])
    /// than the run image has, and the index has no version of them made for the run image's.
    CLibrary {
        /// The requested packages that need it (all of them when only together).
        needed_by: Vec<String>,
        /// The C library's packages as apt would install them; `replaces` is the run image's
        /// version (`None`: it has none).
        packages: Vec<Resolved>,
    },
    /// apt or dpkg-deb failed otherwise (network, signatures).
    Command(CommandError),
    Io {
        what: String,
        error: std::io::Error,
    },
}

impl fmt::Display for AptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownPackages(unknown) => write!(
                f,
                "unknown package{} {}",
                if unknown.len() == 1 { "" } else { "s" },
                unknown
                    .iter()
                    .map(|package| package.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Self::UnknownVersion { name, version, .. } => write!(f, "no version {version} of {name}"),
            Self::Unresolvable(error) | Self::Command(error) => write!(f, "{error}"),
            Self::CLibrary { needed_by, packages } => write!(
                f,
                "{} {} {}",
                quoted_list(needed_by),
                if needed_by.len() == 1 { "needs" } else { "need" },
                describe_c_library(packages)
            ),
            Self::Io { what, error } => write!(f, "cannot {what}: {error}"),
        }
    }
}

impl AptError {
    /// The message for apt failing on the platform's side (network, signatures, a broken
    /// index): `detail`, the error, and the end of apt's output quoted.
    #[must_use]
    pub fn platform_message(&self, title: &str, detail: &str) -> crate::error::ErrorMessage {
        let message = crate::error::ErrorMessage::platform(title, format!("{detail}\n{self}."));
        match self {
            Self::Command(command) | Self::Unresolvable(command) if !command.output_tail.is_empty() => {
                message.excerpt(command.output_tail.clone())
            }
            _ => message,
        }
    }
}

/// `` `a`, `b` ``: package names as messages quote them.
#[must_use]
pub fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `libc6 and libc-bin 2.41-12+deb13u1 (the run image has 2.41-12)`: `packages` by version.
#[must_use]
pub fn describe_c_library(packages: &[Resolved]) -> String {
    let mut by_version: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for package in packages {
        let run_image = package.replaces.as_deref().unwrap_or("none");
        by_version
            .entry((&package.version, run_image))
            .or_default()
            .push(&package.name);
    }
    by_version
        .iter()
        .map(|((version, run_image), names)| {
            format!(
                "{} {version} (the run image has {run_image})",
                names.join(" and ")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> AptError {
    let what = what.into();
    move |error| AptError::Io { what, error }
}

/// apt-get and apt-cache with private state in `dir` (lists, archives, caches), resolving
/// against the dpkg status file `status`.
#[derive(Debug, Clone)]
pub struct Apt {
    dir: PathBuf,
    status: PathBuf,
    user: String,
}

impl Apt {
    /// Prepares `dir` (which must be writable) for apt.
    ///
    /// # Errors
    ///
    /// When the directories cannot be created or the current user not named.
    pub fn new(dir: &Path, status: &Path) -> Result<Self, AptError> {
        for sub in ["lists/partial", "archives/partial", "cache", "state"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(io_error("create apt's directories"))?;
        }
        // apt drops privileges to this user for downloads; as anyone but root it must be oneself.
        let user = command::output(Command::new("id").arg("-un"))
            .map_err(AptError::Command)?
            .trim()
            .to_string();
        Ok(Self {
            dir: dir.to_path_buf(),
            status: status.to_path_buf(),
            user,
        })
    }

    /// The same apt, resolving against another dpkg status file (one with stubs).
    #[must_use]
    pub fn with_status(&self, status: &Path) -> Self {
        Self {
            status: status.to_path_buf(),
            ..self.clone()
        }
    }

    /// Where apt keeps the downloaded .deb files.
    #[must_use]
    pub fn archives(&self) -> PathBuf {
        self.dir.join("archives")
    }

    /// `program` (apt-get, apt-cache) with apt pointed at the private directories.
    #[must_use]
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        let dir = |sub: &str| self.dir.join(sub).display().to_string();
        for (option, value) in [
            ("Dir::State", dir("state")),
            ("Dir::State::status", self.status.display().to_string()),
            ("Dir::State::Lists", dir("lists")),
            ("Dir::Cache", dir("cache")),
            ("Dir::Cache::archives", dir("archives")),
            // Nobody else uses these private directories, and locks need root.
            ("Debug::NoLocking", "1".to_string()),
            ("APT::Sandbox::User", self.user.clone()),
            ("Acquire::Languages", "none".to_string()),
            ("APT::Install-Recommends", "false".to_string()),
            ("APT::Install-Suggests", "false".to_string()),
            // apt's defaults already, stated because they are the point: signatures are checked.
            ("APT::Get::AllowUnauthenticated", "false".to_string()),
            ("Acquire::AllowInsecureRepositories", "false".to_string()),
        ] {
            command.arg("-o").arg(format!("{option}={value}"));
        }
        // Messages are parsed: they must be apt's English ones. And the stack's configuration
        // only: the lifecycle passes the app's build environment (`pack build --env`) to
        // buildpacks, and APT_CONFIG could add sources or trust.
        command
            .env_remove("APT_CONFIG")
            .env("LC_ALL", "C.UTF-8")
            .env("LANGUAGE", "")
            .env("DEBIAN_FRONTEND", "noninteractive");
        command
    }

    /// `apt-get update`: the package index, its signatures checked by apt.
    ///
    /// # Errors
    ///
    /// When apt fails (network, signatures).
    pub fn update(&self) -> Result<(), AptError> {
        run(self.command("apt-get").args(["-q", "update"]))
            .map(drop)
            .map_err(AptError::Command)
    }

    /// What installing `packages` takes, in apt's order: the packages themselves (unless the
    /// run image has them) and every dependency the run image lacks.
    /// The run image's C library is never among them ([`RUN_IMAGE_C_LIBRARY`]).
    ///
    /// # Errors
    ///
    /// Unknown packages or versions (with suggestions), unresolvable sets, apt failures;
    /// [`AptError::CLibrary`] when they need another version of the run image's C library.
    pub fn resolve(&self, packages: &[PackageSpec]) -> Result<Vec<Resolved>, AptError> {
        let run_image = self.installed_versions()?;
        let other_c_library = match without_c_library(self.simulate(packages, None)?, &run_image) {
            Ok(selected) => return Ok(selected),
            Err(other_c_library) => other_c_library,
        };
        // apt takes the newest libc6-dev, which needs the newest libc6, while the index may still
        // have the versions made for the run image's C library: prefer those, and only those.
        if let Some(preferences) = self.prefer_run_image_c_library(&run_image)?
            && let Ok(Ok(selected)) = self
                .simulate(packages, Some(&preferences))
                .map(|resolved| without_c_library(resolved, &run_image))
        {
            return Ok(selected);
        }
        let mut needed_by: Vec<String> = Vec::new();
        if packages.len() > 1 {
            for package in packages {
                if let Ok(alone) = self.simulate(std::slice::from_ref(package), None)
                    && without_c_library(alone, &run_image).is_err()
                {
                    needed_by.push(package.name.clone());
                }
            }
        }
        if needed_by.is_empty() {
            needed_by = packages.iter().map(|package| package.name.clone()).collect();
        }
        Err(AptError::CLibrary {
            needed_by,
            packages: other_c_library,
        })
    }

    /// `apt-get install --simulate`, with the apt preferences file `preferences` if any.
    fn simulate(
        &self,
        packages: &[PackageSpec],
        preferences: Option<&Path>,
    ) -> Result<Vec<Resolved>, AptError> {
        let mut command = self.command("apt-get");
        if let Some(preferences) = preferences {
            command
                .arg("-o")
                .arg(format!("Dir::Etc::Preferences={}", preferences.display()));
        }
        command
            .args(["install", "--simulate", "-q"])
            .args(packages.iter().map(ToString::to_string));
        match run(&mut command) {
            Ok(text) => Ok(parse_simulation(&text)),
            Err(error) => Err(self.explain(packages, error)),
        }
    }

    /// The installed packages of the status file apt resolves against (the run image's).
    fn installed_versions(&self) -> Result<BTreeMap<String, String>, AptError> {
        std::fs::read_to_string(&self.status)
            .map(|status| installed_versions(&status))
            .map_err(io_error(format!("read {}", self.status.display())))
    }

    /// An apt preferences file, in the private directory, that makes the C library's packages of
    /// the run image's version the candidates; `None` when the run image has no C library.
    fn prefer_run_image_c_library(
        &self,
        run_image: &BTreeMap<String, String>,
    ) -> Result<Option<PathBuf>, AptError> {
        let Some(version) = run_image.get(RUN_IMAGE_C_LIBRARY[0]) else {
            return Ok(None);
        };
        let path = self.dir.join("run-image-c-library.pref");
        std::fs::write(&path, c_library_preferences(version))
            .map_err(io_error("write apt's preferences for the C library"))?;
        Ok(Some(path))
    }

    /// What made apt fail on `packages`. Unknown names first, all of them at once: apt stops
    /// at none of them but words each its own way (`Unable to locate package`, `has no
    /// installation candidate` for a name other packages only mention, regex and glob attempts
    /// for names with a dot), so they are found by comparing with the names apt knows.
    fn explain(&self, packages: &[PackageSpec], error: CommandError) -> AptError {
        if let Ok(names) = self.package_names() {
            let unknown = unknown_packages(packages, &names.lines().collect::<Vec<_>>());
            if !unknown.is_empty() {
                return AptError::UnknownPackages(unknown);
            }
        }
        let unlocated = unlocated_packages(&error.output_tail);
        if !unlocated.is_empty() {
            return AptError::UnknownPackages(unlocated);
        }
        for line in error.output_tail.lines() {
            if let Some((version, name)) = line
                .strip_prefix("E: Version '")
                .and_then(|rest| rest.split_once("' for '"))
            {
                let name = name.trim_end_matches("' was not found").to_string();
                let available = self.versions(&name);
                return AptError::UnknownVersion {
                    name,
                    version: version.to_string(),
                    available,
                };
            }
        }
        if error.exit_code.is_some() && error.spawn_error.is_none() {
            AptError::Unresolvable(error)
        } else {
            AptError::Command(error)
        }
    }

    /// `apt-cache pkgnames`: every name apt can install, one a line: real packages and virtual
    /// ones some package provides (not names other packages only mention).
    fn package_names(&self) -> Result<String, CommandError> {
        run(self.command("apt-cache").arg("pkgnames"))
    }

    /// The versions apt can install of `name`, newest first.
    #[must_use]
    pub fn versions(&self, name: &str) -> Vec<String> {
        run(self.command("apt-cache").args(["madison", name]))
            .map(|text| {
                text.lines()
                    .filter_map(|line| line.split('|').nth(1))
                    .map(|version| version.trim().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Which requested package pulls in each resolved package: apt's answer for each requested
    /// package alone, the first requested package whose answer has it.
    ///
    /// # Errors
    ///
    /// As [`Self::resolve`].
    pub fn pulled_in_by(&self, packages: &[PackageSpec]) -> Result<BTreeMap<String, String>, AptError> {
        let mut by = BTreeMap::new();
        for package in packages {
            for resolved in self.resolve(std::slice::from_ref(package))? {
                by.entry(resolved.name).or_insert_with(|| package.name.clone());
            }
        }
        Ok(by)
    }

    /// Downloads exactly `packages` (apt checks each against the signed index); returns the
    /// .deb files in the same order. Files already in the archive directory are not fetched.
    ///
    /// # Errors
    ///
    /// apt failures; a file apt did not leave where it keeps them.
    pub fn download(&self, packages: &[Resolved]) -> Result<Vec<PathBuf>, AptError> {
        if packages.is_empty() {
            return Ok(Vec::new());
        }
        run(self
            .command("apt-get")
            .args(["install", "--download-only", "--yes", "-q"])
            .args(packages.iter().map(|p| format!("{}={}", p.name, p.version))))
        .map_err(AptError::Command)?;
        packages.iter().map(|package| self.archive_of(package)).collect()
    }

    /// The .deb file of `package` in the archive directory, if apt has it.
    ///
    /// # Errors
    ///
    /// When it is not there.
    pub fn archive_of(&self, package: &Resolved) -> Result<PathBuf, AptError> {
        let prefix = archive_prefix(package);
        let entries = std::fs::read_dir(self.archives()).map_err(io_error("list apt's archives"))?;
        entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .find(|path| {
                path.file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with(&prefix) && is_deb(name))
            })
            .ok_or_else(|| AptError::Io {
                what: format!("find the downloaded {}", package.name),
                error: std::io::Error::from(std::io::ErrorKind::NotFound),
            })
    }

    /// Deletes downloaded .deb files of packages not in `keep`, so that the cache holds only what
    /// the current build uses.
    pub fn prune_archives(&self, keep: &[Resolved]) {
        let prefixes: Vec<String> = keep.iter().map(archive_prefix).collect();
        let Ok(entries) = std::fs::read_dir(self.archives()) else {
            return;
        };
        for path in entries.filter_map(Result::ok).map(|entry| entry.path()) {
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or_default();
            if is_deb(name) && !prefixes.iter().any(|prefix| name.starts_with(prefix)) {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

fn is_deb(name: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("deb"))
}

/// [`command::output`], with the error naming the command as a user would type it: without the
/// `-o` options that point apt at the private directories.
fn run(command: &mut Command) -> Result<String, CommandError> {
    command::output(command).map_err(|mut error| {
        let mut words = error.command.split(' ');
        let mut kept = Vec::new();
        while let Some(word) = words.next() {
            if word == "-o" {
                words.next();
            } else {
                kept.push(word);
            }
        }
        error.command = kept.join(" ");
        error
    })
}

/// apt names archives `name_version_arch.deb`, with the epoch's colon escaped.
fn archive_prefix(package: &Resolved) -> String {
    format!("{}_{}_", package.name, package.version.replace(':', "%3a"))
}

/// The `Inst` lines of `apt-get install --simulate`:
/// `Inst name [old version] (version origin [arch])`.
fn parse_simulation(text: &str) -> Vec<Resolved> {
    text.lines()
        .filter_map(|line| line.strip_prefix("Inst "))
        .filter_map(|rest| {
            let (name, rest) = rest.split_once(' ')?;
            let (replaces, rest) = match rest.strip_prefix('[') {
                Some(rest) => {
                    let (old, rest) = rest.split_once("] ")?;
                    (Some(old.to_string()), rest)
                }
                None => (None, rest),
            };
            let version = rest.strip_prefix('(')?.split(' ').next()?;
            Some(Resolved {
                name: name.to_string(),
                version: version.to_string(),
                replaces,
            })
        })
        .collect()
}

/// The value of the field `name` in one stanza of a dpkg status file or of `apt-cache show`.
#[must_use]
pub fn stanza_field<'a>(stanza: &'a str, name: &str) -> Option<&'a str> {
    stanza
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

/// The installed packages of a dpkg status file and their versions.
#[must_use]
pub fn installed_versions(status: &str) -> BTreeMap<String, String> {
    let mut versions = BTreeMap::new();
    for entry in status.split("\n\n") {
        let field = |name: &str| stanza_field(entry, name);
        if let (Some(package), Some(version), Some(state)) =
            (field("Package"), field("Version"), field("Status"))
            && state.ends_with(" installed")
        {
            versions.insert(package.to_string(), version.to_string());
        }
    }
    versions
}

/// `resolved` without the packages of [`RUN_IMAGE_C_LIBRARY`], which are never installed: apt
/// lists them at the run image's own version when its record differs from the index's. When
/// apt would install one at another version than the run image has (a package needs a newer C
/// library), those instead, each with the run image's version as `replaces`.
fn without_c_library(
    resolved: Vec<Resolved>,
    run_image: &BTreeMap<String, String>,
) -> Result<Vec<Resolved>, Vec<Resolved>> {
    let (c_library, selected): (Vec<Resolved>, Vec<Resolved>) = resolved
        .into_iter()
        .partition(|package| RUN_IMAGE_C_LIBRARY.contains(&package.name.as_str()));
    let other_versions: Vec<Resolved> = c_library
        .into_iter()
        .filter(|package| run_image.get(&package.name) != Some(&package.version))
        .map(|package| Resolved {
            replaces: run_image.get(&package.name).cloned(),
            ..package
        })
        .collect();
    if other_versions.is_empty() {
        Ok(selected)
    } else {
        Err(other_versions)
    }
}

/// apt preferences (`apt_preferences(5)`) that make `version` the candidate of every package of the
/// C library's source that has it, above newer versions (990: preferred, never a downgrade).
fn c_library_preferences(version: &str) -> String {
    format!("Package: src:{C_LIBRARY_SOURCE}\nPin: version {version}\nPin-Priority: 990\n")
}

/// The packages apt's output says it cannot locate (all of them: apt reports each), for when
/// apt cannot list the names it knows.
fn unlocated_packages(output: &str) -> Vec<UnknownPackage> {
    output
        .lines()
        .filter_map(|line| line.strip_prefix("E: Unable to locate package "))
        .map(|name| UnknownPackage::without_suggestions(name.trim()))
        .collect()
}

/// The names of `requested` that are not among `known` (the names apt can install), each once,
/// in the order asked for, with the names of `known` the app may have meant.
#[must_use]
pub fn unknown_packages(requested: &[PackageSpec], known: &[&str]) -> Vec<UnknownPackage> {
    let known_set: HashSet<&str> = known.iter().copied().collect();
    let mut unknown: Vec<UnknownPackage> = Vec::new();
    for spec in requested {
        if known_set.contains(spec.name.as_str()) || unknown.iter().any(|package| package.name == spec.name) {
            continue;
        }
        unknown.push(UnknownPackage {
            renamed: renamed(&spec.name, known),
            close: close_names(&spec.name, known.iter().copied()),
            ..UnknownPackage::without_suggestions(&spec.name)
        });
    }
    unknown
}

/// The names among `names` that differ from `wanted` only in their numbers (the nearest ones by
/// edit distance, at most three): Debian names a library's package after its ABI version
/// (`libtiff6`, `libjpeg62-turbo`), a program's after its version (`python3.13`), and marks
/// ABI transitions with a suffix after the number (`libssl3t64`, `libgeos-c1v5`).
fn renamed(wanted: &str, names: &[&str]) -> Vec<String> {
    let stem = numbers_removed(wanted);
    if stem.chars().filter(char::is_ascii_alphabetic).count() < 3 {
        return Vec::new();
    }
    let mut same_stem: Vec<(usize, &str)> = names
        .iter()
        .filter(|name| **name != wanted && numbers_removed(name) == stem)
        .map(|name| (edit_distance(wanted, name), *name))
        .collect();
    same_stem.sort_unstable();
    let nearest = same_stem.first().map(|(distance, _)| *distance);
    same_stem
        .into_iter()
        .take_while(|(distance, _)| Some(*distance) == nearest)
        .take(3)
        .map(|(_, name)| name.to_string())
        .collect()
}

/// `name` without its digits and dots, and without the suffix of an ABI transition after a
/// number (`t64` for 64-bit time, `v5` for GCC 5's C++ ABI): `libssl3t64` → `libssl`,
/// `libcurl3t64-gnutls` → `libcurl-gnutls`.
fn numbers_removed(name: &str) -> String {
    let mut kept = String::new();
    let mut rest = name;
    let mut after_digit = false;
    while let Some(c) = rest.chars().next() {
        let abi_suffix = ["t64", "v5"].into_iter().find(|suffix| {
            rest.strip_prefix(suffix)
                .is_some_and(|after| after.is_empty() || after.starts_with('-'))
        });
        match abi_suffix {
            Some(suffix) if after_digit => rest = &rest[suffix.len()..],
            _ => {
                if !c.is_ascii_digit() && c != '.' {
                    kept.push(c);
                }
                after_digit = c.is_ascii_digit();
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    kept
}

/// The closest names to `wanted` among `names`: at most five, by edit distance, then by name.
fn close_names<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let limit = (wanted.len() / 3).clamp(1, 3);
    let mut close: Vec<(usize, &str)> = names
        .filter_map(|name| {
            let distance = edit_distance(wanted, name);
            let prefix = name.len() > wanted.len() && name.starts_with(wanted);
            (distance <= limit || prefix).then_some((if prefix { 1 } else { distance }, name))
        })
        .collect();
    close.sort_unstable();
    close.dedup();
    close
        .into_iter()
        .take(5)
        .map(|(_, name)| name.to_string())
        .collect()
}

/// Levenshtein distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Unpacks `deb` into `dest` (`dpkg-deb -x`: files only; maintainer scripts do not run).
///
/// # Errors
///
/// When dpkg-deb fails.
pub fn extract(deb: &Path, dest: &Path) -> Result<(), AptError> {
    command::output(Command::new("dpkg-deb").arg("-x").arg(deb).arg(dest))
        .map(drop)
        .map_err(AptError::Command)
}

/// What differs between the packages a layer was made of and the current ones, in words
/// (`graphviz added`, `updated ffmpeg 7:7.1.4 → 7:7.1.5`): for the `LayerKey` of a layer of
/// Debian packages. `requested` as the app asks for them, `resolved` every package → version.
#[must_use]
pub fn package_changes(
    (requested, resolved): (&[String], &BTreeMap<String, String>),
    (current_requested, current_resolved): (&[String], &BTreeMap<String, String>),
) -> Vec<String> {
    let mut changes = Vec::new();
    let added: Vec<&str> = current_requested
        .iter()
        .filter(|package| !requested.contains(package))
        .map(String::as_str)
        .collect();
    let removed: Vec<&str> = requested
        .iter()
        .filter(|package| !current_requested.contains(package))
        .map(String::as_str)
        .collect();
    if !added.is_empty() {
        changes.push(format!("{} added", added.join(", ")));
    }
    if !removed.is_empty() {
        changes.push(format!("{} removed", removed.join(", ")));
    }
    if added.is_empty() && removed.is_empty() {
        // Same request, other versions: the index brought updates.
        let updated: Vec<String> = current_resolved
            .iter()
            .filter_map(|(name, version)| {
                let old = resolved.get(name)?;
                (old != version).then(|| format!("{name} {old} → {version}"))
            })
            .collect();
        if !updated.is_empty() {
            changes.push(format!("updated {}", updated.join(", ")));
        } else if resolved.keys().ne(current_resolved.keys()) {
            changes.push("the dependencies changed".to_string());
        }
    }
    changes
}

/// What [`unpack`] did, for the build log.
#[derive(Debug, Default)]
pub struct Unpacked {
    /// The alternatives' links created, `link → path`.
    pub links: Vec<(String, String)>,
    /// Absolute symlinks made to point into the layer.
    pub relinked: usize,
    /// pkg-config files whose prefix now is the layer.
    pub pkg_config_files: usize,
}

/// Unpacks every package into `layer`, then does what their maintainer scripts would have done
/// that matters in a container: alternatives, links and configuration pointing into the layer.
/// Documentation is left out. [`configure_commands`] are the generated files that remain.
///
/// # Errors
///
/// When dpkg-deb fails or a file cannot be written.
pub fn unpack(layer: &Path, debs: &[PathBuf]) -> Result<Unpacked, AptError> {
    let mut alternatives = Vec::new();
    for deb in debs {
        extract(deb, layer)?;
        if let Some(script) = maintainer_script(deb, "postinst") {
            alternatives.extend(parse_alternatives(&script));
        }
    }
    remove_documentation(layer);
    let links = apply_alternatives(layer, &alternatives)?;
    let relinked = relink_absolute_symlinks(layer)?;
    let pkg_config_files = rewrite_pkg_config(layer)?;
    rewrite_fontconfig(layer)?;
    Ok(Unpacked {
        links,
        relinked,
        pkg_config_files,
    })
}

/// Writes to `out` the dpkg status file `base` plus an "installed" entry for each of `stubs`, so
/// that apt resolves as if they were installed and fetches neither them nor their dependencies:
/// for packages only maintainer scripts or init systems need (`systemd` for PHP-FPM's unit,
/// `ucf` for its configuration files). Each stub's version is the archive's candidate with a
/// suffix: with the archive's very version, apt merges the stub with the archive's record, finds
/// its dependencies missing and installs the package after all.
///
/// # Errors
///
/// When a stub is unknown to apt, or a file cannot be read or written.
pub fn write_status_with_stubs(apt: &Apt, base: &Path, stubs: &[&str], out: &Path) -> Result<(), AptError> {
    let mut status = std::fs::read_to_string(base).map_err(io_error(format!("read {}", base.display())))?;
    for name in stubs {
        let Some(candidate) = apt.versions(name).into_iter().next() else {
            return Err(AptError::UnknownPackages(vec![
                UnknownPackage::without_suggestions(name),
            ]));
        };
        status.push_str(&stub_entry(name, &candidate));
    }
    std::fs::write(out, status).map_err(io_error(format!("write {}", out.display())))
}

fn stub_entry(name: &str, candidate: &str) -> String {
    format!(
        "\nPackage: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n\
         Maintainer: Toolforge buildpacks\nVersion: {candidate}+toolforge-stub\n\
         Description: stub: not needed in a container, never installed\n"
    )
}

/// A package's maintainer script (`postinst`), if it has one.
#[must_use]
pub fn maintainer_script(deb: &Path, script: &str) -> Option<String> {
    command::output(Command::new("dpkg-deb").arg("--info").arg(deb).arg(script)).ok()
}

/// One `update-alternatives --install` of a maintainer script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    pub link: String,
    pub name: String,
    pub path: String,
    pub priority: i64,
    /// (link, path) of each `--slave`.
    pub slaves: Vec<(String, String)>,
}

/// The alternatives a `postinst` installs. The scripts are shell, so this reads the common
/// shapes: literal arguments, simple `NAME=value` variables and `for NAME in words; do … done`
/// loops; an invocation with anything else left unexpanded is skipped.
#[must_use]
pub fn parse_alternatives(script: &str) -> Vec<Alternative> {
    let joined = script.replace("\\\n", " ");
    let lines: Vec<&str> = joined.lines().map(str::trim).collect();
    let mut found = Vec::new();
    interpret(&lines, &mut HashMap::new(), &mut found);
    found
}

fn interpret(lines: &[&str], vars: &mut HashMap<String, String>, found: &mut Vec<Alternative>) {
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        index += 1;
        if let Some((var, words)) = for_loop(line) {
            let body_start = if line.ends_with(" do") || lines.get(index).is_none_or(|next| *next != "do") {
                index
            } else {
                index + 1
            };
            let mut depth = 1;
            let mut end = body_start;
            while end < lines.len() {
                if for_loop(lines[end]).is_some() || lines[end].starts_with("while ") {
                    depth += 1;
                } else if lines[end] == "done" || lines[end].starts_with("done ") || lines[end] == "done;" {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                end += 1;
            }
            for word in words {
                vars.insert(var.clone(), word);
                interpret(&lines[body_start..end.min(lines.len())], vars, found);
            }
            index = end + 1;
        } else if let Some((name, value)) = assignment(line) {
            vars.insert(name, value);
        } else if let Some(rest) = line.split("update-alternatives ").nth(1)
            && let Some(alternative) = install_arguments(rest, vars)
        {
            found.push(alternative);
        }
    }
}

/// `for NAME in a b c; do` (or without `; do`): the variable and the words.
fn for_loop(line: &str) -> Option<(String, Vec<String>)> {
    let rest = line.strip_prefix("for ")?;
    let (var, words) = rest.split_once(" in ")?;
    let words = words
        .strip_suffix(" do")
        .unwrap_or(words)
        .trim()
        .trim_end_matches(';');
    Some((
        var.trim().to_string(),
        words.split_whitespace().map(unquote).collect(),
    ))
}

fn assignment(line: &str) -> Option<(String, String)> {
    let (name, value) = line.split_once('=')?;
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !value.contains(char::is_whitespace)
        && !value.contains(['$', '`', '(']);
    valid.then(|| (name.to_string(), unquote(value)))
}

fn unquote(word: &str) -> String {
    word.trim_matches(|c| c == '"' || c == '\'').to_string()
}

fn expand(word: &str, vars: &HashMap<String, String>) -> Option<String> {
    let mut text = unquote(word);
    for (name, value) in vars {
        text = text
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    (!text.contains('$')).then_some(text)
}

fn install_arguments(arguments: &str, vars: &HashMap<String, String>) -> Option<Alternative> {
    let words: Vec<&str> = arguments
        .split(|c: char| c.is_whitespace() || c == ';')
        .filter(|word| !word.is_empty())
        .collect();
    let start = words.iter().position(|word| *word == "--install")?;
    let mut rest = words[start + 1..]
        .iter()
        .take_while(|word| !matches!(**word, "||" | "&&" | ">" | "2>"));
    let mut next = || rest.next().and_then(|word| expand(word, vars));
    let link = next()?;
    let name = next()?;
    let path = next()?;
    let priority = next()?.parse().ok()?;
    let mut slaves = Vec::new();
    while let Some(flag) = next() {
        if flag != "--slave" {
            break;
        }
        let slave_link = next()?;
        let _slave_name = next()?;
        slaves.push((slave_link, next()?));
    }
    Some(Alternative {
        link,
        name,
        path,
        priority,
        slaves,
    })
}

/// `layer` + an absolute path of the installed system.
fn inside(layer: &Path, absolute: &str) -> PathBuf {
    layer.join(absolute.trim_start_matches('/'))
}

/// Creates, inside `layer`, the links of the best alternative of each name whose target is in the
/// layer (highest priority wins, as update-alternatives' automatic mode); returns `link → path`.
///
/// # Errors
///
/// When a link cannot be created.
pub fn apply_alternatives(
    layer: &Path,
    alternatives: &[Alternative],
) -> Result<Vec<(String, String)>, AptError> {
    let mut best: BTreeMap<&str, &Alternative> = BTreeMap::new();
    for alternative in alternatives {
        if !inside(layer, &alternative.path).exists() {
            continue;
        }
        let current = best.entry(&alternative.name).or_insert(alternative);
        if alternative.priority > current.priority {
            *current = alternative;
        }
    }
    let mut made = Vec::new();
    for alternative in best.values() {
        let links = std::iter::once((&alternative.link, &alternative.path))
            .chain(alternative.slaves.iter().map(|(link, path)| (link, path)));
        for (link, path) in links {
            let link_path = inside(layer, link);
            if !inside(layer, path).exists() || link_path.symlink_metadata().is_ok() {
                continue;
            }
            if let Some(parent) = link_path.parent() {
                std::fs::create_dir_all(parent).map_err(io_error(format!("create {}", parent.display())))?;
            }
            std::os::unix::fs::symlink(relative_target(link, path), &link_path)
                .map_err(io_error(format!("link {link} to {path}")))?;
            made.push((link.clone(), path.clone()));
        }
    }
    Ok(made)
}

/// The relative symlink target that reaches absolute `target` from the link at absolute `link`.
fn relative_target(link: &str, target: &str) -> PathBuf {
    let parts = |path: &str| -> Vec<String> {
        Path::new(path)
            .components()
            .filter_map(|component| match component {
                Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect()
    };
    let from = parts(link);
    let from = &from[..from.len().saturating_sub(1)];
    let to = parts(target);
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut relative = PathBuf::new();
    for _ in common..from.len() {
        relative.push("..");
    }
    for part in &to[common..] {
        relative.push(part);
    }
    relative
}

/// Every path under `dir` (not following symlinks), depth first.
/// Every path under `dir` (files, links, directories; links not followed), appended to `found`.
pub fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(Result::ok).map(|entry| entry.path()) {
        let is_dir = path.symlink_metadata().is_ok_and(|metadata| metadata.is_dir());
        found.push(path.clone());
        if is_dir {
            walk(&path, found);
        }
    }
}

/// Symlinks in `layer` to absolute paths (`/usr/lib/…`) that the layer has are made relative, so
/// they reach the layer's file and not a missing one of the image; returns how many.
///
/// # Errors
///
/// When a link cannot be replaced.
pub fn relink_absolute_symlinks(layer: &Path) -> Result<usize, AptError> {
    let mut paths = Vec::new();
    walk(layer, &mut paths);
    let mut count = 0;
    for path in paths {
        let Ok(target) = std::fs::read_link(&path) else {
            continue;
        };
        let Some(target) = target.to_str().filter(|target| target.starts_with('/')) else {
            continue;
        };
        if inside(layer, target).symlink_metadata().is_err() {
            // The run image's own file: the absolute link is right.
            continue;
        }
        let Ok(link) = path.strip_prefix(layer) else {
            continue;
        };
        let link = format!("/{}", link.display());
        std::fs::remove_file(&path).map_err(io_error(format!("replace the link {link}")))?;
        std::os::unix::fs::symlink(relative_target(&link, target), &path)
            .map_err(io_error(format!("replace the link {link}")))?;
        count += 1;
    }
    Ok(count)
}

/// Rewrites `.pc` files so that paths the layer has (`prefix=/usr`, `-I/usr/include/x`) point
/// into it; returns how many files changed.
///
/// # Errors
///
/// When a file cannot be read or written.
pub fn rewrite_pkg_config(layer: &Path) -> Result<usize, AptError> {
    let mut count = 0;
    for dir in pkg_config_dirs(layer) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for path in entries.filter_map(Result::ok).map(|entry| entry.path()) {
            if path.extension().is_none_or(|extension| extension != "pc") {
                continue;
            }
            let text =
                std::fs::read_to_string(&path).map_err(io_error(format!("read {}", path.display())))?;
            let rewritten = rewrite_pc(&text, layer);
            if rewritten != text {
                // Replaced, not written through: the file may be a hard link or read-only.
                let _ = std::fs::remove_file(&path);
                std::fs::write(&path, rewritten).map_err(io_error(format!("write {}", path.display())))?;
                count += 1;
            }
        }
    }
    Ok(count)
}

fn rewrite_pc(text: &str, layer: &Path) -> String {
    let rewrite_path = |path: &str| -> Option<String> {
        (path.starts_with('/') && inside(layer, path).exists()).then(|| format!("{}{path}", layer.display()))
    };
    let mut out = String::new();
    for line in text.lines() {
        let rewritten = if let Some((name, value)) = line.split_once('=')
            && !name.contains([':', ' '])
            && let Some(path) = rewrite_path(value.trim())
        {
            format!("{name}={path}")
        } else if line.contains(": ") {
            line.split(' ')
                .map(|word| {
                    for flag in ["-I", "-L", ""] {
                        if let Some(path) = word.strip_prefix(flag)
                            && let Some(rewritten) = rewrite_path(path)
                        {
                            return format!("{flag}{rewritten}");
                        }
                    }
                    word.to_string()
                })
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            line.to_string()
        };
        out.push_str(&rewritten);
        out.push('\n');
    }
    out
}

/// fontconfig's configuration, when a package brought it (the run image has none): the layer's
/// fonts and font cache come first, so that programs drawing text (Graphviz, `ImageMagick`) find
/// fonts. Returns whether there was one.
///
/// # Errors
///
/// When it cannot be rewritten.
pub fn rewrite_fontconfig(layer: &Path) -> Result<bool, AptError> {
    let path = layer.join("etc/fonts/fonts.conf");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(false);
    };
    let layer_dir = layer.display();
    let rewritten = text
        .replacen(
            "<dir>/usr/share/fonts</dir>",
            &format!("<dir>{layer_dir}/usr/share/fonts</dir>\n\t<dir>/usr/share/fonts</dir>"),
            1,
        )
        .replacen(
            "<cachedir>/var/cache/fontconfig</cachedir>",
            &format!("<cachedir>{layer_dir}/var/cache/fontconfig</cachedir>"),
            1,
        );
    let _ = std::fs::remove_file(&path);
    std::fs::write(&path, rewritten).map_err(io_error(format!("write {}", path.display())))?;
    Ok(true)
}

/// Removes what the stack's images leave out too (documentation but copyright files, manual
/// pages, info): it is never read in a container.
pub fn remove_documentation(layer: &Path) {
    for dir in [
        "usr/share/man",
        "usr/share/info",
        "usr/share/lintian",
        "usr/share/linda",
    ] {
        let _ = std::fs::remove_dir_all(layer.join(dir));
    }
    let Ok(entries) = std::fs::read_dir(layer.join("usr/share/doc")) else {
        return;
    };
    for package in entries.filter_map(Result::ok).map(|entry| entry.path()) {
        let Ok(files) = std::fs::read_dir(&package) else {
            continue;
        };
        for file in files.filter_map(Result::ok).map(|entry| entry.path()) {
            if file.file_name().is_some_and(|name| name != "copyright") {
                if file.symlink_metadata().is_ok_and(|metadata| metadata.is_dir()) {
                    let _ = std::fs::remove_dir_all(&file);
                } else {
                    let _ = std::fs::remove_file(&file);
                }
            }
        }
    }
}

/// The multiarch library directories of the layer (`usr/lib/x86_64-linux-gnu`, …).
fn multiarch_dirs(layer: &Path, base: &str) -> Vec<PathBuf> {
    subdirectories(&layer.join(base), |name| name.contains("-linux-"))
}

/// The subdirectories of `dir` whose names satisfy `predicate`, sorted; none if it is unreadable.
/// The directories in `dir` whose names satisfy `predicate`, sorted.
#[must_use]
pub fn subdirectories(dir: &Path, predicate: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_dir()
                && path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(&predicate)
        })
        .collect();
    dirs.sort();
    dirs
}

/// Directories with shared libraries: the multiarch and plain library directories, then every
/// directory below them that holds a `lib*.so*` (libblas's `blas/`, pulseaudio's, …).
#[must_use]
pub fn library_dirs(layer: &Path) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    for base in ["usr/lib", "lib"] {
        roots.extend(multiarch_dirs(layer, base));
        roots.push(layer.join(base));
    }
    let mut dirs: Vec<PathBuf> = roots.iter().filter(|dir| dir.is_dir()).cloned().collect();
    for root in roots.iter().filter(|dir| dir.is_dir()) {
        let mut paths = Vec::new();
        walk(root, &mut paths);
        for path in paths {
            let is_library = path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("lib") && name.contains(".so"));
            if is_library && let Some(parent) = path.parent() {
                let parent = parent.to_path_buf();
                if !dirs.contains(&parent) {
                    dirs.push(parent);
                }
            }
        }
    }
    dirs
}

fn pkg_config_dirs(layer: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = multiarch_dirs(layer, "usr/lib")
        .into_iter()
        .map(|dir| dir.join("pkgconfig"))
        .collect();
    dirs.push(layer.join("usr/lib/pkgconfig"));
    dirs.push(layer.join("usr/share/pkgconfig"));
    dirs.retain(|dir| dir.is_dir());
    dirs
}

/// The search paths of the packages in `layer`, for build and launch: `PATH`, `LD_LIBRARY_PATH`,
/// `LIBRARY_PATH`, `CPATH`, `PKG_CONFIG_PATH`; plus the plugin directories of programs that would
/// look for them only under `/usr` (Graphviz, `ImageMagick`).
#[must_use]
pub fn layer_env(layer: &Path) -> LayerEnv {
    let existing =
        |dirs: Vec<PathBuf>| -> Vec<PathBuf> { dirs.into_iter().filter(|dir| dir.is_dir()).collect() };
    let bin = existing(
        ["usr/local/bin", "usr/bin", "usr/sbin", "bin", "sbin"]
            .iter()
            .map(|dir| layer.join(dir))
            .collect(),
    );
    let libraries = library_dirs(layer);
    let mut include = vec![layer.join("usr/include")];
    include.extend(
        multiarch_dirs(layer, "usr/lib")
            .iter()
            .filter_map(|dir| dir.file_name())
            .map(|triple| layer.join("usr/include").join(triple)),
    );
    let include = existing(include);
    let mut env = LayerEnv::new();
    for (name, dirs) in [
        ("PATH", &bin),
        ("LD_LIBRARY_PATH", &libraries),
        ("LIBRARY_PATH", &libraries),
        ("CPATH", &include),
        ("PKG_CONFIG_PATH", &pkg_config_dirs(layer)),
    ] {
        if dirs.is_empty() {
            continue;
        }
        let value = dirs
            .iter()
            .map(|dir| dir.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        env = env
            .chainable_insert(Scope::All, ModificationBehavior::Prepend, name, value)
            .chainable_insert(Scope::All, ModificationBehavior::Delimiter, name, ":");
    }
    for (name, dirs) in plugin_dirs(layer) {
        let value = dirs
            .iter()
            .map(|dir| dir.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        env = env.chainable_insert(Scope::All, ModificationBehavior::Override, name, value);
    }
    env
}

/// Variables that point programs at plugins and configuration they would otherwise look for only
/// under `/usr` and `/etc`, for those the layer has.
fn plugin_dirs(layer: &Path) -> Vec<(&'static str, Vec<PathBuf>)> {
    let matching = |dir: &Path, prefix: &str| subdirectories(dir, |name| name.starts_with(prefix));
    let mut vars = Vec::new();
    for triple in multiarch_dirs(layer, "usr/lib") {
        // Graphviz finds its plugins (and their registry, config6a) only here unless told.
        let graphviz = triple.join("graphviz");
        if graphviz.is_dir() {
            vars.push(("GVBINDIR", vec![graphviz]));
        }
        // ImageMagick's coders (PNG, JPEG, …) and filters are modules.
        for magick in matching(&triple, "ImageMagick-") {
            for modules in matching(&magick, "modules-") {
                for (name, sub) in [
                    ("MAGICK_CODER_MODULE_PATH", "coders"),
                    ("MAGICK_CODER_FILTER_PATH", "filters"),
                ] {
                    if modules.join(sub).is_dir() {
                        vars.push((name, vec![modules.join(sub)]));
                    }
                }
            }
        }
    }
    if layer.join("etc/fonts/fonts.conf").is_file() {
        vars.push(("FONTCONFIG_PATH", vec![layer.join("etc/fonts")]));
    }
    let mut magick_config = matching(&layer.join("etc"), "ImageMagick-");
    magick_config.extend(matching(&layer.join("usr/share"), "ImageMagick-"));
    if !magick_config.is_empty() {
        vars.push(("MAGICK_CONFIGURE_PATH", magick_config));
    }
    vars
}

/// What maintainer scripts run to prepare files a program needs, to run the same way inside the
/// layer, with the layer's environment (its own libraries and plugin directories).
#[must_use]
pub fn configure_commands(layer: &Path) -> Vec<Command> {
    let env = layer_env(layer).apply(Scope::Build, &libcnb::Env::from_current());
    let mut commands = Vec::new();
    let fc_cache = layer.join("usr/bin/fc-cache");
    if fc_cache.is_file() && layer.join("etc/fonts/fonts.conf").is_file() {
        // fontconfig's trigger: the font cache, built now because the image is read-only.
        let mut command = Command::new(fc_cache);
        command.envs(&env);
        commands.push(command);
    }
    for triple in multiarch_dirs(layer, "usr/lib") {
        let dot = layer.join("usr/bin/dot");
        let plugins = triple.join("graphviz");
        if dot.is_file() && plugins.is_dir() {
            // libgvc's postinst runs `dot -c`: it writes the plugin registry (config6a).
            let mut command = Command::new(dot);
            command.arg("-c").envs(&env).env("GVBINDIR", &plugins);
            commands.push(command);
        }
    }
    commands
}

/// The installed size of every package in a dpkg status file, in bytes (`Installed-Size` is KiB).
#[must_use]
pub fn installed_size(status: &str) -> u64 {
    status
        .lines()
        .filter_map(|line| line.strip_prefix("Installed-Size:"))
        .filter_map(|size| size.trim().parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

#[cfg(test)]
mod tests {
    #[test]
    fn stubs_are_installed_entries_with_a_version_apt_cannot_merge() {
        let entry = stub_entry("systemd", "257.9-1~deb13u1");
        assert!(
            entry.starts_with("\nPackage: systemd\nStatus: install ok installed\n"),
            "{entry}"
        );
        assert!(
            entry.contains("\nVersion: 257.9-1~deb13u1+toolforge-stub\n"),
            "{entry}"
        );
    }

    #[test]
    fn package_changes_in_words() {
        let resolved = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(name, version)| ((*name).to_string(), (*version).to_string()))
                .collect()
        };
        let old = (vec!["ffmpeg".to_string()], resolved(&[("ffmpeg", "7:7.1.4")]));
        let updated = resolved(&[("ffmpeg", "7:7.1.5")]);
        assert_eq!(
            package_changes((&old.0, &old.1), (&old.0, &updated)),
            ["updated ffmpeg 7:7.1.4 → 7:7.1.5"]
        );
        let other = vec!["graphviz".to_string()];
        assert_eq!(
            package_changes((&old.0, &old.1), (&other, &resolved(&[("graphviz", "2.42.4-3")]))),
            ["graphviz added", "ffmpeg removed"]
        );
        assert!(package_changes((&old.0, &old.1), (&old.0, &old.1)).is_empty());
    }

    use super::*;

    #[test]
    fn package_specs() {
        assert_eq!(
            PackageSpec::parse("graphviz=2.42.4-3"),
            Some(PackageSpec {
                name: "graphviz".into(),
                version: Some("2.42.4-3".into())
            })
        );
        assert_eq!(PackageSpec::parse("ffmpeg").unwrap().to_string(), "ffmpeg");
        assert_eq!(
            PackageSpec::parse("imagemagick=8:7.1.1.43+dfsg1-1+deb13u14")
                .unwrap()
                .to_string(),
            "imagemagick=8:7.1.1.43+dfsg1-1+deb13u14"
        );
        for bad in [
            "Ffmpeg",
            "x",
            "http://example.org/a.deb",
            "foo bar",
            "foo=",
            "foo=;rm",
            ":repo:deb",
        ] {
            assert_eq!(PackageSpec::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn simulation_lines() {
        let text = "NOTE: This is only a simulation!\n\
                    Inst libcdt5 (2.42.4-3 Debian:13.8/stable [amd64])\n\
                    Inst libc6 [2.41-12] (2.41-12+deb13u1 Debian:13.8/stable [amd64])\n\
                    Conf libcdt5 (2.42.4-3 Debian:13.8/stable [amd64])\n";
        assert_eq!(
            parse_simulation(text),
            [
                Resolved {
                    name: "libcdt5".into(),
                    version: "2.42.4-3".into(),
                    replaces: None
                },
                Resolved {
                    name: "libc6".into(),
                    version: "2.41-12+deb13u1".into(),
                    replaces: Some("2.41-12".into())
                },
            ]
        );
    }

    /// The run image's dpkg status, abridged: its C library at 2.41-12.
    const RUN_IMAGE: &str = "Package: libc6\nStatus: install ok installed\nVersion: 2.41-12\n\n\
                             Package: libc-bin\nStatus: install ok installed\nVersion: 2.41-12\n\n\
                             Package: bash\nStatus: install ok installed\nVersion: 5.2.37-2+b5\n\n\
                             Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n";

    /// `apt-get install --simulate g++ libc6-dev`: libc6-dev and libc-dev-bin depend on libc6
    /// and libc-bin of exactly their own version, which apt installs with them.
    fn g_plus_plus(libc_version: &str) -> String {
        let inst = |name: &str, old: Option<&str>, version: &str| match old {
            Some(old) => format!("Inst {name} [{old}] ({version} Debian:13.1/stable [amd64])\n"),
            None => format!("Inst {name} ({version} Debian:13.1/stable [amd64])\n"),
        };
        [
            inst("libc-bin", Some("2.41-12"), libc_version),
            inst("libc6", Some("2.41-12"), libc_version),
            inst("libc-dev-bin", None, libc_version),
            inst("linux-libc-dev", None, "6.12.48-1"),
            inst("libc6-dev", None, libc_version),
            inst("cpp-14-x86-64-linux-gnu", None, "14.2.0-19"),
            inst("g++-14", None, "14.2.0-19"),
            inst("g++", None, "4:14.2.0-1"),
        ]
        .concat()
    }

    #[test]
    fn the_run_image_c_library_is_never_selected() {
        let run_image = installed_versions(RUN_IMAGE);
        assert_eq!(run_image.get("libc6").map(String::as_str), Some("2.41-12"));
        assert!(!run_image.contains_key("gone"));
        // apt reinstalls the run image's own version when its record differs from the archive's.
        let selected = without_c_library(parse_simulation(&g_plus_plus("2.41-12")), &run_image).unwrap();
        let names: Vec<&str> = selected.iter().map(|package| package.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "libc-dev-bin",
                "linux-libc-dev",
                "libc6-dev",
                "cpp-14-x86-64-linux-gnu",
                "g++-14",
                "g++"
            ]
        );
        // A newer C library than the run image's is not installed either: it is the conflict.
        let conflict =
            without_c_library(parse_simulation(&g_plus_plus("2.41-12+deb13u1")), &run_image).unwrap_err();
        let conflict: Vec<(&str, &str, Option<&str>)> = conflict
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.replaces.as_deref()))
            .collect();
        assert_eq!(
            conflict,
            [
                ("libc-bin", "2.41-12+deb13u1", Some("2.41-12")),
                ("libc6", "2.41-12+deb13u1", Some("2.41-12"))
            ]
        );
        // Then apt is asked again, preferring the C library's packages of the run image's version.
        assert_eq!(
            c_library_preferences("2.41-12"),
            "Package: src:glibc\nPin: version 2.41-12\nPin-Priority: 990\n"
        );
    }

    #[test]
    fn packages_digests_are_stable() {
        let package = |name: &str, version: &str| Resolved {
            name: name.into(),
            version: version.into(),
            replaces: None,
        };
        let jq = package("jq", "1.7.1-6");
        let libjq = package("libjq1", "1.7.1-6");
        let digest = packages_digest(&[jq.clone(), libjq.clone()]).unwrap();
        // The same between builds and buildpack versions: later buildpacks' caches are keyed on it.
        assert_eq!(digest, "3ec0c4fc18d41d29");
        assert_eq!(packages_digest(&[libjq.clone(), jq.clone()]).unwrap(), digest);
        assert_ne!(
            packages_digest(&[jq.clone(), package("libjq1", "1.7.1-6+deb13u1")]).unwrap(),
            digest
        );
        assert_ne!(packages_digest(&[jq]).unwrap(), digest);
        assert_eq!(packages_digest(&[]), None);
    }

    #[test]
    fn suggests_close_names() {
        let names = [
            "ffmpeg",
            "ffmpeg-doc",
            "ffmpegfs",
            "graphviz",
            "libgraphviz-dev",
            "mpeg2dec",
        ];
        assert_eq!(close_names("ffmepg", names.into_iter()), ["ffmpeg"]);
        assert_eq!(
            close_names("ffmpe", names.into_iter()),
            ["ffmpeg", "ffmpeg-doc", "ffmpegfs"]
        );
        assert_eq!(close_names("grapviz", names.into_iter()), ["graphviz"]);
        assert!(close_names("zzzzzz", names.into_iter()).is_empty());
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    /// `apt-cache pkgnames` of Debian 12 (bookworm), a sample: every name of the libraries below and
    /// every 400th name of the rest. Ubuntu's and older Debian's names of the same libraries carry
    /// other ABI versions.
    const BOOKWORM_NAMES: &str = include_str!("testdata/bookworm-pkgnames.txt");

    #[test]
    fn suggests_the_same_library_with_another_abi_version() {
        let names: Vec<&str> = BOOKWORM_NAMES.lines().collect();
        let suggested = |wanted: &str| {
            let spec = PackageSpec::parse(wanted).unwrap();
            let unknown = unknown_packages(&[spec], &names);
            assert_eq!(unknown.len(), 1, "{wanted}");
            unknown[0].suggestions()
        };
        for (other_release, bookworm) in [
            ("libtiff5", &["libtiff6"][..]),
            ("libjpeg-turbo8", &["libjpeg62-turbo"]),
            ("libssl1.1", &["libssl3"]),
            ("python3.8", &["python3", "python3.11"]),
            ("libicu70", &["libicu72"]),
            ("libffi7", &["libffi8"]),
            ("libvpx6", &["libvpx7"]),
            ("libcurl3", &["libcurl4"]),
            ("libgeos-c1t64", &["libgeos-c1v5"]),
            ("libpython3.8-dev", &["libpython3-dev", "libpython3.11-dev"]),
            ("libx264-163", &["libx264-164"]),
            ("libboost-python1.71.0", &["libboost-python1.74.0"]),
        ] {
            let suggestions = suggested(other_release);
            assert_eq!(
                suggestions[..bookworm.len()],
                *bookworm,
                "{other_release}: {suggestions:?}"
            );
        }
        // Typos are still corrected, known names are not unknown.
        assert_eq!(suggested("ffmepg").first().map(String::as_str), Some("ffmpeg"));
        assert!(suggested("zzzzzzzz").is_empty());
        assert!(unknown_packages(&[PackageSpec::parse("libtiff6").unwrap()], &names).is_empty());
    }

    /// Debian 13's names after the 64-bit time transition, which renamed libraries in place.
    #[test]
    fn suggests_the_64_bit_time_transition_names() {
        let trixie = [
            "libssl3t64",
            "libssl-dev",
            "libssl-doc",
            "libcurl4t64",
            "libcurl3t64-gnutls",
            "libcurl4-openssl-dev",
            "libgeos-c1t64",
            "libgeos3.13.1",
            "libreadline8t64",
            "libtiff6",
            "libtiffxx6",
        ];
        let renamed_as = |wanted: &str| renamed(wanted, &trixie);
        assert_eq!(renamed_as("libssl1.1"), ["libssl3t64"]);
        assert_eq!(renamed_as("libssl3"), ["libssl3t64"]);
        assert_eq!(renamed_as("libcurl4"), ["libcurl4t64"]);
        assert_eq!(renamed_as("libcurl3-gnutls"), ["libcurl3t64-gnutls"]);
        assert_eq!(renamed_as("libgeos-c1v5"), ["libgeos-c1t64"]);
        assert_eq!(renamed_as("libreadline8"), ["libreadline8t64"]);
        assert!(renamed_as("libtiff-tools").is_empty());
        assert_eq!(numbers_removed("libjpeg62-turbo"), "libjpeg-turbo");
        assert_eq!(numbers_removed("libqt5t64core"), "libqttcore");
    }

    #[test]
    fn every_unknown_name_is_reported_once() {
        let known = ["ffmpeg", "libtiff6", "graphviz"];
        let specs: Vec<PackageSpec> = ["libtiff5", "ffmpeg", "graphvis", "libtiff5", "zzz=1.0"]
            .iter()
            .map(|spec| PackageSpec::parse(spec).unwrap())
            .collect();
        let unknown = unknown_packages(&specs, &known);
        let names: Vec<&str> = unknown.iter().map(|package| package.name.as_str()).collect();
        assert_eq!(names, ["libtiff5", "graphvis", "zzz"]);
        assert_eq!(unknown[0].renamed, ["libtiff6"]);
        assert_eq!(unknown[1].close, ["graphviz"]);
        assert_eq!(
            AptError::UnknownPackages(unknown).to_string(),
            "unknown packages libtiff5, graphvis, zzz"
        );
        // apt-get's own words for them, when its list of names is not to be had.
        let output = "Reading package lists...\nE: Unable to locate package libtiff5\n\
                      E: Package 'python3.8' has no installation candidate\n\
                      E: Unable to locate package libssl1.1\n\
                      E: Couldn't find any package by regex 'libssl1.1'\n";
        let unlocated: Vec<String> = unlocated_packages(output).into_iter().map(|p| p.name).collect();
        assert_eq!(unlocated, ["libtiff5", "libssl1.1"]);
    }

    /// imagemagick-7.q16's postinst, abridged.
    const IMAGEMAGICK_POSTINST: &str = r#"#!/bin/sh
set -e
if [ "$1" = "configure" ]
then
    for prog in compare convert; do
	if dpkg --compare-versions "$2" lt-nl "8:6.9.2.10+dfsg-3"; then
	    if  update-alternatives --list $prog > /dev/null 2>&1; then
		update-alternatives --remove-all $prog
	    fi
	fi
	update-alternatives --install /usr/bin/$prog \
	                    $prog /usr/bin/$prog-im7.q16 10000 \
	                    --slave /usr/share/man/man1/$prog.1.gz \
	                    $prog.1.gz /usr/share/man/man1/$prog-im7.q16.1.gz
    done
fi
update-alternatives --install /usr/lib/x86_64-linux-gnu/libblas.so.3 libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/blas/libblas.so.3 10
update-alternatives --install /usr/bin/$unknown x /usr/bin/y 5
for tool in undo
do
    update-alternatives --install /usr/bin/$tool $tool /usr/bin/$tool.real 1
done
"#;

    #[test]
    fn reads_alternatives_from_maintainer_scripts() {
        let found = parse_alternatives(IMAGEMAGICK_POSTINST);
        let links: Vec<(&str, &str, i64)> = found
            .iter()
            .map(|a| (a.link.as_str(), a.path.as_str(), a.priority))
            .collect();
        assert_eq!(
            links,
            [
                ("/usr/bin/compare", "/usr/bin/compare-im7.q16", 10000),
                ("/usr/bin/convert", "/usr/bin/convert-im7.q16", 10000),
                (
                    "/usr/lib/x86_64-linux-gnu/libblas.so.3",
                    "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3",
                    10
                ),
                ("/usr/bin/undo", "/usr/bin/undo.real", 1),
            ]
        );
        assert_eq!(
            found[1].slaves,
            [(
                "/usr/share/man/man1/convert.1.gz".to_string(),
                "/usr/share/man/man1/convert-im7.q16.1.gz".to_string()
            )]
        );
    }

    #[test]
    fn applies_alternatives_and_relinks_inside_the_layer() {
        let layer = tempfile::tempdir().unwrap();
        let root = layer.path();
        std::fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::fs::create_dir_all(root.join("usr/lib/x86_64-linux-gnu/blas")).unwrap();
        std::fs::write(root.join("usr/bin/convert-im7.q16"), "").unwrap();
        std::fs::write(root.join("usr/lib/x86_64-linux-gnu/blas/libblas.so.3"), "").unwrap();
        std::os::unix::fs::symlink("/usr/bin/convert-im7.q16", root.join("usr/bin/absolute")).unwrap();
        std::os::unix::fs::symlink("/usr/bin/bash", root.join("usr/bin/system")).unwrap();
        let made = apply_alternatives(root, &parse_alternatives(IMAGEMAGICK_POSTINST)).unwrap();
        assert_eq!(made.len(), 2, "{made:?}");
        assert_eq!(
            std::fs::read_link(root.join("usr/bin/convert")).unwrap(),
            Path::new("convert-im7.q16")
        );
        assert_eq!(
            std::fs::read_link(root.join("usr/lib/x86_64-linux-gnu/libblas.so.3")).unwrap(),
            Path::new("blas/libblas.so.3")
        );
        assert!(!root.join("usr/bin/compare").exists());
        assert_eq!(relink_absolute_symlinks(root).unwrap(), 1);
        assert_eq!(
            std::fs::read_link(root.join("usr/bin/absolute")).unwrap(),
            Path::new("convert-im7.q16")
        );
        assert_eq!(
            std::fs::read_link(root.join("usr/bin/system")).unwrap(),
            Path::new("/usr/bin/bash")
        );
        assert_eq!(
            relative_target("/usr/lib/x/libfoo.so", "/usr/share/foo/libfoo.so"),
            Path::new("../../share/foo/libfoo.so")
        );
    }

    #[test]
    fn pkg_config_prefixes_point_into_the_layer() {
        let layer = tempfile::tempdir().unwrap();
        let root = layer.path();
        let pc_dir = root.join("usr/lib/x86_64-linux-gnu/pkgconfig");
        std::fs::create_dir_all(&pc_dir).unwrap();
        std::fs::create_dir_all(root.join("usr/include/graphviz")).unwrap();
        std::fs::write(root.join("usr/lib/x86_64-linux-gnu/libcgraph.so.6"), "").unwrap();
        let pc = "prefix=/usr\nexec_prefix=${prefix}\nincludedir=${prefix}/include\n\n\
                  Name: libcgraph\nCflags: -I/usr/include/graphviz -I/usr/include/other\nLibs: -lcgraph\n";
        std::fs::write(pc_dir.join("libcgraph.pc"), pc).unwrap();
        assert_eq!(rewrite_pkg_config(root).unwrap(), 1);
        let rewritten = std::fs::read_to_string(pc_dir.join("libcgraph.pc")).unwrap();
        let layer_path = root.display();
        assert!(
            rewritten.starts_with(&format!("prefix={layer_path}/usr\n")),
            "{rewritten}"
        );
        assert!(
            rewritten.contains(&format!(
                "Cflags: -I{layer_path}/usr/include/graphviz -I/usr/include/other\n"
            )),
            "{rewritten}"
        );

        let env = layer_env(root).apply(Scope::Launch, &libcnb::Env::new());
        let ld = env.get_string_lossy("LD_LIBRARY_PATH").unwrap();
        assert!(
            ld.starts_with(&format!("{layer_path}/usr/lib/x86_64-linux-gnu:")),
            "{ld}"
        );
        assert_eq!(
            env.get_string_lossy("PKG_CONFIG_PATH").unwrap(),
            pc_dir.display().to_string()
        );
        assert_eq!(
            env.get_string_lossy("CPATH").unwrap(),
            format!("{layer_path}/usr/include")
        );
        assert_eq!(env.get_string_lossy("PATH"), None);
    }

    #[test]
    fn errors_name_apt_without_its_options() {
        let apt = Apt {
            dir: PathBuf::from("/nonexistent"),
            status: PathBuf::from("/nonexistent/status"),
            user: "nobody".into(),
        };
        let mut command = apt.command("false");
        command.arg("update");
        assert_eq!(run(&mut command).unwrap_err().command, "false update");
    }

    #[test]
    fn sizes() {
        assert_eq!(
            installed_size("Package: a\nInstalled-Size: 2\n\nPackage: b\nInstalled-Size: 3\n"),
            5120
        );
    }
}
