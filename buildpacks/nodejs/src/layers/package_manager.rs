//! The `package_manager` layer: the exact pnpm, Yarn or npm version the app uses, installed from
//! the npm registry with the Node.js of the `node` layer. Not needed for npm as bundled.

use crate::NodejsBuildpack;
use crate::errors::{NodejsBuildpackError, Step};
use crate::package_manager::Manager;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libtoolforge::build_env::BuildEnv;
use libtoolforge::layer::{Cache, LayerKey, cached_layer, change};
use libtoolforge::output::BuildOutput;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackageManagerLayerKey {
    /// `pnpm@10.34.8`.
    pub(crate) package: String,
    pub(crate) node_version: String,
    pub(crate) stack: String,
}

impl LayerKey for PackageManagerLayerKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self {
            package,
            node_version,
            stack,
        } = self;
        [
            change("package manager", package, &current.package),
            change("Node.js", node_version, &current.node_version),
            change("stack", stack, &current.stack),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Installs `manager` at `version` unless the cache has it; returns its `bin` directory.
pub(crate) fn install(
    context: &BuildContext<NodejsBuildpack>,
    output: &mut BuildOutput,
    (manager, version): (Manager, &str),
    (node_version, launch): (&str, bool),
    (env, download_cache): (&BuildEnv, &Path),
) -> libcnb::Result<PathBuf, NodejsBuildpackError> {
    let package = format!("{}@{version}", manager.package());
    let key = PackageManagerLayerKey {
        package: package.clone(),
        node_version: node_version.to_string(),
        stack: libtoolforge::stack::key(&context.target),
    };
    let (layer, cache) = cached_layer(context, layer_name!("package_manager"), true, launch, &key)?;
    let bin = layer.path().join("bin");
    if let Some(line) = cache.describe(&format!("{manager} {version}")) {
        output.detail(&line);
    }
    if cache == Cache::Reused {
        return Ok(bin);
    }
    output.detail(&format!("Installing {package}"));
    libtoolforge::command::run_streamed(
        super::cache::command(env, download_cache, "npm")
            .args(["install", "--global", "--no-audit", "--no-fund", "--prefix"])
            .arg(layer.path())
            .arg(&package),
    )
    .map_err(|error| NodejsBuildpackError::Command {
        step: Step::InstallManager {
            manager,
            version: version.to_string(),
        },
        error,
    })?;
    Ok(bin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes() {
        let key = |package: &str| PackageManagerLayerKey {
            package: package.into(),
            node_version: "24.11.1".into(),
            stack: "debian 13 amd64".into(),
        };
        assert!(key("pnpm@10.34.8").changes(&key("pnpm@10.34.8")).is_empty());
        assert_eq!(
            key("pnpm@10.34.7").changes(&key("pnpm@10.34.8")),
            ["package manager pnpm@10.34.7 → pnpm@10.34.8"]
        );
    }
}
