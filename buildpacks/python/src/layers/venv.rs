//! The `venv` layer: a virtual environment with the app's dependencies, for launch, and for
//! build when the build needs it ([`needed_at_build`]); when not, a launch-only layer that the
//! next build keeps from the previous image while its key is unchanged, even with an empty
//! cache (see [`libtoolforge::launch_reuse`]).
//! Named so that it sorts after `python`: the lifecycle prepends each layer's `bin` to PATH in
//! the order of the layer names, so the environment's `python` comes first. Reused while Python,
//! the tool and the dependency files are unchanged: then only the app's own packages (see
//! [`crate::own_packages`]) are installed again, from the current source, and no installer
//! resolves anything.

use crate::PythonBuildpack;
use crate::environment::compile_bytecode;
use crate::errors::{PythonBuildpackError, SourceBuildFailure, Step};
use crate::package_manager::{Choice, PackageManager};
use crate::python_version::UnpinnedChoice;
use crate::seed_packages::BundledSetuptools;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libcnb::layer::UncachedLayerDefinition;
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use libtoolforge::build_env::BuildEnv;
use libtoolforge::command::{run_streamed, run_streamed_watching};
use libtoolforge::error::IoError;
use libtoolforge::inventory::Release;
use libtoolforge::launch_reuse::{self, Decision, Restored};
use libtoolforge::layer::{Cache, LayerKey, cached_layer, change};
use libtoolforge::output::BuildOutput;
use libtoolforge::runtime::Runtime;
use libtoolforge::sbom;
use libtoolforge::stack::NativeLibraries;
use libtoolforge::user_settings::{Pattern, UserSettings};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DependenciesLayerKey {
    pub(crate) python_version: String,
    pub(crate) tool: String,
    pub(crate) tool_version: String,
    /// sha256 of each file that decides the dependencies, by path in the app.
    pub(crate) files: BTreeMap<String, String>,
    /// The stack and the Debian packages layered on it: what compiled packages were built against.
    pub(crate) native_libraries: NativeLibraries,
    /// What the environment is given before the app's install, as `python -m venv` gives it
    /// (`setuptools 65.5.0` on Python 3.11 and older; see [`crate::seed_packages`]). Absent from
    /// the keys of earlier builds, whose environments had none.
    #[serde(default)]
    pub(crate) seed_packages: Vec<String>,
    /// The user's settings for the package managers in the build environment ([`SETTINGS`]).
    #[serde(default)]
    pub(crate) settings: UserSettings,
}

/// What pip, uv, Poetry and Pipenv read from the environment (`PIP_INDEX_URL`, `UV_EXTRA_INDEX_URL`,
/// `PIP_ONLY_BINARY`…).
const SETTINGS: [Pattern; 4] = ["PIP_", "UV_", "POETRY_", "PIPENV_"];

impl LayerKey for DependenciesLayerKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self {
            python_version,
            tool,
            tool_version,
            files,
            native_libraries,
            seed_packages,
            settings,
        } = self;
        let list = |packages: &[String]| {
            if packages.is_empty() {
                "none".to_string()
            } else {
                packages.join(", ")
            }
        };
        let mut changes: Vec<String> = [
            change("Python", python_version, &current.python_version),
            change("package manager", tool, &current.tool),
            (tool == &current.tool)
                .then(|| change(&format!("{tool} version"), tool_version, &current.tool_version))
                .flatten(),
            change(
                "seed packages",
                &list(seed_packages),
                &list(&current.seed_packages),
            ),
            settings.changes(&current.settings),
        ]
        .into_iter()
        .flatten()
        .chain(native_libraries.changes(&current.native_libraries))
        .collect();
        for (file, digest) in &current.files {
            match files.get(file) {
                None => changes.push(format!("{file} added")),
                Some(old) if old != digest => changes.push(format!("{file} changed")),
                Some(_) => {}
            }
        }
        changes.extend(
            files
                .keys()
                .filter(|file| !current.files.contains_key(*file))
                .map(|file| format!("{file} removed")),
        );
        changes
    }
}

