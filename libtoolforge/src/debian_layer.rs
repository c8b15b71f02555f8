//! Debian packages into a cached layer, the whole sequence a buildpack needs: resolve a package
//! list against the run image with the shared `apt-state` layer ([`resolve`]), then download,
//! unpack and relocate exactly those packages into a layer keyed on them ([`install`]), with the
//! buildpack's own configuration on a fresh install and its environment written either way. The
//! errors of both are [`PackagesError`], rendered by [`PackagesError::message`].
//!
//! A buildpack may install several layers from one resolution: a JDK, say, resolves
//! `openjdk-21-jdk-headless` and `openjdk-21-jre-headless` in one [`resolve`] call (its closure
//! calling [`Apt::resolve`] for each), then installs the first into a build-only layer and the
//! second into a launch layer.

use crate::apt_state::{self, AptState};
use crate::debian::{self, Apt, AptError, PackageSpec, RUN_IMAGE_STATUS, Resolved, UnknownPackage};
use crate::disk;
use crate::error::{ErrorMessage, Location};
use crate::layer::{Cache, LayerKey, cached_layer, change};
use crate::output::{BuildOutput, format_duration};
use crate::run_image_dependencies;
use libcnb::Buildpack;
use libcnb::build::BuildContext;
use libcnb::data::layer::LayerName;
use libcnb::layer_env::LayerEnv;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The dpkg status apt resolves against when the buildpack records stubs: the run image's,
/// plus the stubs, kept in the `apt-state` layer.
const STATUS_WITH_STUBS: &str = "status-with-stubs";

/// Resolves `specs` against the run image with the `apt-state` layer: the resolution saved by the
/// last build when the list and the index are unchanged, else `resolve`'s, saved for the next.
/// `stubs` are packages recorded as installed without being installed (those only maintainer
/// scripts or init systems use), so that neither they nor their dependencies are resolved.
/// `locate` says where the app asked for a package (for errors about unknown names or
/// versions); `|_| None` when the buildpack chose them.
///
/// # Errors
///
/// [`PackagesError::Update`] when apt cannot be prepared or refresh its index;
/// [`PackagesError::Resolve`] when `resolve` fails.
pub fn resolve<B, R>(
    context: &BuildContext<B>,
    output: &mut BuildOutput,
    specs: &[PackageSpec],
    stubs: &[&str],
    locate: impl Fn(&str) -> Option<Location>,
    resolve: impl FnOnce(&Apt) -> Result<R, AptError>,
) -> libcnb::Result<(Apt, R), B::Error>
where
    B: Buildpack,
    B::Error: From<PackagesError>,
    R: Serialize + DeserializeOwned + Clone,
{
    let state: AptState<R> = apt_state::open(context, output, specs, Path::new(RUN_IMAGE_STATUS))?;
    let (apt, stubs_ready) = if stubs.is_empty() {
        (state.apt.clone(), true)
    } else {
        let with_stubs = state.dir().join(STATUS_WITH_STUBS);
        (state.apt.with_status(&with_stubs), with_stubs.is_file())
    };
    if let Some(resolution) = state.cached.clone()
        && stubs_ready
    {
        return Ok((apt, resolution));
    }
    if !stubs.is_empty() {
        let with_stubs = state.dir().join(STATUS_WITH_STUBS);
        debian::write_status_with_stubs(&state.apt, Path::new(RUN_IMAGE_STATUS), stubs, &with_stubs)
            .map_err(|error| libcnb::Error::BuildpackError(PackagesError::Update(error).into()))?;
    }
    let resolution = resolve(&apt)
        .map_err(|error| libcnb::Error::BuildpackError(PackagesError::resolve(error, &locate).into()))?;
    state.save(&resolution);
    Ok((apt, resolution))
}

/// A layer of Debian packages, as the buildpack names and shapes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagesLayer<'a> {
    pub name: LayerName,
    pub build: bool,
    pub launch: bool,
    /// How the build log names the contents: `Reusing {what} from the cache`.
    pub what: &'a str,
    /// What the buildpack writes into the layer besides the packages, as a version raised when
    /// that changes, so that layers of an older buildpack are rebuilt; empty for nothing.
    pub layout: &'a str,
    /// The buildpack's [`run_image_dependencies::CHECK_PROGRAM`] binary, installed as the launch
    /// layer's exec.d program: a process of an image rebased onto a run image that no longer
    /// satisfies the layer's packages does not start. `None`: no check.
    pub run_image_check: Option<PathBuf>,
}

