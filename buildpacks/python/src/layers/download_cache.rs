//! The package manager's download cache (`pip-cache`, `uv-cache`, …): kept across builds and
//! never launched, so that a changed lockfile downloads only what changed.

use crate::PythonBuildpack;
use crate::errors::PythonBuildpackError;
use crate::package_manager::PackageManager;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libtoolforge::layer::{LayerKey, cached_layer};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Caches hold downloads, which any version of the tool can reuse or ignore; nothing
/// invalidates them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DownloadCacheKey {}

impl LayerKey for DownloadCacheKey {
    fn changes(&self, _current: &Self) -> Vec<String> {
        Vec::new()
    }
}

/// The cache directory for `manager`.
pub(crate) fn open(
    context: &BuildContext<PythonBuildpack>,
    manager: PackageManager,
) -> libcnb::Result<PathBuf, PythonBuildpackError> {
    let name = match manager {
        PackageManager::PipRequirements | PackageManager::PipProject => layer_name!("pip-cache"),
        PackageManager::Pipenv => layer_name!("pipenv-cache"),
        PackageManager::Poetry => layer_name!("poetry-cache"),
        PackageManager::Uv => layer_name!("uv-cache"),
    };
    let (layer, _) = cached_layer(context, name, false, false, &DownloadCacheKey {})?;
    Ok(layer.path())
}