/// What the installer needs.
pub(crate) struct Inputs<'a> {
    pub(crate) choice: &'a Choice,
    pub(crate) python_layer: &'a Path,
    pub(crate) tool_bin: &'a Path,
    pub(crate) download_cache: &'a Path,
    /// The app's own packages, as [`crate::own_packages::find`] names them.
    pub(crate) own_packages: &'a [String],
    /// With Python and the tool on PATH.
    pub(crate) env: &'a BuildEnv,
    /// When the app did not pin the Python version exactly: for the error, should its
    /// dependencies need an older one.
    pub(crate) unpinned_python: Option<&'a UnpinnedChoice>,
    /// [`needed_at_build`].
    pub(crate) needed_at_build: bool,
    /// Why the previous image's environment was not kept ([`keep_from_previous_image`]).
    pub(crate) previous_image_changes: Vec<String>,
}

/// The key of the environment for `choice` on the Python in `python_layer`: what the previous
/// image's environment and the cached one are compared with. Reads no tool and no venv.
pub(crate) fn layer_key(
    context: &BuildContext<PythonBuildpack>,
    choice: &Choice,
    dependency_files: &[PathBuf],
    (python_layer, python_version): (&Path, &str),
) -> Result<(DependenciesLayerKey, BundledSetuptools), PythonBuildpackError> {
    let manager = choice.manager;
    let setuptools = BundledSetuptools::find(python_layer, python_version);
    let key = DependenciesLayerKey {
        python_version: python_version.to_string(),
        tool: manager.tool().to_string(),
        tool_version: manager.version().to_string(),
        files: digest_files(&context.app_dir, dependency_files)?,
        native_libraries: NativeLibraries::of(&context.target),
        seed_packages: setuptools.seed_packages(),
        settings: UserSettings::read(&context.platform, &SETTINGS),
    };
    Ok((key, setuptools))
}

/// Whether this build needs the environment's files after it is made: to install the app's own
/// packages into it, for Django's collectstatic, for `bin/post_compile`, or for the app's build
/// steps. When not, the environment is a launch-only layer that the next build can keep from
/// this build's image (see [`libtoolforge::launch_reuse`]); when so, it is cached and available
/// to later build steps, as before.
pub(crate) fn needed_at_build(app_dir: &Path, has_manage_py: bool, own_packages: &[String]) -> bool {
    !own_packages.is_empty()
        || has_manage_py
        || app_dir.join(crate::hooks::POST_COMPILE).is_file()
        || launch_reuse::later_steps_need_layers(app_dir)
}

/// Keeps both the runtime and the environment from the previous image when neither changed and
/// the build needs neither's files: nothing is downloaded or installed, and no tool runs. The
/// environment's key names the seed packages the runtime gave it, which only the runtime's files
/// tell; the previous environment's are taken, since they came from the same runtime (its key,
/// archive sha256 included, is unchanged). Returns whether both were kept.
pub(crate) fn keep_with_runtime_from_previous_image(
    context: &BuildContext<PythonBuildpack>,
    output: &mut BuildOutput,
    (runtime, release): (&Runtime, &Release),
    choice: &Choice,
    dependency_files: &[PathBuf],
) -> libcnb::Result<bool, PythonBuildpackError> {
    if !runtime.previous_image_has(context, release) {
        return Ok(false);
    }
    let name = layer_name!("venv");
    let restored = Restored::<DependenciesLayerKey>::read(&context.layers_dir, &name);
    let Some(previous) = &restored.key else {
        return Ok(false);
    };
    let key = DependenciesLayerKey {
        python_version: release.version.to_string(),
        tool: choice.manager.tool().to_string(),
        tool_version: choice.manager.version().to_string(),
        files: digest_files(&context.app_dir, dependency_files)?,
        native_libraries: NativeLibraries::of(&context.target),
        seed_packages: previous.seed_packages.clone(),
        settings: UserSettings::read(&context.platform, &SETTINGS),
    };
    if launch_reuse::decide(&restored, &key, false) != Decision::KeepFromPreviousImage {
        return Ok(false);
    }
    let io_error = |error| PythonBuildpackError::Io(IoError::new("keep the previous image's layers", error));
    runtime
        .keep_from_previous_image(context, output, release)
        .map_err(io_error)?;
    launch_reuse::keep_from_previous_image(&context.layers_dir, &name, &key).map_err(io_error)?;
    output.step("Dependencies");
    output.detail(&format!(
        "Reusing the previous image's dependencies ({} unchanged)",
        choice.file
    ));
    for seed in &key.seed_packages {
        output.detail(&format!(
            "{seed} (bundled with Python {}.{}, as python -m venv gives it)",
            release.version.major, release.version.minor
        ));
    }
    Ok(true)
}

