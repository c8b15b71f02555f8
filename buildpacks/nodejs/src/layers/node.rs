//! The `node` layer: Node.js from the inventory, for build, and for launch when the image needs
//! it at run time.

use crate::NodejsBuildpack;
use crate::errors::NodejsBuildpackError;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use libtoolforge::download::Downloader;
use libtoolforge::inventory::Release;
use libtoolforge::layer::{Cache, LayerKey, cached_layer, change};
use libtoolforge::output::BuildOutput;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The system CA store, which the stack's extra certificate authorities are added to.
const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NodeLayerKey {
    pub(crate) node_version: String,
    /// The archive: another build of the same version (a mirror's own) is another runtime.
    pub(crate) sha256: String,
    pub(crate) stack: String,
}

impl LayerKey for NodeLayerKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self {
            node_version,
            sha256,
            stack,
        } = self;
        [
            change("Node.js", node_version, &current.node_version),
            (node_version == &current.node_version && sha256 != &current.sha256)
                .then(|| "the Node.js archive changed".to_string()),
            change("stack", stack, &current.stack),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Installs the release into the layer unless the cache has it; returns the layer's path
/// (`bin/node` inside).
pub(crate) fn install(
    context: &BuildContext<NodejsBuildpack>,
    output: &mut BuildOutput,
    release: &Release,
    downloader: &Downloader,
    launch: bool,
) -> libcnb::Result<PathBuf, NodejsBuildpackError> {
    let version = release.version.to_string();
    let key = NodeLayerKey {
        node_version: version.clone(),
        sha256: release.sha256.clone(),
        stack: libtoolforge::stack::key(&context.target),
    };
    let (layer, cache) = cached_layer(context, layer_name!("node"), true, launch, &key)?;
    layer.write_env(layer_env(&context.app_dir))?;
    if let Some(line) = cache.describe(&format!("Node.js {version}")) {
        output.detail(&line);
    }
    if cache == Cache::Reused {
        return Ok(layer.path());
    }
    output.detail(&format!(
        "Downloading Node.js {version} from {}",
        downloader.effective_url(&release.url)
    ));
    release
        .install(downloader, &layer.path())
        .map_err(|error| NodejsBuildpackError::Install {
            version: version.clone(),
            error,
        })?;
    output.detail(&format!("Installed Node.js {version}"));
    Ok(layer.path())
}

/// Node.js trusts the system CA store (with the stack's extra authorities) besides its own;
/// at launch, production mode and the app's `node_modules/.bin` on PATH. npm's update check and
/// funding notices are noise in build logs and containers.
pub(crate) fn layer_env(app_dir: &Path) -> LayerEnv {
    LayerEnv::new()
        .chainable_insert(
            Scope::All,
            ModificationBehavior::Default,
            "NODE_EXTRA_CA_CERTS",
            SYSTEM_CA_BUNDLE,
        )
        .chainable_insert(
            Scope::All,
            ModificationBehavior::Default,
            "NPM_CONFIG_UPDATE_NOTIFIER",
            "false",
        )
        .chainable_insert(
            Scope::All,
            ModificationBehavior::Default,
            "NPM_CONFIG_FUND",
            "false",
        )
        .chainable_insert(
            Scope::Launch,
            ModificationBehavior::Default,
            "NODE_ENV",
            "production",
        )
        .chainable_insert(
            Scope::Launch,
            ModificationBehavior::Prepend,
            "PATH",
            app_dir.join("node_modules/.bin"),
        )
        .chainable_insert(Scope::Launch, ModificationBehavior::Delimiter, "PATH", ":")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn environment() {
        let env = layer_env(Path::new("/workspace"));
        let mut base = libcnb::Env::new();
        base.insert("PATH", "/usr/bin");
        let launch = env.apply(Scope::Launch, &base);
        assert_eq!(
            launch.get("PATH"),
            Some(&OsString::from("/workspace/node_modules/.bin:/usr/bin"))
        );
        assert_eq!(launch.get("NODE_ENV"), Some(&OsString::from("production")));
        assert_eq!(
            launch.get("NODE_EXTRA_CA_CERTS"),
            Some(&OsString::from("/etc/ssl/certs/ca-certificates.crt"))
        );
        let build = env.apply(Scope::Build, &base);
        assert_eq!(build.get("NODE_ENV"), None, "npm would skip devDependencies");
        assert_eq!(build.get("PATH"), Some(&OsString::from("/usr/bin")));
    }

    #[test]
    fn changes() {
        let key = |version: &str, sha256: &str| NodeLayerKey {
            node_version: version.into(),
            sha256: sha256.into(),
            stack: "debian 13 amd64".into(),
        };
        assert!(key("24.11.1", "a").changes(&key("24.11.1", "a")).is_empty());
        assert_eq!(
            key("24.11.0", "a").changes(&key("24.11.1", "a")),
            ["Node.js 24.11.0 → 24.11.1"]
        );
        assert_eq!(
            key("24.11.1", "a").changes(&key("24.11.1", "b")),
            ["the Node.js archive changed"]
        );
    }
}
