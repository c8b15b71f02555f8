//! The `venv` layer: a virtual environment with the app's dependencies, for build and launch.
//! Named so that it sorts after `python`: the lifecycle prepends each layer's `bin` to PATH in
//! the order of the layer names, so the environment's `python` comes first. Reused without running any installer while Python, the tool and the dependency files
//! are unchanged.

use crate::PythonBuildpack;
use crate::environment::compile_bytecode;
use crate::errors::{PythonBuildpackError, Step};
use crate::package_manager::{Choice, PackageManager};
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use libtoolforge::build_env::BuildEnv;
use libtoolforge::command::run_streamed;
use libtoolforge::error::IoError;
use libtoolforge::layer::{Cache, LayerKey, cached_layer, change};
use libtoolforge::output::BuildOutput;
use libtoolforge::stack::NativeLibraries;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

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
}

impl LayerKey for DependenciesLayerKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self {
            python_version,
            tool,
            tool_version,
            files,
            native_libraries,
        } = self;
        let mut changes: Vec<String> = [
            change("Python", python_version, &current.python_version),
            change("package manager", tool, &current.tool),
            (tool == &current.tool)
                .then(|| change(&format!("{tool} version"), tool_version, &current.tool_version))
                .flatten(),
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
    pub(crate) dependency_files: &'a [PathBuf],
    pub(crate) python_layer: &'a Path,
    pub(crate) python_version: &'a str,
    pub(crate) tool_bin: &'a Path,
    pub(crate) download_cache: &'a Path,
    /// With Python and the tool on PATH.
    pub(crate) env: &'a BuildEnv,
}

/// Installs the dependencies into the layer unless the cache has them; returns the layer path.
pub(crate) fn install(
    context: &BuildContext<PythonBuildpack>,
    output: &mut BuildOutput,
    inputs: &Inputs,
) -> libcnb::Result<PathBuf, PythonBuildpackError> {
    let manager = inputs.choice.manager;
    let key = DependenciesLayerKey {
        python_version: inputs.python_version.to_string(),
        tool: manager.tool().to_string(),
        tool_version: manager.version().to_string(),
        files: digest_files(&context.app_dir, inputs.dependency_files)?,
        native_libraries: NativeLibraries::of(&context.target),
    };
    let (layer, cache) = cached_layer(context, layer_name!("venv"), true, true, &key)?;
    let venv = layer.path();
    layer.write_env(layer_env(&venv))?;
    if let Some(line) = cache.describe("dependencies") {
        output.detail(&line);
    }
    if cache == Cache::Reused {
        return Ok(venv);
    }

    let mut env = inputs.env.clone();
    env.prepend_path(venv.join("bin"));
    run_streamed(
        env.command(inputs.python_layer.join("bin/python3"))
            .args(["-m", "venv", "--without-pip"])
            .arg(&venv),
    )
    .map_err(|error| PythonBuildpackError::Command {
        step: Step::CreateVirtualEnvironment,
        error,
    })?;

    output.detail(&format!(
        "Installing dependencies with {} {}",
        manager.tool(),
        manager.version()
    ));
    for mut command in installer(manager, inputs, &venv, &env) {
        run_streamed(command.env("VIRTUAL_ENV", &venv)).map_err(|error| PythonBuildpackError::Command {
            step: Step::InstallDependencies(manager),
            error,
        })?;
    }

    // Compiled now, so that nothing needs writing at run time (the image is read-only to the tool).
    run_streamed(&mut compile_bytecode(&venv, &venv)).map_err(|error| PythonBuildpackError::Command {
        step: Step::CompileBytecode,
        error,
    })?;
    Ok(venv)
}

/// The install commands of each package manager, into the virtual environment `venv`, in order.
fn installer(manager: PackageManager, inputs: &Inputs, venv: &Path, env: &BuildEnv) -> Vec<Command> {
    let tool = |name: &str| inputs.tool_bin.join(name);
    let pip_install = |args: &[&str]| {
        let mut command = env.command(tool("pip"));
        command
            .arg("--python")
            .arg(venv.join("bin/python"))
            // --no-compile: compiled once, below, for all managers alike.
            .args(["install", "--no-compile", "--cache-dir"])
            .arg(inputs.download_cache)
            .args(args);
        command
    };
    match manager {
        PackageManager::PipRequirements => vec![pip_install(&["--requirement", "requirements.txt"])],
        PackageManager::PipProject => vec![pip_install(&["--editable", "."])],
        PackageManager::Uv => {
            let mut command = env.command(tool("uv"));
            command
                .args(["sync", "--locked", "--no-default-groups", "--no-editable"])
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
}
