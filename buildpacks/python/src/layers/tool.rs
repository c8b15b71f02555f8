//! The package manager's layer (`pip`, `uv`, `poetry`, `pipenv`): the tool at the version we
//! pin, in a virtual environment of its own, for the build only — build tooling stays out of
//! the launch image.

use crate::PythonBuildpack;
use crate::errors::{PythonBuildpackError, Step};
use crate::package_manager::PackageManager;
use libcnb::build::BuildContext;
use libcnb::data::layer::LayerName;
use libcnb::data::layer_name;
use libtoolforge::build_env::BuildEnv;
use libtoolforge::command::run_streamed;
use libtoolforge::layer::{Cache, LayerKey, cached_layer, change};
use libtoolforge::output::BuildOutput;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ToolLayerKey {
    pub(crate) tool_version: String,
    /// The tool's virtual environment runs on this Python.
    pub(crate) python_version: String,
    pub(crate) stack: String,
}

impl LayerKey for ToolLayerKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self {
            tool_version,
            python_version,
            stack,
        } = self;
        [
            change("version", tool_version, &current.tool_version),
            change("Python", python_version, &current.python_version),
            change("stack", stack, &current.stack),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Installs the tool unless cached; returns the directory of its commands.
pub(crate) fn install(
    context: &BuildContext<PythonBuildpack>,
    output: &mut BuildOutput,
    manager: PackageManager,
    (python_layer, python_version): (&Path, &str),
    env: &BuildEnv,
) -> libcnb::Result<PathBuf, PythonBuildpackError> {
    let key = ToolLayerKey {
        tool_version: manager.version().to_string(),
        python_version: python_version.to_string(),
        stack: libtoolforge::stack::key(&context.target),
    };
    let (layer, cache) = cached_layer(context, layer_name(manager), false, false, &key)?;
    let bin = layer.path().join("bin");
    if let Some(line) = cache.describe(&format!("{} {}", manager.tool(), manager.version())) {
        output.detail(&line);
    }
    if cache == Cache::Reused {
        return Ok(bin);
    }
    output.detail(&format!("Installing {} {}", manager.tool(), manager.version()));
    let step = Step::InstallTool(manager);
    run_streamed(
        env.command(python_layer.join("bin/python3"))
            .args(["-m", "venv"])
            .arg(layer.path()),
    )
    .map_err(|error| PythonBuildpackError::Command { step, error })?;
    run_streamed(
        env.command(bin.join("python"))
            .args(["-m", "pip", "install", "--quiet"])
            .args(manager.requirements()),
    )
    .map_err(|error| PythonBuildpackError::Command { step, error })?;
    Ok(bin)
}

fn layer_name(manager: PackageManager) -> LayerName {
    match manager {
        PackageManager::PipRequirements | PackageManager::PipProject => layer_name!("pip"),
        PackageManager::Pipenv => layer_name!("pipenv"),
        PackageManager::Poetry => layer_name!("poetry"),
        PackageManager::Uv => layer_name!("uv"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes() {
        let key = |tool: &str, python: &str| ToolLayerKey {
            tool_version: tool.into(),
            python_version: python.into(),
            stack: "debian 13 amd64".into(),
        };
        assert!(key("26.3", "3.13.5").changes(&key("26.3", "3.13.5")).is_empty());
        assert_eq!(
            key("26.2", "3.13.4").changes(&key("26.3", "3.13.5")),
            ["version 26.2 → 26.3", "Python 3.13.4 → 3.13.5"]
        );
    }
}
