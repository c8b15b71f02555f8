//! A language runtime from an inventory, in a cached layer: what every language buildpack
//! starts with.
//!
//! The buildpack describes its runtime ([`Runtime`]: the name the log uses, the layer, the
//! built-in inventory and the operator's variable for another) and parses the app's
//! [`VersionRequest`]; this module loads the inventory ([`Runtime::load_inventory`]), resolves
//! the request ([`Runtime::resolve`]), says what it chose ([`Runtime::describe_choice`]) and
//! installs the release into a layer kept while version, archive and stack are unchanged
//! ([`Runtime::install`]). Everything that can fail is a [`RuntimeError`], rendered by
//! [`RuntimeError::message`].

use crate::archive::ArchiveError;
use crate::download::{DownloadError, Downloader};
use crate::error::ErrorMessage;
use crate::inventory::{self, InstallError, Inventory, InventoryError, LoadError, Release};
use crate::launch_reuse::{self, Decision, Restored};
use crate::layer::{Cache, KeyedLayer, LayerKey, cached_layer, change};
use crate::output::BuildOutput;
use crate::version_request::{Origin, VersionMatcher, VersionRequest};
use libcnb::Buildpack;
use libcnb::Target;
use libcnb::build::BuildContext;
use libcnb::data::layer::LayerName;
use libcnb::layer::UncachedLayerDefinition;
use semver::Version;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A buildpack's runtime; see the module documentation.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// As the build log and messages name it: `Python`, `Node.js`.
    pub name: &'static str,
    /// The layer it is installed in.
    pub layer: LayerName,
    /// The inventory the buildpack ships.
    pub built_in_inventory: &'static str,
    /// The variable by which an operator names another inventory's URL
    /// (`BP_<RUNTIME>_INVENTORY_URL`).
    pub inventory_url_env: &'static str,
    /// How messages list the versions available: one entry per group, newest first
    /// (`3.14, 3.13` by minor version, `26.x, 24.x` by major).
    pub version_group: fn(&Version) -> String,
    /// What the log adds when the app asks for no version: how to ask for one
    /// (`pin one in .python-version`).
    pub how_to_pin: &'static str,
    /// Paths of the installed runtime that nothing uses, at build time or in the image (its own
    /// copy of a package manager the buildpack installs elsewhere, an IDE, documentation),
    /// removed after installing; relative to the layer, `*` matching within one component
    /// (`lib/python3.*/idlelib`).
    pub leave_out: &'static [&'static str],
    /// Files of the installed runtime made executable (0755) after unpacking, before
    /// [`Self::leave_out`]: for archives that carry no modes (Go's module zips); patterns as in
    /// [`Self::leave_out`] (`pkg/tool/*/*`). Empty for archives that keep their modes.
    pub executables: &'static [&'static str],
}

impl Runtime {
    /// The operator's inventory when the build environment names one, else the built-in one.
    ///
    /// # Errors
    ///
    /// When the operator's inventory cannot be fetched, or an inventory is invalid.
    pub fn load_inventory(
        &self,
        build_env: &libcnb::Env,
        downloader: &Downloader,
    ) -> Result<Inventory, RuntimeError> {
        let url = build_env.get_string_lossy(self.inventory_url_env);
        inventory::load(url, self.built_in_inventory, downloader).map_err(|error| match error {
            LoadError::Fetch(error) => RuntimeError::InventoryFetch {
                runtime: self.name,
                error,
            },
            LoadError::Invalid(error) => RuntimeError::InventoryInvalid {
                runtime: self.name,
                error,
            },
        })
    }

    /// The release `request` gets from `inventory`.
    ///
    /// # Errors
    ///
    /// When none satisfies it; the error lists what the inventory has.
    pub fn resolve<M: VersionMatcher>(
        &self,
        inventory: &Inventory,
        request: &VersionRequest<M>,
    ) -> Result<Release, RuntimeError> {
        request
            .resolve(inventory)
            .cloned()
            .ok_or_else(|| RuntimeError::VersionNotAvailable {
                runtime: self.name,
                requested: request.text.clone(),
                origin: request.origin.clone().map(Box::new),
                available: inventory.describe_versions(self.version_group),
            })
    }

