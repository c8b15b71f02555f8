//! The package manager's download cache (`pip-cache`, `uv-cache`, …): kept across builds and
//! never launched, so that a changed lockfile downloads only what changed.

use crate::PythonBuildpack;
use crate::errors::PythonBuildpackError;
use crate::package_manager::PackageManager;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libtoolforge::layer::{LayerKey, cached_layer};
use libtoolforge::stack::NativeLibraries;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Caches hold downloads, which any version of the tool can reuse or ignore, and the wheels the
/// tool built from source distributions, which are only good for what they were compiled against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DownloadCacheKey {
    native_libraries: NativeLibraries,
}

impl LayerKey for DownloadCacheKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self { native_libraries } = self;
        native_libraries.changes(&current.native_libraries)
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
    let key = DownloadCacheKey {
        native_libraries: NativeLibraries::of(&context.target),
    };
    let (layer, _) = cached_layer(context, name, false, false, &key)?;
    Ok(layer.path())
}
