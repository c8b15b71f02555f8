//! The build tools' caches, kept between builds and never in the image: Maven's local
//! repository (`repository`), the Maven wrapper's distributions (`maven-wrapper`, as
//! `MAVEN_USER_HOME`) and Gradle's home (`gradle`: the wrapper's distributions and Gradle's
//! caches). What is in them is addressed by coordinates and checksums, so a kept one changes
//! what the build downloads, not what it makes; each is emptied when the stack changes, the
//! wrappers' when the distribution they name does.

use crate::JavaBuildpack;
use crate::errors::JavaBuildpackError;
use libcnb::build::BuildContext;
use libcnb::data::layer::LayerName;
use libcnb::data::layer_name;
use libtoolforge::layer::{LayerKey, cached_layer, change};
use libtoolforge::output::BuildOutput;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CacheKey {
    stack: String,
    /// The wrapper's `distributionUrl`; empty for the repository.
    distribution: String,
}

impl LayerKey for CacheKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self { stack, distribution } = self;
        change("stack", stack, &current.stack)
            .into_iter()
            .chain(change("distribution", distribution, &current.distribution))
            .collect()
    }
}

/// Maven's local repository.
pub(crate) fn repository(
    context: &BuildContext<JavaBuildpack>,
    output: &mut BuildOutput,
) -> libcnb::Result<PathBuf, JavaBuildpackError> {
    open(
        context,
        output,
        layer_name!("repository"),
        "Maven's repository",
        String::new(),
    )
}

/// The home of the wrapper whose properties (`properties`, relative to the app) name the
/// distribution.
pub(crate) fn wrapper_home(
    context: &BuildContext<JavaBuildpack>,
    output: &mut BuildOutput,
    name: LayerName,
    properties: &str,
) -> libcnb::Result<PathBuf, JavaBuildpackError> {
    let text = std::fs::read_to_string(context.app_dir.join(properties)).unwrap_or_default();
    let distribution = text
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("distributionUrl")?
                .trim_start()
                .strip_prefix('=')
        })
        .unwrap_or_default()
        .trim()
        .to_string();
    open(context, output, name, "the wrapper's distribution", distribution)
}

pub(crate) fn gradle_home(
    context: &BuildContext<JavaBuildpack>,
    output: &mut BuildOutput,
) -> libcnb::Result<PathBuf, JavaBuildpackError> {
    wrapper_home(
        context,
        output,
        layer_name!("gradle"),
        crate::gradle::WRAPPER_PROPERTIES,
    )
}

fn open(
    context: &BuildContext<JavaBuildpack>,
    output: &mut BuildOutput,
    name: LayerName,
    what: &str,
    distribution: String,
) -> libcnb::Result<PathBuf, JavaBuildpackError> {
    let key = CacheKey {
        stack: libtoolforge::stack::key(&context.target),
        distribution,
    };
    let (layer, cache) = cached_layer(context, name, false, false, &key)?;
    if let Some(line) = cache.describe(what) {
        output.detail(&line);
    }
    Ok(layer.path())
}

/// How many files `dir` holds, and their bytes: compared before and after a build, what it
/// downloaded.
pub(crate) fn contents(dir: &Path) -> (usize, u64) {
    let mut files = Vec::new();
    libtoolforge::debian::walk(dir, &mut files);
    let files: Vec<_> = files.iter().filter(|path| path.is_file()).collect();
    (
        files.len(),
        files
            .iter()
            .filter_map(|path| path.metadata().ok())
            .map(|metadata| metadata.len())
            .sum(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_distribution_is_a_change() {
        let key = |distribution: &str| CacheKey {
            stack: "debian 13 amd64".into(),
            distribution: distribution.into(),
        };
        assert_eq!(key("a").changes(&key("b")), ["distribution a → b"]);
        assert!(key("a").changes(&key("a")).is_empty());
    }

    #[test]
    fn counts_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("org/x")).unwrap();
        std::fs::write(dir.path().join("org/x/a.jar"), "12345").unwrap();
        assert_eq!(contents(dir.path()), (1, 5));
    }
}