    /// Loads the inventory, resolves `request` against it and says what it chose in the log.
    ///
    /// # Errors
    ///
    /// As [`Self::load_inventory`] and [`Self::resolve`].
    pub fn choose<M: VersionMatcher>(
        &self,
        build_env: &libcnb::Env,
        downloader: &Downloader,
        request: &VersionRequest<M>,
        output: &mut BuildOutput,
    ) -> Result<Release, RuntimeError> {
        self.choose_keeping_inventory(build_env, downloader, request, output)
            .map(|(release, _)| release)
    }

    /// As [`Self::choose`], returning the inventory too: for what else it offers (an older
    /// version to suggest when the chosen one proves too new for the app).
    ///
    /// # Errors
    ///
    /// As [`Self::load_inventory`] and [`Self::resolve`].
    pub fn choose_keeping_inventory<M: VersionMatcher>(
        &self,
        build_env: &libcnb::Env,
        downloader: &Downloader,
        request: &VersionRequest<M>,
        output: &mut BuildOutput,
    ) -> Result<(Release, Inventory), RuntimeError> {
        let inventory = self.load_inventory(build_env, downloader)?;
        let release = self.resolve(&inventory, request)?;
        output.step(&self.describe_choice(&release, request));
        Ok((release, inventory))
    }

    /// The build log's step for the choice: `Python 3.13.5 (3.13 from .python-version)`.
    #[must_use]
    pub fn describe_choice<M>(&self, release: &Release, request: &VersionRequest<M>) -> String {
        let name = self.name;
        let version = &release.version;
        match &request.origin {
            Some(origin) => format!("{name} {version} ({request} from {origin})"),
            None => format!("{name} {version} ({request}; {})", self.how_to_pin),
        }
    }

    /// The key of the layer `release` is installed into.
    #[must_use]
    pub fn layer_key(&self, target: &Target, release: &Release) -> RuntimeLayerKey {
        RuntimeLayerKey {
            runtime: self.name.to_string(),
            version: release.version.to_string(),
            sha256: release.sha256.clone(),
            stack: crate::stack::key(target),
            left_out: self.leave_out.iter().map(ToString::to_string).collect(),
            executables: self.executables.iter().map(ToString::to_string).collect(),
        }
    }

    /// Installs `release` into the runtime's layer unless the cache has it, saying which in the
    /// log; returns the layer. The layer is available at build, and at launch when `launch`.
    ///
    /// # Errors
    ///
    /// When the layer cannot be opened, or the download or unpacking fails.
    pub fn install<B>(
        &self,
        context: &BuildContext<B>,
        output: &mut BuildOutput,
        release: &Release,
        downloader: &Downloader,
        launch: bool,
    ) -> libcnb::Result<KeyedLayer<B>, B::Error>
    where
        B: Buildpack,
        B::Error: From<RuntimeError>,
    {
        let name = self.name;
        let key = self.layer_key(&context.target, release);
        let (layer, cache) = cached_layer(context, self.layer.clone(), true, launch, &key)?;
        // Every build, reused or not: see `crate::sbom`.
        crate::sbom::write(&layer, [crate::sbom::Component::runtime(name, release)])?;
        if let Some(line) = cache.describe(&format!("{name} {}", release.version)) {
            output.detail(&line);
        }
        if cache != Cache::Reused {
            self.fill(output, release, downloader, &layer.path())?;
        }
        Ok(layer)
    }