/// Keeps the previous image's environment when it was made for `key` and the build does not
/// need its files, saying so under the step `Dependencies`; returns its path then. Otherwise
/// returns why the previous image's environment cannot be kept (nothing when it had none or the
/// build needs the files), for [`install`] to say.
pub(crate) fn keep_from_previous_image(
    context: &BuildContext<PythonBuildpack>,
    output: &mut BuildOutput,
    (key, setuptools): (&DependenciesLayerKey, &BundledSetuptools),
    dependency_file: &str,
    needed_at_build: bool,
) -> libcnb::Result<Result<PathBuf, Vec<String>>, PythonBuildpackError> {
    if needed_at_build {
        return Ok(Err(Vec::new()));
    }
    let name = layer_name!("venv");
    let restored = Restored::read(&context.layers_dir, &name);
    match launch_reuse::decide(&restored, key, needed_at_build) {
        Decision::KeepFromPreviousImage => {
            launch_reuse::keep_from_previous_image(&context.layers_dir, &name, key).map_err(|error| {
                PythonBuildpackError::Io(IoError::new("keep the previous image's dependencies", error))
            })?;
            output.step("Dependencies");
            output.detail(&format!(
                "Reusing the previous image's dependencies ({dependency_file} unchanged)"
            ));
            setuptools.announce(output);
            Ok(Ok(context.layers_dir.join(name.as_str())))
        }
        Decision::Make(reasons) => Ok(Err(reasons)),
    }
}

/// Installs the dependencies into the layer unless the cache has them; returns the layer path.
/// A layer the build does not need afterwards ([`Inputs::needed_at_build`]) is launch-only and
/// never cached, so that the next build can keep it from this build's image.
pub(crate) fn install(
    context: &BuildContext<PythonBuildpack>,
    output: &mut BuildOutput,
    inputs: &Inputs,
    (key, setuptools): (&DependenciesLayerKey, &BundledSetuptools),
) -> libcnb::Result<PathBuf, PythonBuildpackError> {
    // Every build, reused or not, the layer's SBOM is written again: see `libtoolforge::sbom`.
    if inputs.needed_at_build {
        let (layer, cache) = cached_layer(context, layer_name!("venv"), true, true, key)?;
        layer.write_env(layer_env(&layer.path()))?;
        let venv = layer.path();
        fill_unless_reused(output, inputs, setuptools, &venv, &cache)?;
        sbom::write(&layer, crate::installed_packages::components(&venv))?;
        Ok(venv)
    } else {
        let layer = context.uncached_layer(
            layer_name!("venv"),
            UncachedLayerDefinition {
                build: false,
                launch: true,
            },
        )?;
        layer.write_metadata(key.clone())?;
        layer.write_env(layer_env(&layer.path()))?;
        let venv = layer.path();
        fill_unless_reused(output, inputs, setuptools, &venv, &Cache::New)?;
        sbom::write(&layer, crate::installed_packages::components(&venv))?;
        Ok(venv)
    }
}

/// Says where the environment comes from, then installs into it, or (a cached environment)
/// installs only the app's own packages again.
fn fill_unless_reused(
    output: &mut BuildOutput,
    inputs: &Inputs,
    setuptools: &BundledSetuptools,
    venv: &Path,
    cache: &Cache,
) -> Result<(), PythonBuildpackError> {
    if let Some(line) = cache.describe("dependencies") {
        output.detail(&line);
    }
    if !inputs.previous_image_changes.is_empty() {
        output.detail(&format!(
            "Not reusing the previous image's dependencies: {}",
            inputs.previous_image_changes.join("; ")
        ));
    }
    setuptools.announce(output);
    let mut env = inputs.env.clone();
    env.prepend_path(venv.join("bin"));
    if *cache == Cache::Reused {
        if !inputs.own_packages.is_empty() {
            reinstall_own_packages(output, inputs, venv, &env)?;
        }
        Ok(())
    } else {
        fill(output, inputs, setuptools, venv, &env)
    }
}

