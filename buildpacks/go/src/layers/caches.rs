//! The `modules` and `build-cache` layers: GOMODCACHE and GOCACHE, cached between builds, for
//! the build only. Both are kept while the Go version and the stack (with its native libraries,
//! which cgo links against) are unchanged.

use crate::GoBuildpack;
use crate::errors::GoBuildpackError;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libtoolforge::layer::{LayerKey, cached_layer, change};
use libtoolforge::output::BuildOutput;
use libtoolforge::stack::NativeLibraries;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CacheKey {
    go: String,
    native_libraries: NativeLibraries,
}

impl LayerKey for CacheKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self { go, native_libraries } = self;
        change("Go", go, &current.go)
            .into_iter()
            .chain(native_libraries.changes(&current.native_libraries))
            .collect()
    }
}

/// The module cache and the build cache directories.
pub(crate) fn open(
    context: &BuildContext<GoBuildpack>,
    output: &mut BuildOutput,
    go_version: &str,
) -> libcnb::Result<(PathBuf, PathBuf), GoBuildpackError> {
    let key = CacheKey {
        go: go_version.to_string(),
        native_libraries: NativeLibraries::of(&context.target),
    };
    let (modules, cache) = cached_layer(context, layer_name!("modules"), false, false, &key)?;
    if let Some(line) = cache.describe("the module cache") {
        output.detail(&line);
    }
    let (build_cache, cache) = cached_layer(context, layer_name!("build-cache"), false, false, &key)?;
    if let Some(line) = cache.describe("the build cache") {
        output.detail(&line);
    }
    Ok((modules.path(), build_cache.path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_go_version_is_a_change() {
        let native = NativeLibraries {
            stack: "debian 13 amd64".into(),
            debian_packages: None,
        };
        let key = |go: &str| CacheKey {
            go: go.into(),
            native_libraries: native.clone(),
        };
        assert_eq!(key("1.26.8").changes(&key("1.26.9")), ["Go 1.26.8 → 1.26.9"]);
        assert!(key("1.26.8").changes(&key("1.26.8")).is_empty());
    }
}