    /// Installs `release` into a launch-only layer, never cached, that the next build can keep
    /// from this build's image ([`Self::keep_from_previous_image`]); returns its path. For a
    /// buildpack that uses the runtime's files at build only by their path, and only when they
    /// change: later buildpacks do not get the runtime in their environment.
    ///
    /// # Errors
    ///
    /// When the layer cannot be made, or the download or unpacking fails.
    pub fn install_launch_only<B>(
        &self,
        context: &BuildContext<B>,
        output: &mut BuildOutput,
        release: &Release,
        downloader: &Downloader,
    ) -> libcnb::Result<PathBuf, B::Error>
    where
        B: Buildpack,
        B::Error: From<RuntimeError>,
    {
        let layer = context.uncached_layer(
            self.layer.clone(),
            UncachedLayerDefinition {
                build: false,
                launch: true,
            },
        )?;
        layer.write_metadata(self.layer_key(&context.target, release))?;
        crate::sbom::write(&layer, [crate::sbom::Component::runtime(self.name, release)])?;
        self.fill(output, release, downloader, &layer.path())?;
        Ok(layer.path())
    }

    /// Whether the lifecycle restored the previous image's runtime layer, made for `release`,
    /// by its metadata without its files: then [`Self::keep_from_previous_image`] can keep it.
    #[must_use]
    pub fn previous_image_has<B: Buildpack>(&self, context: &BuildContext<B>, release: &Release) -> bool {
        let restored = Restored::read(&context.layers_dir, &self.layer);
        launch_reuse::decide(&restored, &self.layer_key(&context.target, release), false)
            == Decision::KeepFromPreviousImage
    }

    /// Keeps the previous image's runtime layer (see [`Self::previous_image_has`]), saying so.
    ///
    /// # Errors
    ///
    /// When the layer's TOML cannot be written.
    pub fn keep_from_previous_image<B: Buildpack>(
        &self,
        context: &BuildContext<B>,
        output: &mut BuildOutput,
        release: &Release,
    ) -> std::io::Result<()> {
        let key = self.layer_key(&context.target, release);
        launch_reuse::keep_from_previous_image(&context.layers_dir, &self.layer, &key)?;
        output.detail(&format!(
            "Reusing {} {} from the previous image",
            self.name, release.version
        ));
        Ok(())
    }

    /// Downloads and unpacks `release` into the empty layer at `path`.
    fn fill<E: From<RuntimeError>>(
        &self,
        output: &mut BuildOutput,
        release: &Release,
        downloader: &Downloader,
        path: &Path,
    ) -> libcnb::Result<(), E> {
        let name = self.name;
        let version = release.version.to_string();
        output.detail(&format!(
            "Downloading {name} {version} from {}",
            downloader.effective_url(&release.url)
        ));
        let install_error = |error| {
            libcnb::Error::BuildpackError(E::from(RuntimeError::Install {
                runtime: name,
                version: version.clone(),
                error,
            }))
        };
        release.install(downloader, path).map_err(install_error)?;
        output.detail(&format!("Installed {name} {version}"));
        make_executable(path, self.executables)
            .map_err(|error| install_error(InstallError::Unpack(error)))?;
        let left_out =
            leave_out(path, self.leave_out).map_err(|error| install_error(InstallError::Unpack(error)))?;
        if !left_out.is_empty() {
            output.detail(&format!(
                "Left out, as nothing uses them: {} ({})",
                left_out.names.join(", "),
                crate::disk::format_size(left_out.bytes)
            ));
        }
        Ok(())
    }
}

/// What [`leave_out`] removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LeftOut {
    /// The paths removed, relative to the layer, sorted.
    pub names: Vec<String>,
    pub bytes: u64,
}