/// Makes the environment in the empty layer and installs the dependencies into it.
fn fill(
    output: &mut BuildOutput,
    inputs: &Inputs,
    setuptools: &BundledSetuptools,
    venv: &Path,
    env: &BuildEnv,
) -> Result<(), PythonBuildpackError> {
    let manager = inputs.choice.manager;
    run_streamed(
        env.command(inputs.python_layer.join("bin/python3"))
            .args(["-m", "venv", "--without-pip"])
            .arg(venv),
    )
    .map_err(|error| PythonBuildpackError::Command {
        step: Step::CreateVirtualEnvironment,
        error,
    })?;
    if let Some(mut command) = setuptools.install_command(venv, env) {
        run_streamed(&mut command).map_err(|error| PythonBuildpackError::Command {
            step: Step::CreateVirtualEnvironment,
            error,
        })?;
    }

    output.detail(&format!(
        "Installing dependencies with {} {}",
        manager.tool(),
        manager.version()
    ));
    run_installer(inputs, installer(manager, inputs, venv, env), venv)?;

    // Compiled now, so that nothing needs writing at run time (the image is read-only to the tool).
    run_streamed(&mut compile_bytecode(&venv.join("bin/python"), venv)).map_err(|error| {
        PythonBuildpackError::Command {
            step: Step::CompileBytecode,
            error,
        }
    })
}

/// Runs the install commands; a failure to build packages from source on a Python the app did
/// not pin says which older one to pin.
fn run_installer(inputs: &Inputs, commands: Vec<Command>, venv: &Path) -> Result<(), PythonBuildpackError> {
    let manager = inputs.choice.manager;
    for mut command in commands {
        let mut failed_builds = FailedBuilds::default();
        let result = run_streamed_watching(command.env("VIRTUAL_ENV", venv), &mut |line| {
            failed_builds.watch(line);
        });
        result.map_err(|error| match inputs.unpinned_python {
            Some(python) if !failed_builds.0.is_empty() => {
                PythonBuildpackError::SourceBuildFailed(Box::new(SourceBuildFailure {
                    manager,
                    error,
                    packages: failed_builds.0,
                    python: python.clone(),
                }))
            }
            _ => PythonBuildpackError::Command {
                step: Step::InstallDependencies(manager),
                error,
            },
        })?;
    }
    Ok(())
}

/// The packages an installer says it failed to build from source, in order, each once.
#[derive(Debug, Default)]
struct FailedBuilds(Vec<String>);

impl FailedBuilds {
    /// Reads one line of pip's (`ERROR: Failed building wheel for X`, `Failed to build X Y`) or
    /// uv's (`error: Failed to build `X==1.0``, `× Failed to build `X @ URL``) output.
    fn watch(&mut self, line: &str) {
        let line = line.trim_start_matches(|c: char| c.is_whitespace() || c == '×');
        let line = ["ERROR: ", "error: "]
            .iter()
            .find_map(|prefix| line.strip_prefix(prefix))
            .unwrap_or(line);
        let names: Vec<&str> = if let Some(name) = line.strip_prefix("Failed building wheel for ") {
            vec![name.trim()]
        } else if let Some(quoted) = line
            .strip_prefix("Failed to build `")
            .and_then(|rest| rest.split('`').next())
        {
            // `httptools==0.6.1`, `uvloop @ https://…`, `Pillow[xmp]==9.5.0`: the name; not
            // the app's own packages (`app @ file:///workspace`), which are no pinned releases.
            quoted
                .split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
                .next()
                .filter(|_| !quoted.contains("@ file://"))
                .into_iter()
                .collect()
        } else if let Some(names) = line.strip_prefix("Failed to build ") {
            // pip's summary; not its `one or more wheels` nor `installable wheels for …`.
            if names.starts_with("one or more") || names.starts_with("installable") {
                Vec::new()
            } else {
                names.split_whitespace().collect()
            }
        } else {
            Vec::new()
        };
        for name in names {
            if !name.is_empty() && !self.0.iter().any(|known| known == name) {
                self.0.push(name.to_string());
            }
        }
    }
}

