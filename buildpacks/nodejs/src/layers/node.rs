//! The `node` layer: Node.js from the inventory, for build, and for launch when the image needs
//! it at run time; launch-only when the build needs it only to install `node_modules` into a
//! launch-only layer (see [`crate::layers::node_modules::in_launch_layer`]), so that the next
//! build can keep both from this build's image.

use crate::NodejsBuildpack;
use crate::app::App;
use crate::errors::NodejsBuildpackError;
use crate::node_version;
use libcnb::Platform;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use libtoolforge::build_env::SYSTEM_CA_BUNDLE;
use libtoolforge::download::Downloader;
use libtoolforge::error::IoError;
use libtoolforge::inventory::Release;
use libtoolforge::output::BuildOutput;
use libtoolforge::runtime::Runtime;
use std::path::{Path, PathBuf};

/// Node.js from nodejs.org's releases, or an operator's (or the tests') inventory by URL.
pub(crate) fn runtime() -> Runtime {
    Runtime {
        name: "Node.js",
        layer: layer_name!("node"),
        built_in_inventory: include_str!("../../inventory.toml"),
        inventory_url_env: "BP_NODEJS_INVENTORY_URL",
        version_group: |version| format!("{}.x", version.major),
        how_to_pin: "pin a range in package.json's engines.node",
        // Documentation; the headers (include/) stay: node-gyp compiles native modules with them.
        leave_out: &["CHANGELOG.md", "README.md", "share/doc", "share/man"],
        executables: &[],
    }
}

/// The Node.js release the app gets, said in the build log, with a warning past its end of life.
pub(crate) fn choose(
    context: &BuildContext<NodejsBuildpack>,
    output: &mut BuildOutput,
    app: &App,
    downloader: &Downloader,
) -> Result<Release, NodejsBuildpackError> {
    let today = node_version::today();
    let request = app.node_request(&today)?;
    let release = runtime().choose(context.platform.env(), downloader, &request, output)?;
    if let Some(end) = node_version::schedule().ended(release.version.major, &today) {
        output.warning(&format!(
            "Node.js {} reached its end of life on {end}: it gets no security fixes.\nAsk for a \
             supported major in {}, for example `24.x`.",
            release.version.major,
            request
                .origin
                .as_ref()
                .map_or("package.json's engines.node", |origin| origin.file.as_str())
        ));
    }
    Ok(release)
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
    let layer = runtime().install(context, output, release, downloader, launch)?;
    let env = layer_env(&context.app_dir);
    // Without Node.js in the image nothing runs its packages there: the last buildpack removes
    // them from the app, after the ones between (collectstatic) have used them.
    layer.write_env(if launch {
        env
    } else {
        libtoolforge::build_only::declare(env, "node_modules")
    })?;
    Ok(layer.path())
}

/// Installs the release into a launch-only layer, never cached, with the same environment at
/// launch as [`install`]'s; returns the layer's path.
pub(crate) fn install_launch_only(
    context: &BuildContext<NodejsBuildpack>,
    output: &mut BuildOutput,
    release: &Release,
    downloader: &Downloader,
) -> libcnb::Result<PathBuf, NodejsBuildpackError> {
    let path = runtime().install_launch_only(context, output, release, downloader)?;
    layer_env(&context.app_dir)
        .write_to_layer_dir(&path)
        .map_err(|error| {
            NodejsBuildpackError::Io(IoError::new("write the node layer's environment", error))
        })?;
    Ok(path)
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
    use libtoolforge::inventory::Inventory;
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
    fn built_in_inventory_has_current_majors() {
        let inventory = Inventory::parse(runtime().built_in_inventory, "inventory.toml", None).unwrap();
        for major in [20, 22, 24, 26] {
            let release = inventory
                .newest_matching(|version| version.major == major)
                .unwrap_or_else(|| panic!("no Node.js {major}"));
            assert!(release.url.starts_with("https://nodejs.org/download/release/"));
        }
    }
}