impl<'a> PackagesLayer<'a> {
    /// The layer `name`, in the build and in the image, with no layout of the buildpack's own.
    #[must_use]
    pub fn new(name: LayerName, what: &'a str) -> Self {
        Self {
            name,
            build: true,
            launch: true,
            what,
            layout: "",
            run_image_check: None,
        }
    }

    /// With `layout` as the buildpack's layout version (the field of that name).
    #[must_use]
    pub fn layout(self, layout: &'a str) -> Self {
        Self { layout, ..self }
    }

    /// Checked at launch by `program` (the field `run_image_check`).
    #[must_use]
    pub fn run_image_check(self, program: PathBuf) -> Self {
        Self {
            run_image_check: Some(program),
            ..self
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagesLayerKey {
    /// As asked for (`name` or `name=version`), sorted.
    pub requested: Vec<String>,
    /// Every package in the layer and its version.
    pub resolved: BTreeMap<String, String>,
    pub stack: String,
    /// [`PackagesLayer::layout`]. A string: the lifecycle keeps launch layers' metadata as JSON
    /// in the image's label, and an integer comes back from it as a float. Left out when empty,
    /// as layers made before it existed have it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub layout: String,
    /// The steps of `configure` that failed without failing the build (`fc-cache`), when the
    /// layer was made: such a layer is never reused. Always empty in the current build's key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_steps: Vec<String>,
}

impl PackagesLayerKey {
    #[must_use]
    pub fn new(requested: &[PackageSpec], resolved: &[Resolved], stack: String, layout: &str) -> Self {
        let mut requested: Vec<String> = requested.iter().map(ToString::to_string).collect();
        requested.sort();
        Self {
            requested,
            resolved: resolved
                .iter()
                .map(|package| (package.name.clone(), package.version.clone()))
                .collect(),
            stack,
            layout: layout.to_string(),
            failed_steps: Vec::new(),
        }
    }

    /// The key to leave on a layer whose `configure` let `failed_steps` fail: the next build
    /// sees them and makes the layer again.
    #[must_use]
    pub fn with_failed_steps(self, failed_steps: Vec<String>) -> Self {
        Self { failed_steps, ..self }
    }
}

impl LayerKey for PackagesLayerKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self {
            requested,
            resolved,
            stack,
            layout,
            failed_steps,
        } = self;
        let mut changes =
            debian::package_changes((requested, resolved), (&current.requested, &current.resolved));
        changes.extend(change("stack", stack, &current.stack));
        changes.extend(change("buildpack layout", layout, &current.layout));
        if !failed_steps.is_empty() {
            changes.push(format!(
                "{} failed when they were installed",
                failed_steps.join(", ")
            ));
        }
        changes
    }
}

/// A layer [`install`] filled or reused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub path: PathBuf,
    /// Whether the packages were installed by this build ([`Cache::Reused`] otherwise).
    pub cache: Cache,
}

impl Installed {
    /// The bytes the layer adds to the image.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        disk::apparent_size(&self.path)
    }
}