impl LeftOut {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Removes from `layer` the paths `patterns` match (`*` within one component); patterns that
/// match nothing are fine (another build of the runtime may not have the path).
///
/// # Errors
///
/// When a matched path cannot be removed.
pub fn leave_out(layer: &Path, patterns: &[&str]) -> Result<LeftOut, ArchiveError> {
    let mut left_out = LeftOut::default();
    for path in matching_paths(layer, patterns) {
        let io_error = |error: std::io::Error| ArchiveError::Io {
            path: path.clone(),
            message: error.to_string(),
        };
        let Ok(metadata) = path.symlink_metadata() else {
            continue;
        };
        left_out.bytes += crate::disk::apparent_size(&path);
        if metadata.is_dir() {
            std::fs::remove_dir_all(&path).map_err(io_error)?;
        } else {
            std::fs::remove_file(&path).map_err(io_error)?;
        }
        left_out
            .names
            .push(path.strip_prefix(layer).unwrap_or(&path).display().to_string());
    }
    Ok(left_out)
}

/// Makes the regular files in `layer` that `patterns` match (`*` within one component)
/// executable: mode 0755. Directories and links matched are left alone; patterns that match
/// nothing are fine.
///
/// Go's module zips carry no modes by definition, so the go command marks a downloaded
/// toolchain's programs executable itself: `pkg/tool`, `lib`'s `go_*_*_exec`, `bin` (see
/// `allowExec` in Go's src/cmd/go/internal/toolchain/select.go).
///
/// # Errors
///
/// When a matched file's mode cannot be changed.
pub fn make_executable(layer: &Path, patterns: &[&str]) -> Result<(), ArchiveError> {
    use std::os::unix::fs::PermissionsExt;
    for path in matching_paths(layer, patterns) {
        if path.symlink_metadata().is_ok_and(|metadata| metadata.is_file()) {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(|error| {
                ArchiveError::Io {
                    path: path.clone(),
                    message: error.to_string(),
                }
            })?;
        }
    }
    Ok(())
}

/// The paths in `layer` that `patterns` match, sorted, each once.
fn matching_paths(layer: &Path, patterns: &[&str]) -> Vec<std::path::PathBuf> {
    let mut matched = Vec::new();
    for pattern in patterns {
        let mut found = vec![layer.to_path_buf()];
        for component in pattern.split('/') {
            found = found
                .iter()
                .flat_map(|dir| std::fs::read_dir(dir).into_iter().flatten().flatten())
                .filter(|entry| component_matches(component, &entry.file_name().to_string_lossy()))
                .map(|entry| entry.path())
                .collect();
        }
        matched.extend(found);
    }
    matched.sort();
    matched.dedup();
    matched
}

/// Whether a file name matches one component of a pattern, where `*` matches any run of
/// characters.
fn component_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((prefix, rest)) => {
            let Some(after) = name.strip_prefix(prefix) else {
                return false;
            };
            (0..=after.len())
                .filter(|start| after.is_char_boundary(*start))
                .any(|start| component_matches(rest, &after[start..]))
        }
    }
}

/// What the runtime's layer was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeLayerKey {
    /// [`Runtime::name`].
    pub runtime: String,
    pub version: String,
    /// The archive: another build of the same version (a mirror's own) is another runtime.
    pub sha256: String,
    pub stack: String,
    /// [`Runtime::leave_out`]: a layer made with other paths removed is another layer. Empty in
    /// layers made before it existed.
    #[serde(default)]
    pub left_out: Vec<String>,
    /// [`Runtime::executables`]: a layer whose files were made executable by other patterns is
    /// another layer. Empty in layers made before it existed.
    #[serde(default)]
    pub executables: Vec<String>,
}

