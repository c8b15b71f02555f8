//! The `cache` layer: the package managers' download caches (npm's cache, pnpm's store, Yarn's
//! cache), kept between builds and never in the image.

use crate::NodejsBuildpack;
use crate::errors::NodejsBuildpackError;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libtoolforge::build_env::BuildEnv;
use libtoolforge::layer::{LayerKey, cached_layer, change};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CacheLayerKey {
    pub(crate) stack: String,
}

impl LayerKey for CacheLayerKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self { stack } = self;
        change("stack", stack, &current.stack).into_iter().collect()
    }
}

pub(crate) fn open(context: &BuildContext<NodejsBuildpack>) -> libcnb::Result<PathBuf, NodejsBuildpackError> {
    let key = CacheLayerKey {
        stack: libtoolforge::stack::key(&context.target),
    };
    let (layer, _) = cached_layer(context, layer_name!("cache"), false, false, &key)?;
    Ok(layer.path())
}

/// `program` (`npm`, `pnpm`, `yarn`) in the build environment, with its part of the `cache` layer.
pub(crate) fn command(env: &BuildEnv, cache: &Path, program: &str) -> Command {
    let mut command = env.command(program);
    command.envs(self::env(cache, program));
    command
}

/// The variables that point `program` (`npm`, `pnpm`, `yarn`) at its part of the cache.
fn env(cache: &Path, program: &str) -> Vec<(&'static str, PathBuf)> {
    match program {
        // pnpm reads its settings from npm_config_* too; npm warns about ones it does not know.
        "pnpm" => vec![("npm_config_store_dir", cache.join("pnpm-store"))],
        "yarn" => vec![
            ("YARN_CACHE_FOLDER", cache.join("yarn")),
            ("YARN_ENABLE_GLOBAL_CACHE", PathBuf::from("false")),
        ],
        _ => vec![("npm_config_cache", cache.join("npm"))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_manager_gets_its_own_settings() {
        let cache = Path::new("/layers/toolforge_nodejs/cache");
        let names = |program| {
            env(cache, program)
                .into_iter()
                .map(|(name, _)| name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names("npm"), ["npm_config_cache"]);
        assert_eq!(names("pnpm"), ["npm_config_store_dir"]);
        assert_eq!(names("yarn"), ["YARN_CACHE_FOLDER", "YARN_ENABLE_GLOBAL_CACHE"]);
    }
}
