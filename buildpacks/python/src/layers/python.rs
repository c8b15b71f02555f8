//! The `python` layer: CPython itself, from the inventory, for build and launch.

use crate::PythonBuildpack;
use crate::errors::PythonBuildpackError;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libtoolforge::download::Downloader;
use libtoolforge::inventory::Release;
use libtoolforge::layer::{Cache, LayerKey, cached_layer, change};
use libtoolforge::output::BuildOutput;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PythonLayerKey {
    pub(crate) python_version: String,
    /// The archive: another build of the same version (a mirror's own) is another runtime.
    pub(crate) sha256: String,
    pub(crate) stack: String,
}

impl LayerKey for PythonLayerKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self {
            python_version,
            sha256,
            stack,
        } = self;
        [
            change("Python", python_version, &current.python_version),
            (python_version == &current.python_version && sha256 != &current.sha256)
                .then(|| "the Python archive changed".to_string()),
            change("stack", stack, &current.stack),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Installs the release into the layer unless the cache has it; returns the layer's path
/// (`bin/python3` inside).
pub(crate) fn install(
    context: &BuildContext<PythonBuildpack>,
    output: &mut BuildOutput,
    release: &Release,
    downloader: &Downloader,
) -> libcnb::Result<PathBuf, PythonBuildpackError> {
    let version = release.version.to_string();
    let key = PythonLayerKey {
        python_version: version.clone(),
        sha256: release.sha256.clone(),
        stack: libtoolforge::stack::key(&context.target),
    };
    let (layer, cache) = cached_layer(context, layer_name!("python"), true, true, &key)?;
    if let Some(line) = cache.describe(&format!("Python {version}")) {
        output.detail(&line);
    }
    if cache == Cache::Reused {
        return Ok(layer.path());
    }

    output.detail(&format!(
        "Downloading Python {version} from {}",
        downloader.effective_url(&release.url)
    ));
    release
        .install(downloader, &layer.path())
        .map_err(|error| PythonBuildpackError::Install {
            version: version.clone(),
            error,
        })?;
    output.detail(&format!("Installed Python {version}"));
    Ok(layer.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(version: &str, sha256: &str) -> PythonLayerKey {
        PythonLayerKey {
            python_version: version.into(),
            sha256: sha256.into(),
            stack: "debian 13 amd64".into(),
        }
    }

    #[test]
    fn changes() {
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
    }
}