/// Opens the layer keyed on `requested`, `resolved`, the stack and the layout; unless the cache
/// has exactly them, downloads `resolved` (apt checks each against the signed index), unpacks
/// them ([`debian::unpack`]) and runs `configure` (what the buildpack does to a fresh install:
/// what maintainer scripts would have generated, its own configuration), which returns the
/// names of the steps it let fail (warned about, the build goes on): recorded in the layer's key,
/// they make the next build install the layer again rather than reuse it incomplete. Then writes
/// `env` of the layer's path, reused or not (usually [`debian::layer_env`] and the buildpack's
/// own).
///
/// # Errors
///
/// libcnb's layer errors; [`PackagesError::Download`], [`PackagesError::Unpack`] and
/// [`PackagesError::Io`]; `configure`'s.
pub fn install<B>(
    context: &BuildContext<B>,
    output: &mut BuildOutput,
    apt: &Apt,
    layer: &PackagesLayer<'_>,
    (requested, resolved): (&[PackageSpec], &[Resolved]),
    configure: impl FnOnce(&mut BuildOutput, &Path) -> Result<Vec<String>, B::Error>,
    env: impl FnOnce(&Path) -> LayerEnv,
) -> libcnb::Result<Installed, B::Error>
where
    B: Buildpack,
    B::Error: From<PackagesError>,
{
    let key = PackagesLayerKey::new(
        requested,
        resolved,
        crate::stack::key(&context.target),
        layer.layout,
    );
    let (keyed, cache) = cached_layer(context, layer.name.clone(), layer.build, layer.launch, &key)?;
    let path = keyed.path();
    if let Some(line) = cache.describe(layer.what) {
        output.step(&line);
    }
    if cache != Cache::Reused {
        let failed = |error: PackagesError| libcnb::Error::BuildpackError(B::Error::from(error));
        let debs = download(output, apt, resolved).map_err(failed)?;
        unpack(output, &path, &debs).map_err(failed)?;
        run_image_dependencies::write_record(&path, &debs, Path::new(RUN_IMAGE_STATUS))
            .map_err(|error| failed(PackagesError::Unpack(error)))?;
        let failed_steps = configure(output, &path).map_err(libcnb::Error::BuildpackError)?;
        if !failed_steps.is_empty() {
            keyed.write_metadata(key.with_failed_steps(failed_steps))?;
        }
    }
    keyed.write_env(env(&path))?;
    if let Some(program) = layer.run_image_check.clone().filter(|_| layer.launch) {
        keyed.write_exec_d_programs([(run_image_dependencies::CHECK_PROGRAM, program)])?;
    }
    let architectures = architectures(apt, resolved);
    crate::sbom::write(
        &keyed,
        resolved.iter().map(|package| {
            let arch = architectures
                .get(&(package.name.clone(), package.version.clone()))
                .map_or(context.target.arch.as_str(), String::as_str);
            crate::sbom::Component::debian_package(&package.name, &package.version, arch)
        }),
    )?;
    Ok(Installed { path, cache })
}

/// The architecture (`amd64`, `all`) of each of `resolved` by (name, version), as apt's index
/// has it: one `apt-cache show`, cheap enough to run on every build, a reused layer's too (its
/// SBOM is written again each build). Packages the index lacks are missing from the map.
fn architectures(apt: &Apt, resolved: &[Resolved]) -> BTreeMap<(String, String), String> {
    if resolved.is_empty() {
        return BTreeMap::new();
    }
    let output = apt
        .command("apt-cache")
        .arg("show")
        .args(
            resolved
                .iter()
                .map(|package| format!("{}={}", package.name, package.version)),
        )
        .output();
    // apt-cache shows what it found even when it fails on another package.
    output
        .map(|output| parse_architectures(&String::from_utf8_lossy(&output.stdout)))
        .unwrap_or_default()
}

/// (name, version) → architecture of each stanza of `apt-cache show`; the first stanza wins.
fn parse_architectures(text: &str) -> BTreeMap<(String, String), String> {
    let mut found = BTreeMap::new();
    for stanza in text.split("\n\n") {
        let field = |name: &str| crate::debian::stanza_field(stanza, name).map(ToString::to_string);
        if let (Some(name), Some(version), Some(arch)) =
            (field("Package"), field("Version"), field("Architecture"))
        {
            found.entry((name, version)).or_insert(arch);
        }
    }
    found
}

/// Downloads `resolved` (what the download cache lacks); the .deb files, in the same order.
fn download(
    output: &mut BuildOutput,
    apt: &Apt,
    resolved: &[Resolved],
) -> Result<Vec<PathBuf>, PackagesError> {
    let started = Instant::now();
    let cached = resolved
        .iter()
        .filter(|package| apt.archive_of(package).is_ok())
        .count();
    output.step(&format!(
        "Downloading {} packages from Debian{}",
        resolved.len() - cached,
        if cached > 0 {
            format!(" ({cached} already in the download cache)")
        } else {
            String::new()
        }
    ));
    let debs = apt.download(resolved).map_err(PackagesError::Download)?;
    let downloaded: u64 = debs
        .iter()
        .filter_map(|deb| std::fs::metadata(deb).ok())
        .map(|metadata| metadata.len())
        .sum();
    output.detail(&format!(
        "{} of packages ({})",
        disk::format_size(downloaded),
        format_duration(started.elapsed())
    ));
    // The download cache holds only what the current build uses.
    apt.prune_archives(resolved);
    Ok(debs)
}