impl LayerKey for RuntimeLayerKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self {
            runtime,
            version,
            sha256,
            stack,
            left_out,
            executables,
        } = self;
        [
            change("runtime", runtime, &current.runtime),
            (runtime == &current.runtime)
                .then(|| change(runtime, version, &current.version))
                .flatten(),
            (runtime == &current.runtime && version == &current.version && sha256 != &current.sha256)
                .then(|| format!("the {runtime} archive changed")),
            change("stack", stack, &current.stack),
            (left_out != &current.left_out).then(|| format!("what the {runtime} layer leaves out changed")),
            (executables != &current.executables)
                .then(|| format!("what the {runtime} layer makes executable changed")),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Everything that can stop [`Runtime`]'s work; `runtime` is [`Runtime::name`].
#[derive(Debug)]
pub enum RuntimeError {
    /// The operator's inventory did not answer.
    InventoryFetch {
        runtime: &'static str,
        error: DownloadError,
    },
    InventoryInvalid {
        runtime: &'static str,
        error: InventoryError,
    },
    /// No release satisfies the app's request.
    VersionNotAvailable {
        runtime: &'static str,
        /// [`VersionRequest::text`].
        requested: String,
        origin: Option<Box<Origin>>,
        /// The versions available, grouped: `3.14, 3.13`.
        available: String,
    },
    /// Downloading or unpacking the release.
    Install {
        runtime: &'static str,
        version: String,
        error: InstallError,
    },
}

impl RuntimeError {
    /// The user-facing message.
    #[must_use]
    pub fn message(&self) -> ErrorMessage {
        match self {
            Self::InventoryFetch { runtime, error } => error.message(&format!("the {runtime} inventory")),
            Self::InventoryInvalid { runtime, error } => ErrorMessage::platform(
                format!("Invalid {runtime} inventory"),
                format!("The list of {runtime} releases this builder can install is broken: {error}."),
            ),
            Self::VersionNotAvailable {
                runtime,
                requested,
                origin,
                available,
            } => {
                let title = format!("{runtime} version not available");
                let Some(origin) = origin else {
                    return ErrorMessage::platform(
                        title,
                        format!(
                            "No {runtime} release is {requested}: this builder's inventory has {available}."
                        ),
                    );
                };
                // A file that only names the version is quoted by name; a field by its place.
                let detail = match &origin.field {
                    None => format!(
                        "{} asks for {runtime} {requested}, which this builder does not provide.",
                        origin.file
                    ),
                    Some(_) => format!("No {runtime} release satisfies `{requested}` ({origin})."),
                };
                ErrorMessage::app(title, detail)
                    .at(origin.location())
                    .fix(format!(
                        "ask for one of these versions in {}: {available}.",
                        origin.file
                    ))
            }
            Self::Install {
                runtime,
                version,
                error,
            } => error.message(&format!("{runtime} {version}")),
        }
    }
}

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message().title)
    }
}