/// Into a reused environment: the app's own packages from the current source, replacing the
/// copies (modules, console scripts, metadata) an earlier build installed, without touching the
/// dependencies; then their bytecode, as a cold build compiles it.
fn reinstall_own_packages(
    output: &mut BuildOutput,
    inputs: &Inputs,
    venv: &Path,
    env: &BuildEnv,
) -> Result<(), PythonBuildpackError> {
    let manager = inputs.choice.manager;
    output.detail(&format!(
        "Installing the app's own packages from its source: {}",
        inputs.own_packages.join(", ")
    ));
    // Older than anything the installer writes, even on a coarse file system clock; newer than
    // anything restored from the cache, which keeps the times of an earlier build.
    let started = SystemTime::now() - Duration::from_secs(1);
    run_installer(inputs, own_packages_installer(manager, inputs, venv, env), venv)?;
    let mut fresh = python_files_modified_since(venv, started)
        .map_err(|error| PythonBuildpackError::Io(IoError::new("list the reinstalled files", error)))?;
    if fresh.is_empty() {
        // An installer that kept the files' times: everything, as a cold build does.
        fresh.push(venv.to_path_buf());
    }
    // Only what was installed now (the dependencies' bytecode is still theirs), in batches far
    // below the kernel's limit on a command line.
    for batch in fresh.chunks(1000) {
        let mut command = compile_bytecode(&venv.join("bin/python"), &batch[0]);
        command.args(&batch[1..]);
        run_streamed(&mut command).map_err(|error| PythonBuildpackError::Command {
            step: Step::CompileBytecode,
            error,
        })?;
    }
    Ok(())
}