/// Unpacks every package and makes it usable from the layer ([`debian::unpack`]).
fn unpack(output: &mut BuildOutput, layer: &Path, debs: &[PathBuf]) -> Result<(), PackagesError> {
    let started = Instant::now();
    let unpacked = debian::unpack(layer, debs).map_err(|error| match error {
        AptError::Io { what, error } => PackagesError::Io { what, error },
        other => PackagesError::Unpack(other),
    })?;
    output.step(&format!(
        "Unpacked {} packages ({})",
        debs.len(),
        format_duration(started.elapsed())
    ));
    for (link, path) in unpacked
        .links
        .iter()
        .filter(|(link, _)| !link.starts_with("/usr/share/"))
    {
        output.detail(&format!("alternative {link} → {path}"));
    }
    if unpacked.relinked > 0 || unpacked.pkg_config_files > 0 {
        output.detail(&format!(
            "{} absolute symlinks and {} pkg-config files now point into the layer",
            unpacked.relinked, unpacked.pkg_config_files
        ));
    }
    Ok(())
}

/// What stops [`resolve`] and [`install`].
#[derive(Debug)]
pub enum PackagesError {
    /// apt could not be prepared, or could not refresh the package index.
    Update(AptError),
    /// apt could not resolve the packages (unknown names or version, conflicts).
    Resolve {
        /// Boxed: the largest variant by far.
        error: Box<AptError>,
        /// Where the app asked for the package apt does not know: its line, or the file of
        /// several unknown ones when they are all in the same file.
        location: Option<Location>,
    },
    Download(AptError),
    Unpack(AptError),
    Io {
        what: String,
        error: std::io::Error,
    },
}

/// What the shared `apt-state` layer fails with: preparing apt, refreshing the index.
impl From<AptError> for PackagesError {
    fn from(error: AptError) -> Self {
        Self::Update(error)
    }
}

/// How error messages name a layer's packages, and who chose them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Described {
    /// In titles: `Cannot download {name}` (`the Debian packages`, `the JDK's Debian packages`).
    pub name: &'static str,
    pub chosen_by: ChosenBy,
}

/// Who chose the packages, which decides whose problem a failed resolution is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChosenBy {
    /// The app named them: unknown names and versions and conflicts are the app's to fix.
    App,
    /// The buildpack chose them: any failure is the platform's. The text says what apt could
    /// not do (`apt could not find a consistent set of packages for …`).
    Buildpack(&'static str),
}

impl PackagesError {
    /// [`Self::Resolve`] of `error`, with `locate`'s answer for where the app asked for the
    /// packages apt does not know, or for the version it does not have.
    #[must_use]
    pub fn resolve(mut error: AptError, locate: impl Fn(&str) -> Option<Location>) -> Self {
        let location = match &mut error {
            AptError::UnknownPackages(unknown) => {
                for package in unknown.iter_mut() {
                    package.location = locate(&package.name);
                }
                common_location(unknown)
            }
            AptError::UnknownVersion { name, .. } => locate(name),
            _ => None,
        };
        Self::Resolve {
            error: Box::new(error),
            location,
        }
    }

    /// The message, naming the packages as `described` says.
    #[must_use]
    pub fn message(&self, described: &Described) -> ErrorMessage {
        let name = described.name;
        match self {
            Self::Update(error) => error.platform_message(
                "Cannot refresh the Debian package index",
                "apt could not download or verify the package index of the stack's Debian repositories.",
            ),
            Self::Resolve { error, location } => {
                let message = match described.chosen_by {
                    ChosenBy::App => resolve_message(error, name),
                    ChosenBy::Buildpack(detail) => {
                        error.platform_message(&format!("Cannot resolve {name}"), detail)
                    }
                };
                match location {
                    Some(location) => message.at(location.clone()),
                    None => message,
                }
            }
            Self::Download(error) => error.platform_message(
                &format!("Cannot download {name}"),
                "apt could not download or verify the packages.",
            ),
            Self::Unpack(error) => error.platform_message(
                &format!("Cannot unpack {name}"),
                "dpkg-deb could not unpack a downloaded package into the layer.",
            ),
            Self::Io { what, error } => ErrorMessage::platform(
                format!("Cannot {what}"),
                format!("The file system said: {error}."),
            ),
        }
    }
}

/// Where the unknown packages are: the line of one, the file of several in one file.
fn common_location(unknown: &[UnknownPackage]) -> Option<Location> {
    match unknown {
        [one] => one.location.clone(),
        several => {
            let first = several.first()?.location.as_ref()?;
            several
                .iter()
                .all(|package| package.location.as_ref().map(|location| &location.file) == Some(&first.file))
                .then(|| Location::file(&first.file))
        }
    }
}