impl std::error::Error for RuntimeError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version_request::tests::inventory;

    struct Minor(u64, u64);

    impl VersionMatcher for Minor {
        fn matches(&self, version: &Version) -> bool {
            (version.major, version.minor) == (self.0, self.1)
        }
    }

    fn runtime() -> Runtime {
        Runtime {
            name: "Lang",
            layer: libcnb::data::layer_name!("lang"),
            built_in_inventory: "[[releases]]\nversion = \"1.2.3\"\nurl = \"https://example.org/lang.tar.gz\"\n\
                                 sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n",
            inventory_url_env: "BP_LANG_INVENTORY_URL",
            version_group: |version| format!("{}.{}", version.major, version.minor),
            how_to_pin: "pin one in .lang-version",
            leave_out: &[],
            executables: &[],
        }
    }

    fn key(version: &str, sha256: &str) -> RuntimeLayerKey {
        RuntimeLayerKey {
            runtime: "Python".into(),
            version: version.into(),
            sha256: sha256.into(),
            stack: "debian 13 amd64".into(),
            left_out: vec!["bin/pip*".into()],
            executables: Vec::new(),
        }
    }

    #[test]
    fn leaves_out_what_the_patterns_match() {
        let layer = tempfile::tempdir().unwrap();
        let root = layer.path();
        for dir in [
            "bin",
            "lib/python3.13/site-packages/pip/_internal",
            "lib/python3.13/site-packages/pip-25.1.1.dist-info",
            "lib/python3.13/site-packages/pipx_not_pip",
            "lib/python3.13/idlelib",
            "lib/python3.13/json",
        ] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        for (file, text) in [
            ("bin/pip3", "123"),
            ("bin/pip3.13", "123"),
            ("bin/python3", "keep"),
            ("lib/python3.13/site-packages/pip/_internal/main.py", "12345"),
            ("lib/python3.13/idlelib/idle.py", "1"),
        ] {
            std::fs::write(root.join(file), text).unwrap();
        }
        let left_out = leave_out(
            root,
            &[
                "bin/pip*",
                "lib/python3.*/site-packages/pip",
                "lib/python3.*/site-packages/pip-*.dist-info",
                "lib/python3.*/idlelib",
                "lib/python3.*/turtledemo",
            ],
        )
        .unwrap();
        assert_eq!(
            left_out.names,
            [
                "bin/pip3",
                "bin/pip3.13",
                "lib/python3.13/idlelib",
                "lib/python3.13/site-packages/pip",
                "lib/python3.13/site-packages/pip-25.1.1.dist-info",
            ]
        );
        assert_eq!(left_out.bytes, 3 + 3 + 5 + 1);
        assert!(root.join("bin/python3").exists());
        assert!(root.join("lib/python3.13/site-packages/pipx_not_pip").exists());
        assert!(root.join("lib/python3.13/json").exists());
        assert!(leave_out(root, &["lib/python3.*/idlelib"]).unwrap().is_empty());
    }

    #[test]
    fn makes_the_files_the_patterns_match_executable() {
        use std::os::unix::fs::PermissionsExt;
        let layer = tempfile::tempdir().unwrap();
        let root = layer.path();
        for dir in ["bin", "pkg/tool/linux_amd64", "pkg/include", "src"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        for file in [
            "bin/go",
            "bin/gofmt",
            "pkg/tool/linux_amd64/compile",
            "pkg/include/asm.h",
            "src/go.mod",
        ] {
            std::fs::write(root.join(file), "").unwrap();
            std::fs::set_permissions(root.join(file), std::fs::Permissions::from_mode(0o444)).unwrap();
        }
        std::os::unix::fs::symlink("../src/go.mod", root.join("bin/link")).unwrap();

        make_executable(root, &["bin/*", "pkg/tool/*/*", "misc/*"]).unwrap();

        let mode = |path: &str| std::fs::metadata(root.join(path)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode("bin/go"), 0o755);
        assert_eq!(mode("bin/gofmt"), 0o755);
        assert_eq!(mode("pkg/tool/linux_amd64/compile"), 0o755);
        assert_eq!(mode("pkg/tool/linux_amd64"), 0o755, "directories keep their mode");
        assert_eq!(mode("pkg/include/asm.h"), 0o444);
        assert_eq!(mode("src/go.mod"), 0o444, "not through a link");
    }

    #[test]
    fn a_change_of_what_is_made_executable_makes_the_layer_again() {
        let mut current = key("1.26.8", "a");
        current.executables.push("bin/*".into());
        assert_eq!(
            key("1.26.8", "a").changes(&current),
            ["what the Python layer makes executable changed"]
        );
        let before: RuntimeLayerKey = toml::from_str(
            "runtime = \"Python\"\nversion = \"3.13.5\"\nsha256 = \"a\"\nstack = \"debian 13 amd64\"\n",
        )
        .unwrap();
        assert!(before.executables.is_empty() && before.left_out.is_empty());
    }

    #[test]
    fn pattern_components() {
        assert!(component_matches("python3.*", "python3.13"));
        assert!(component_matches("pip-*.dist-info", "pip-25.1.1.dist-info"));
        assert!(!component_matches("pip-*.dist-info", "pipx-1.0.dist-info"));
        assert!(component_matches("*", "anything"));
        assert!(!component_matches("pip", "pip3"));
        assert!(component_matches("a*b*c", "aXXbYYc"));
    }

    #[test]
    fn a_change_of_what_is_left_out_makes_the_layer_again() {
        let mut current = key("3.13.5", "a");
        current.left_out.push("lib/python3.*/idlelib".into());
        assert_eq!(
            key("3.13.5", "a").changes(&current),
            ["what the Python layer leaves out changed"]
        );
    }

    #[test]
    fn key_changes_name_the_runtime() {
        assert!(key("3.13.5", "a").changes(&key("3.13.5", "a")).is_empty());
        assert_eq!(
            key("3.13.4", "a").changes(&key("3.13.5", "b")),
            ["Python 3.13.4 → 3.13.5"]
        );
        assert_eq!(
            key("3.13.5", "a").changes(&key("3.13.5", "b")),
            ["the Python archive changed"]
        );
        let mut other_stack = key("3.13.5", "a");
        other_stack.stack = "debian 14 amd64".into();
        assert_eq!(
            key("3.13.5", "a").changes(&other_stack),
            ["stack debian 13 amd64 → debian 14 amd64"]
        );
        let mut other_runtime = key("24.11.1", "b");
        other_runtime.runtime = "Node.js".into();
        assert_eq!(
            key("3.13.5", "a").changes(&other_runtime),
            ["runtime Python → Node.js"]
        );
    }

    #[test]
    fn loads_the_built_in_inventory_unless_the_operator_names_one() {
        let downloader = Downloader::from_env(&libcnb::Env::new());
        let inventory = runtime()
            .load_inventory(&libcnb::Env::new(), &downloader)
            .unwrap();
        assert_eq!(inventory.releases()[0].version.to_string(), "1.2.3");
        let mut broken = runtime();
        broken.built_in_inventory = "releases = []";
        assert!(matches!(
            broken.load_inventory(&libcnb::Env::new(), &downloader),
            Err(RuntimeError::InventoryInvalid { runtime: "Lang", .. })
        ));
    }

    #[test]
    fn resolves_and_describes() {
        let inventory = inventory(&["3.13.5", "3.14.1", "3.13.4", "3.12.9"]);
        let request = VersionRequest::new("3.13", Some(Origin::line(".lang-version", 2)), Minor(3, 13));
        let release = runtime().resolve(&inventory, &request).unwrap();
        assert_eq!(
            runtime().describe_choice(&release, &request),
            "Lang 3.13.5 (3.13 from .lang-version)"
        );
        let newest = VersionRequest::new("the newest release", None, Minor(3, 14));
        let release = runtime().resolve(&inventory, &newest).unwrap();
        assert_eq!(
            runtime().describe_choice(&release, &newest),
            "Lang 3.14.1 (the newest release; pin one in .lang-version)"
        );
        let missing = VersionRequest::new("3.9", Some(Origin::line(".lang-version", 1)), Minor(3, 9));
        let Err(RuntimeError::VersionNotAvailable { available, .. }) =
            runtime().resolve(&inventory, &missing)
        else {
            panic!("3.9 is not in the inventory");
        };
        assert_eq!(available, "3.14, 3.13, 3.12");
    }

    #[test]
    fn version_not_available_in_a_version_file() {
        insta::assert_snapshot!(
            RuntimeError::VersionNotAvailable {
                runtime: "Python",
                requested: "3.9".into(),
                origin: Some(Box::new(Origin::line(".python-version", 1))),
                available: "3.14, 3.13, 3.12, 3.11, 3.10".into(),
            }
            .message()
            .render()
        );
    }

    #[test]
    fn version_not_available_in_a_field() {
        insta::assert_snapshot!(
            RuntimeError::VersionNotAvailable {
                runtime: "Node.js",
                requested: ">=99".into(),
                origin: Some(Box::new(
                    Origin::file("package.json")
                        .field("engines.node")
                        .at_line(Some(4))
                )),
                available: "26.x, 24.x, 22.x, 20.x".into(),
            }
            .message()
            .render()
        );
    }

    #[test]
    fn inventory_and_install_errors() {
        insta::assert_snapshot!(
            RuntimeError::InventoryInvalid {
                runtime: "Node.js",
                error: InventoryError::Empty {
                    source: "https://example.org/inventory.toml".into()
                },
            }
            .message()
            .render()
        );
        let fetch = RuntimeError::InventoryFetch {
            runtime: "Python",
            error: DownloadError::Status {
                url: "https://example.org/inventory.toml".into(),
                status: 404,
            },
        };
        assert_eq!(fetch.message().title, "Cannot download the Python inventory");
        let install = RuntimeError::Install {
            runtime: "Python",
            version: "3.13.5".into(),
            error: InstallError::Download(DownloadError::ChecksumMismatch {
                url: "https://example.org/python.tar.gz".into(),
                expected: "a".repeat(64),
                actual: "0".repeat(64),
            }),
        };
        assert_eq!(install.message().title, "Download of Python 3.13.5 is corrupt");
    }
}