/// The `.py` files under `dir` modified at or after `since`, in a stable order; symbolic links
/// (a venv's `lib64`) are not followed.
fn python_files_modified_since(dir: &Path, since: SystemTime) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current)? {
            let entry = entry?;
            let file_type = entry.file_type()?;
            let path = entry.path();
            if file_type.is_dir() {
                pending.push(path);
            } else if file_type.is_file()
                && path.extension().is_some_and(|extension| extension == "py")
                && entry.metadata()?.modified()? >= since
            {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The install commands of each package manager, into the virtual environment `venv`, in order.
fn installer(manager: PackageManager, inputs: &Inputs, venv: &Path, env: &BuildEnv) -> Vec<Command> {
    let tool = |name: &str| inputs.tool_bin.join(name);
    let pip_install = |args: &[&str]| {
        let mut command = pip_install_command(inputs, venv, env);
        command.args(args);
        command
    };
    match manager {
        PackageManager::PipRequirements => vec![pip_install(&["--requirement", "requirements.txt"])],
        PackageManager::PipProject => vec![pip_install(&["--editable", "."])],
        PackageManager::Uv => {
            let mut command = env.command(tool("uv"));
            command.args(["sync", "--locked", "--no-default-groups", "--no-editable"]);
            // uv would reuse a copy it built earlier (its cache is kept, and keyed on the
            // project files' times, not on the code): built anew, and replaced when installed.
            for package in inputs.own_packages {
                command.args(["--reinstall-package", package]);
            }
            command
                .env("UV_PROJECT_ENVIRONMENT", venv)
                .env("UV_PYTHON", venv.join("bin/python"))
                .env("UV_CACHE_DIR", inputs.download_cache)
                // The cache is another layer, so another file system in the lifecycle's eyes.
                .env("UV_LINK_MODE", "copy");
            vec![command]
        }
        PackageManager::Poetry => {
            // See POETRY_PLUGIN_EXPORT_VERSION: Poetry checks and exports its lock, pip installs it.
            let exported = inputs.download_cache.join("requirements-from-poetry-lock.txt");
            let poetry = |args: &[&str]| {
                let mut command = env.command(tool("poetry"));
                command
                    .args(args)
                    .env("POETRY_CACHE_DIR", inputs.download_cache)
                    .env("POETRY_VIRTUALENVS_CREATE", "false");
                command
            };
            let mut export = poetry(&[
                "export",
                "--only",
                "main",
                "--format",
                "requirements.txt",
                "--output",
            ]);
            export.arg(&exported);
            let exported = exported.display().to_string();
            vec![
                poetry(&["check", "--lock"]),
                export,
                pip_install(&["--no-deps", "--require-hashes", "--requirement", &exported]),
            ]
        }
        PackageManager::Pipenv => {
            let mut command = env.command(tool("pipenv"));
            command
                .args(["install", "--deploy"])
                .env("PIP_CACHE_DIR", inputs.download_cache)
                .env("PIPENV_VERBOSITY", "-1");
            vec![command]
        }
    }
}

/// The commands that install the app's own packages from the current source into the reused
/// environment `venv`, replacing the copies there, and nothing else.
fn own_packages_installer(
    manager: PackageManager,
    inputs: &Inputs,
    venv: &Path,
    env: &BuildEnv,
) -> Vec<Command> {
    match manager {
        // The same sync: with the environment complete, it only rebuilds the --reinstall-package ones.
        PackageManager::Uv => installer(manager, inputs, venv, env),
        PackageManager::PipRequirements | PackageManager::Pipenv => {
            // (Pipenv's layer is a virtual environment, with pip.) --no-deps: the dependencies
            // are the environment's, unchanged, since the local packages' metadata files are
            // in the key.
            let mut command = pip_install_command(inputs, venv, env);
            command
                .args(["--no-deps", "--force-reinstall"])
                .args(inputs.own_packages);
            vec![command]
        }
        PackageManager::Poetry | PackageManager::PipProject => Vec::new(),
    }
}

/// `pip install` from the tool's layer into `venv`, with the download cache; the requirements
/// and options follow.
fn pip_install_command(inputs: &Inputs, venv: &Path, env: &BuildEnv) -> Command {
    let mut command = env.command(inputs.tool_bin.join("pip"));
    command
        .arg("--python")
        .arg(venv.join("bin/python"))
        // --no-compile: compiled by the buildpack, for all managers alike.
        .args(["install", "--no-compile", "--cache-dir"])
        .arg(inputs.download_cache);
    command
}

/// At launch and in later build steps: the environment is active, and Python neither buffers
/// output (logs appear at once) nor tries to write bytecode.
fn layer_env(venv: &Path) -> LayerEnv {
    LayerEnv::new()
        .chainable_insert(Scope::All, ModificationBehavior::Override, "VIRTUAL_ENV", venv)
        .chainable_insert(Scope::All, ModificationBehavior::Default, "PYTHONUNBUFFERED", "1")
        .chainable_insert(
            Scope::Launch,
            ModificationBehavior::Default,
            "PYTHONDONTWRITEBYTECODE",
            "1",
        )
}

fn digest_files(app_dir: &Path, files: &[PathBuf]) -> Result<BTreeMap<String, String>, PythonBuildpackError> {
    files
        .iter()
        .map(|file| {
            let digest = libtoolforge::download::file_sha256(&app_dir.join(file)).map_err(|error| {
                PythonBuildpackError::Io(IoError::new(format!("read {}", file.display()), error))
            })?;
            Ok((file.display().to_string(), digest))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_needs_the_environment_only_for_what_runs_after_it() {
        let app = tempfile::tempdir().unwrap();
        assert!(!needed_at_build(app.path(), false, &[]));
        assert!(
            needed_at_build(app.path(), false, &[".".to_string()]),
            "own packages"
        );
        assert!(needed_at_build(app.path(), true, &[]), "collectstatic");
        std::fs::create_dir(app.path().join("bin")).unwrap();
        std::fs::write(app.path().join(crate::hooks::PRE_COMPILE), "").unwrap();
        assert!(
            !needed_at_build(app.path(), false, &[]),
            "pre_compile runs before"
        );
        std::fs::write(app.path().join(crate::hooks::POST_COMPILE), "").unwrap();
        assert!(needed_at_build(app.path(), false, &[]), "post_compile");
        std::fs::remove_file(app.path().join(crate::hooks::POST_COMPILE)).unwrap();
        std::fs::write(
            app.path().join("project.toml"),
            "[[org.toolforge.build.steps]]\nname = \"x\"\nrun = \"true\"\n",
        )
        .unwrap();
        assert!(needed_at_build(app.path(), false, &[]), "build steps");
    }

    fn key(files: &[(&str, &str)]) -> DependenciesLayerKey {
        DependenciesLayerKey {
            python_version: "3.13.5".into(),
            tool: "pip".into(),
            tool_version: "26.3".into(),
            files: files
                .iter()
                .map(|(f, d)| ((*f).to_string(), (*d).to_string()))
                .collect(),
            native_libraries: NativeLibraries {
                stack: "debian 13 amd64".into(),
                debian_packages: None,
            },
            seed_packages: Vec::new(),
            settings: UserSettings::default(),
        }
    }

    #[test]
    fn changes_name_the_files() {
        let old = key(&[("requirements.txt", "a"), ("requirements/base.txt", "b")]);
        assert!(old.changes(&old.clone()).is_empty());
        let new = key(&[("requirements.txt", "c"), ("constraints.txt", "d")]);
        assert_eq!(
            old.changes(&new),
            [
                "constraints.txt added",
                "requirements.txt changed",
                "requirements/base.txt removed"
            ]
        );
        let mut other_tool = key(&[("requirements.txt", "a"), ("requirements/base.txt", "b")]);
        other_tool.tool = "uv".into();
        other_tool.tool_version = "0.13.9".into();
        assert_eq!(old.changes(&other_tool), ["package manager pip → uv"]);
    }

    #[test]
    fn the_seed_packages_are_part_of_the_key() {
        let without = key(&[("requirements.txt", "a")]);
        let mut with = without.clone();
        with.seed_packages = vec!["setuptools 65.5.0".into()];
        assert_eq!(without.changes(&with), ["seed packages none → setuptools 65.5.0"]);
        assert!(with.changes(&with.clone()).is_empty());
        // The key of a venv made before seed packages existed: it had none.
        let mut earlier = serde_json::to_value(&without).unwrap();
        earlier.as_object_mut().unwrap().remove("seed_packages");
        let earlier: DependenciesLayerKey = serde_json::from_value(earlier).unwrap();
        assert_eq!(earlier, without);
        assert_eq!(earlier.changes(&with).len(), 1);
    }

    fn args(command: &Command) -> Vec<String> {
        command
            .get_args()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect()
    }

    /// The commands of `manager`, cold and warm, for an app whose own packages are `own`.
    fn commands(manager: PackageManager, own: &[&str]) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
        let choice = Choice {
            manager,
            file: "x",
            ignored: Vec::new(),
        };
        let own: Vec<String> = own.iter().map(ToString::to_string).collect();
        let env = BuildEnv::new(&libcnb::Env::new(), Path::new("/workspace"));
        let inputs = Inputs {
            choice: &choice,
            python_layer: Path::new("/layers/python"),
            tool_bin: Path::new("/layers/tool/bin"),
            download_cache: Path::new("/layers/cache"),
            own_packages: &own,
            env: &env,
            unpinned_python: None,
            needed_at_build: true,
            previous_image_changes: Vec::new(),
        };
        let venv = Path::new("/layers/venv");
        (
            installer(manager, &inputs, venv, &env).iter().map(args).collect(),
            own_packages_installer(manager, &inputs, venv, &env)
                .iter()
                .map(args)
                .collect(),
        )
    }

    #[test]
    fn uv_builds_the_apps_own_packages_anew_at_every_build() {
        let (cold, warm) = commands(PackageManager::Uv, &["toolforge-greeting", "helpers"]);
        let expected = [
            "sync",
            "--locked",
            "--no-default-groups",
            "--no-editable",
            "--reinstall-package",
            "toolforge-greeting",
            "--reinstall-package",
            "helpers",
        ];
        assert_eq!(cold, [expected]);
        assert_eq!(warm, [expected]);
        assert_eq!(
            commands(PackageManager::Uv, &[]).0,
            [["sync", "--locked", "--no-default-groups", "--no-editable"]]
        );
    }

    #[test]
    fn pip_reinstalls_local_requirements_without_their_dependencies() {
        for manager in [PackageManager::PipRequirements, PackageManager::Pipenv] {
            let (_, warm) = commands(manager, &[".", "./lib[extra]"]);
            assert_eq!(
                warm,
                [[
                    "--python",
                    "/layers/venv/bin/python",
                    "install",
                    "--no-compile",
                    "--cache-dir",
                    "/layers/cache",
                    "--no-deps",
                    "--force-reinstall",
                    ".",
                    "./lib[extra]"
                ]]
            );
        }
        // Poetry's export never installs the root package; `pip install --editable .` reads the source.
        assert!(commands(PackageManager::Poetry, &[]).1.is_empty());
        assert!(commands(PackageManager::PipProject, &[]).1.is_empty());
    }

    #[test]
    fn files_written_by_the_reinstall() {
        let dir = tempfile::tempdir().unwrap();
        let package = dir.path().join("lib/python3.13/site-packages/greeting");
        std::fs::create_dir_all(&package).unwrap();
        let old = dir.path().join("lib/python3.13/site-packages/flask.py");
        std::fs::write(&old, "").unwrap();
        let an_hour_ago = SystemTime::now() - Duration::from_hours(1);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(an_hour_ago - Duration::from_mins(1))
            .unwrap();
        for file in ["__init__.py", "cli.py", "data.json"] {
            std::fs::write(package.join(file), "").unwrap();
        }
        std::os::unix::fs::symlink("lib", dir.path().join("lib64")).unwrap();
        assert_eq!(
            python_files_modified_since(dir.path(), an_hour_ago).unwrap(),
            [package.join("__init__.py"), package.join("cli.py")]
        );
    }

    #[test]
    fn launch_env() {
        let env =
            layer_env(Path::new("/layers/toolforge_python/venv")).apply(Scope::Launch, &libcnb::Env::new());
        assert_eq!(
            env.get_string_lossy("VIRTUAL_ENV").as_deref(),
            Some("/layers/toolforge_python/venv")
        );
        assert_eq!(env.get_string_lossy("PYTHONUNBUFFERED").as_deref(), Some("1"));
        assert_eq!(
            env.get_string_lossy("PYTHONDONTWRITEBYTECODE").as_deref(),
            Some("1")
        );
        let build = layer_env(Path::new("/l")).apply(Scope::Build, &libcnb::Env::new());
        assert_eq!(build.get_string_lossy("PYTHONDONTWRITEBYTECODE"), None);
    }

    /// What pip 26.3 printed for `httptools==0.6.1` and `uvloop==0.19.0` on Python 3.13 (trimmed).
    const PIP_OUTPUT: &str = "\
Collecting httptools==0.6.1
  Downloading httptools-0.6.1.tar.gz (191 kB)
Building wheels for collected packages: httptools, uvloop
  Building wheel for httptools (pyproject.toml): started
  Building wheel for httptools (pyproject.toml): finished with status 'error'
  error: subprocess-exited-with-error

  × Building wheel for httptools (pyproject.toml) did not run successfully.
  │ exit code: 1
  ╰─> [52 lines of output]
      httptools/parser/parser.c:9938:27: error: too few arguments to function ‘_PyLong_AsByteArray’
      error: Command '['gcc', '-c', 'httptools/parser/parser.c']' returned non-zero exit status 1.
      [end of output]

  note: This error originates from a subprocess, and is likely not a problem with pip.
  ERROR: Failed building wheel for httptools
  ERROR: Failed building wheel for uvloop
Failed to build httptools uvloop
error: failed-wheel-build-for-install

× Failed to build installable wheels for some pyproject.toml based projects
╰─> httptools, uvloop
ERROR: Failed to build one or more wheels";

    /// What uv 0.13.9 printed for the same on Python 3.13, without and with a terminal (trimmed).
    const UV_OUTPUT: &str = "\
Resolved 2 packages in 299ms
   Building httptools==0.6.1
error: Failed to build `httptools==0.6.1`
  cause: The build backend returned an error
  cause: Call to `setuptools.build_meta:__legacy__.build_wheel` failed (exit status: 1)
         httptools/parser/parser.c:9938:27: error: too few arguments to function ‘_PyLong_AsByteArray’
hint: `httptools` (v0.6.1) was included because `app` (v0.1) depends on `httptools`
  × Failed to build `uvloop @ https://files.pythonhosted.org/packages/uvloop-0.19.0.tar.gz`
  × Failed to build `Pillow[xmp]==9.5.0`
  × Failed to build `tool @ file:///workspace`";

    fn failed(output: &str) -> Vec<String> {
        let mut builds = FailedBuilds::default();
        for line in output.lines() {
            builds.watch(line);
        }
        builds.0
    }

    #[test]
    fn packages_that_failed_to_build_from_source() {
        assert_eq!(failed(PIP_OUTPUT), ["httptools", "uvloop"]);
        assert_eq!(failed(UV_OUTPUT), ["httptools", "uvloop", "Pillow"]);
        assert!(
            failed(
                "ERROR: Could not find a version that satisfies the requirement flaskk==9.9\n\
                 ERROR: Failed to build one or more wheels\n\
                 Failed to build installable wheels for some pyproject.toml based projects"
            )
            .is_empty()
        );
    }
}