/// A failed resolution of packages the app named.
fn resolve_message(error: &AptError, name: &str) -> ErrorMessage {
    match error {
        AptError::UnknownPackages(unknown) => match unknown.as_slice() {
            [one] => unknown_package_message(one),
            several => unknown_packages_message(several),
        },
        AptError::UnknownVersion {
            name,
            version,
            available,
        } => ErrorMessage::app(
            "Package version not available",
            format!(
                "There is no version {version} of `{name}` in the stack's Debian repositories; they \
                 have {}.",
                if available.is_empty() {
                    "none".to_string()
                } else {
                    available.join(", ")
                }
            ),
        )
        .fix(format!(
            "ask for `{name}` without a version (the stack's current one, updated with security \
             fixes), or for one of the versions above."
        )),
        AptError::Unresolvable(command) => {
            let message = ErrorMessage::app(
                "The Debian packages cannot be installed together",
                format!(
                    "apt found no way to install the packages on this stack; its own words are \
                     quoted here.\n{command}."
                ),
            )
            .fix(
                "remove the package apt names, or the one that conflicts with it (a virtual package \
                 needs the name of a real package that provides it).",
            );
            if command.output_tail.is_empty() {
                message
            } else {
                message.excerpt(command.output_tail.clone())
            }
        }
        AptError::CLibrary { needed_by, packages } => c_library_message(needed_by, packages),
        other => other.platform_message(
            &format!("Cannot resolve {name}"),
            "apt failed while working out what to install.",
        ),
    }
}

/// One name apt does not know.
fn unknown_package_message(package: &UnknownPackage) -> ErrorMessage {
    let name = &package.name;
    let message = ErrorMessage::app(
        "Unknown Debian package",
        format!("There is no package `{name}` in Debian 13 (trixie)."),
    );
    let suggestions = package.suggestions();
    if suggestions.is_empty() {
        message.fix(format!(
            "look the name up at https://packages.debian.org/search?suite=trixie&keywords={name}."
        ))
    } else {
        message.fix(format!(
            "correct the name; close names are: {}. \
             https://packages.debian.org/trixie/ lists every package.",
            suggestions.join(", ")
        ))
    }
}

/// Several names apt does not know, each with where the app asks for it and what trixie has.
fn unknown_packages_message(unknown: &[UnknownPackage]) -> ErrorMessage {
    let lines: Vec<String> = unknown
        .iter()
        .map(|package| {
            let location = package
                .location
                .as_ref()
                .map(|location| format!(" ({location})"))
                .unwrap_or_default();
            let suggestion = if !package.renamed.is_empty() {
                format!("trixie has {}", debian::quoted_list(&package.renamed))
            } else if !package.close.is_empty() {
                format!("close names are {}", debian::quoted_list(&package.close))
            } else {
                "no close name".to_string()
            };
            format!("- `{}`{location}: {suggestion}", package.name)
        })
        .collect();
    ErrorMessage::app(
        "Unknown Debian packages",
        format!(
            "None of these {} packages is in Debian 13 (trixie):\n{}",
            unknown.len(),
            lines.join("\n")
        ),
    )
    .fix(
        "replace each name with trixie's. A library's package is named after its ABI version \
         (`libtiff6`), which differs between releases of Debian and Ubuntu: a list written for \
         another release needs trixie's names. https://packages.debian.org/trixie/ lists every \
         package.",
    )
}

/// Packages the app named need another C library than the run image's: the stack lags behind
/// Debian's archive, which the admins fix by rebuilding it.
fn c_library_message(needed_by: &[String], packages: &[Resolved]) -> ErrorMessage {
    let names = debian::quoted_list(needed_by);
    ErrorMessage::platform(
        "The packages need a newer C library than the run image's",
        format!(
            "{names} {} {}, and the stack's Debian repositories have no version of {} made for the \
             run image's C library. The C library is never installed into the layer: every program \
             runs with the run image's dynamic loader, which must not load a second libc.so.6.",
            if needed_by.len() == 1 { "needs" } else { "need" },
            debian::describe_c_library(packages),
            if needed_by.len() == 1 { "it" } else { "them" },
        ),
    )
    .fix(format!(
        "leave out {names} until the Toolforge stack is rebuilt on Debian's current C library \
         (the build image has compilers and the C library's headers already)."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::CommandError;

    #[test]
    fn architectures_come_from_apt_cache_show() {
        let text = "Package: tzdata\nVersion: 2025b-4\nArchitecture: all\nDescription: x\n\nPackage: libc6\nVersion: 2.41-12\nArchitecture: amd64\n\nPackage: libc6\nVersion: 2.41-12\nArchitecture: i386\n";
        let found = parse_architectures(text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[&("tzdata".into(), "2025b-4".into())], "all");
        assert_eq!(found[&("libc6".into(), "2.41-12".into())], "amd64");
    }

    const APP_PACKAGES: Described = Described {
        name: "the Debian packages",
        chosen_by: ChosenBy::App,
    };

    fn key(requested: &[&str], resolved: &[(&str, &str)], layout: &str) -> PackagesLayerKey {
        PackagesLayerKey::new(
            &requested
                .iter()
                .map(|spec| PackageSpec::parse(spec).unwrap())
                .collect::<Vec<_>>(),
            &resolved
                .iter()
                .map(|(name, version)| Resolved {
                    name: (*name).to_string(),
                    version: (*version).to_string(),
                    replaces: None,
                })
                .collect::<Vec<_>>(),
            "debian 13 amd64".into(),
            layout,
        )
    }

    #[test]
    fn key_changes() {
        let old = key(
            &["ffmpeg"],
            &[("ffmpeg", "7:7.1.4"), ("libavcodec61", "7:7.1.4")],
            "",
        );
        assert!(old.changes(&old.clone()).is_empty());
        assert_eq!(
            old.changes(&key(
                &["ffmpeg"],
                &[("ffmpeg", "7:7.1.5"), ("libavcodec61", "7:7.1.5")],
                ""
            )),
            ["updated ffmpeg 7:7.1.4 → 7:7.1.5, libavcodec61 7:7.1.4 → 7:7.1.5"]
        );
        assert_eq!(
            old.changes(&key(&["graphviz"], &[("graphviz", "2.42.4-3")], "")),
            ["graphviz added", "ffmpeg removed"]
        );
        let php = key(&["php8.4-cli"], &[("php8.4-cli", "8.4.28-1~deb13u1")], "1");
        assert_eq!(
            php.changes(&key(&["php8.4-cli"], &[("php8.4-cli", "8.4.28-1~deb13u1")], "2")),
            ["buildpack layout 1 → 2"]
        );
    }

    #[test]
    fn a_layer_whose_post_steps_failed_is_not_reused() {
        let current = key(&["graphviz"], &[("graphviz", "2.42.4-3")], "");
        let cached = current
            .clone()
            .with_failed_steps(vec!["fc-cache".into(), "dot -c".into()]);
        let expected = ["fc-cache, dot -c failed when they were installed"];
        assert_eq!(cached.changes(&current), expected);
        // As the next build reads it back from the layer's metadata.
        let text = toml::to_string(&cached).unwrap();
        let read: PackagesLayerKey = toml::from_str(&text).unwrap();
        assert_eq!(read.changes(&current), expected);
        assert!(
            current
                .clone()
                .with_failed_steps(Vec::new())
                .changes(&current)
                .is_empty()
        );
    }

    #[test]
    fn keys_are_sorted_and_read_from_older_layers() {
        let key = key(&["jq", "make=4.4.1-2"], &[("jq", "1.7.1-6")], "");
        assert_eq!(key.requested, ["jq", "make=4.4.1-2"]);
        let text = toml::to_string(&key).unwrap();
        assert!(!text.contains("layout"), "{text}");
        assert_eq!(toml::from_str::<PackagesLayerKey>(&text).unwrap(), key);
        let with_layout = "requested = []\nstack = \"s\"\nlayout = \"1\"\n[resolved]\n";
        assert_eq!(
            toml::from_str::<PackagesLayerKey>(with_layout).unwrap().layout,
            "1"
        );
    }

    fn render(error: &PackagesError, described: &Described) -> String {
        error.message(described).render()
    }

    #[test]
    fn unknown_package() {
        insta::assert_snapshot!(render(
            &PackagesError::Resolve {
                error: Box::new(AptError::UnknownPackages(vec![UnknownPackage {
                    close: vec!["ffmpeg".into()],
                    ..UnknownPackage::without_suggestions("ffmepg")
                }])),
                location: Some(Location::line("Aptfile", 2)),
            },
            &APP_PACKAGES
        ));
    }

    /// An Aptfile written for Ubuntu: every name trixie lacks is in the one error, on its line.
    #[test]
    fn unknown_packages_are_reported_together_with_their_lines() {
        let aptfile = ["libtiff5", "ffmpeg", "libssl1.1", "ffmepg", "zzzzzzzz"];
        let known = [
            "ffmpeg",
            "ffmpeg-doc",
            "libtiff6",
            "libtiffxx6",
            "libssl3t64",
            "libssl-dev",
        ];
        let specs: Vec<PackageSpec> = aptfile
            .iter()
            .map(|name| PackageSpec::parse(name).unwrap())
            .collect();
        let locate = |name: &str| {
            let line = aptfile.iter().position(|listed| *listed == name)?;
            Some(Location::line("Aptfile", line + 1))
        };
        let error = PackagesError::resolve(
            AptError::UnknownPackages(debian::unknown_packages(&specs, &known)),
            locate,
        );
        let PackagesError::Resolve { location, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(location, &Some(Location::file("Aptfile")));
        insta::assert_snapshot!(render(&error, &APP_PACKAGES));
        // In two files, the title names neither.
        let error = PackagesError::resolve(
            AptError::UnknownPackages(debian::unknown_packages(&specs, &known)),
            |name: &str| {
                Some(Location::line(
                    if name == "ffmepg" {
                        "project.toml"
                    } else {
                        "Aptfile"
                    },
                    1,
                ))
            },
        );
        assert!(matches!(error, PackagesError::Resolve { location: None, .. }));
        // One unknown name: its line, the message as for a single name.
        let error = PackagesError::resolve(
            AptError::UnknownPackages(debian::unknown_packages(&specs[3..4], &known)),
            locate,
        );
        let message = error.message(&APP_PACKAGES);
        assert_eq!(message.location, Some(Location::line("Aptfile", 4)));
        assert_eq!(message.title, "Unknown Debian package");
    }

    #[test]
    fn unknown_version() {
        insta::assert_snapshot!(render(
            &PackagesError::Resolve {
                error: Box::new(AptError::UnknownVersion {
                    name: "graphviz".into(),
                    version: "1.0".into(),
                    available: vec!["2.42.4-3".into()],
                }),
                location: Some(Location::line("project.toml", 3)),
            },
            &APP_PACKAGES
        ));
    }

    #[test]
    fn packages_that_need_a_newer_c_library() {
        insta::assert_snapshot!(render(
            &PackagesError::Resolve {
                error: Box::new(AptError::CLibrary {
                    needed_by: vec!["libc6-dev".into()],
                    packages: vec![
                        Resolved {
                            name: "libc6".into(),
                            version: "2.41-12+deb13u1".into(),
                            replaces: Some("2.41-12".into()),
                        },
                        Resolved {
                            name: "libc-bin".into(),
                            version: "2.41-12+deb13u1".into(),
                            replaces: Some("2.41-12".into()),
                        },
                    ],
                }),
                location: None,
            },
            &APP_PACKAGES
        ));
    }

    #[test]
    fn download_failure() {
        insta::assert_snapshot!(render(
            &PackagesError::Download(AptError::Command(CommandError {
                command: "apt-get install --download-only --yes -q ffmpeg=7:7.1.5-0+deb13u1".into(),
                exit_code: Some(100),
                spawn_error: None,
                output_tail:
                    "E: Failed to fetch http://deb.debian.org/debian/pool/main/f/ffmpeg/ffmpeg_7.1.5.deb  \
                          Could not resolve 'deb.debian.org'"
                        .into(),
            })),
            &APP_PACKAGES
        ));
    }

    #[test]
    fn packages_a_buildpack_chose_fail_on_the_platform() {
        let described = Described {
            name: "the JDK's Debian packages",
            chosen_by: ChosenBy::Buildpack("apt could not find a consistent set of packages for the JDK."),
        };
        let message = PackagesError::Resolve {
            error: Box::new(AptError::UnknownPackages(vec![
                UnknownPackage::without_suggestions("openjdk-21-jdk-headless"),
            ])),
            location: None,
        }
        .message(&described);
        assert_eq!(message.cause, crate::error::Cause::Platform);
        assert_eq!(message.title, "Cannot resolve the JDK's Debian packages");
        let message = PackagesError::Unpack(AptError::Io {
            what: "x".into(),
            error: std::io::Error::other("y"),
        })
        .message(&described);
        assert_eq!(message.title, "Cannot unpack the JDK's Debian packages");
    }
}
