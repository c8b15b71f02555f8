//! The `packages` layer (build and launch): the requested packages and every dependency the run
//! image lacks, unpacked with `dpkg-deb -x` and made usable from the layer. Reused, without
//! downloading anything, while the requested packages, the versions apt resolves and the stack
//! are unchanged.

use crate::AptBuildpack;
use crate::errors::AptBuildpackError;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libtoolforge::debian::{self, Apt, Resolved};
use libtoolforge::layer::{Cache, LayerKey, cached_layer, change};
use libtoolforge::output::{BuildOutput, format_duration};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackagesLayerKey {
    /// As the app asks for them (`name` or `name=version`), sorted.
    pub(crate) requested: Vec<String>,
    /// Every package in the layer and its version.
    pub(crate) resolved: BTreeMap<String, String>,
    pub(crate) stack: String,
}

impl LayerKey for PackagesLayerKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self {
            requested,
            resolved,
            stack,
        } = self;
        let mut changes =
            debian::package_changes((requested, resolved), (&current.requested, &current.resolved));
        changes.extend(change("stack", stack, &current.stack));
        changes
    }
}

/// What the layer holds.
pub(crate) struct Installed {
    pub(crate) path: PathBuf,
    pub(crate) bytes: u64,
}

/// Installs `resolved` into the layer unless the cache has exactly them.
pub(crate) fn install(
    context: &BuildContext<AptBuildpack>,
    output: &mut BuildOutput,
    apt: &Apt,
    requested: Vec<String>,
    resolved: &[Resolved],
) -> libcnb::Result<Installed, AptBuildpackError> {
    let key = PackagesLayerKey {
        requested,
        resolved: resolved
            .iter()
            .map(|package| (package.name.clone(), package.version.clone()))
            .collect(),
        stack: libtoolforge::stack::key(&context.target),
    };
    let (layer, cache) = cached_layer(context, layer_name!("packages"), true, true, &key)?;
    let path = layer.path();
    if let Some(line) = cache.describe("packages") {
        output.step(&line);
    }
    if cache != Cache::Reused {
        let started = Instant::now();
        let cached = resolved
            .iter()
            .filter(|package| apt.archive_of(package).is_ok())
            .count();
        output.step(&format!(
            "Downloading {} packages from Debian{}",
            resolved.len() - cached,
            if cached > 0 {
                format!(" ({cached} already in the download cache)")
            } else {
                String::new()
            }
        ));
        let debs = apt.download(resolved).map_err(AptBuildpackError::Download)?;
        let downloaded: u64 = debs
            .iter()
            .filter_map(|deb| std::fs::metadata(deb).ok())
            .map(|metadata| metadata.len())
            .sum();
        output.detail(&format!(
            "{} of packages ({})",
            debian::format_size(downloaded),
            format_duration(started.elapsed())
        ));
        apt.prune_archives(resolved);
        unpack(output, &path, &debs)?;
    }
    layer.write_env(debian::layer_env(&path))?;
    Ok(Installed {
        bytes: debian::disk_usage(&path),
        path,
    })
}

/// Unpacks every package and makes it usable from the layer ([`debian::unpack`]), then builds
/// the files that maintainer scripts would have generated.
fn unpack(
    output: &mut BuildOutput,
    layer: &std::path::Path,
    debs: &[PathBuf],
) -> Result<(), AptBuildpackError> {
    let started = Instant::now();
    let unpacked = debian::unpack(layer, debs).map_err(|error| match error {
        debian::AptError::Io { what, error } => AptBuildpackError::Io { what, error },
        other => AptBuildpackError::Unpack(other),
    })?;
    output.step(&format!(
        "Unpacked {} packages ({})",
        debs.len(),
        format_duration(started.elapsed())
    ));
    for (link, path) in unpacked
        .links
        .iter()
        .filter(|(link, _)| !link.starts_with("/usr/share/"))
    {
        output.detail(&format!("alternative {link} → {path}"));
    }
    if unpacked.relinked > 0 || unpacked.pkg_config_files > 0 {
        output.detail(&format!(
            "{} absolute symlinks and {} pkg-config files now point into the layer",
            unpacked.relinked, unpacked.pkg_config_files
        ));
    }
    for mut command in debian::configure_commands(layer) {
        let description = format!("{}", command.get_program().to_string_lossy());
        // A plugin registry that cannot be written only costs those plugins: warn, go on.
        if let Err(error) = libtoolforge::command::output(&mut command) {
            output.warning(&format!("{description} failed: {error}\n{}", error.output_tail));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(requested: &[&str], resolved: &[(&str, &str)]) -> PackagesLayerKey {
        PackagesLayerKey {
            requested: requested.iter().map(ToString::to_string).collect(),
            resolved: resolved
                .iter()
                .map(|(name, version)| ((*name).to_string(), (*version).to_string()))
                .collect(),
            stack: "debian 13 amd64".into(),
        }
    }

    #[test]
    fn changes() {
        let old = key(&["ffmpeg"], &[("ffmpeg", "7:7.1.4"), ("libavcodec61", "7:7.1.4")]);
        assert!(old.changes(&old.clone()).is_empty());
        assert_eq!(
            old.changes(&key(
                &["ffmpeg"],
                &[("ffmpeg", "7:7.1.5"), ("libavcodec61", "7:7.1.5")]
            )),
            ["updated ffmpeg 7:7.1.4 → 7:7.1.5, libavcodec61 7:7.1.4 → 7:7.1.5"]
        );
        assert_eq!(
            old.changes(&key(&["graphviz"], &[("graphviz", "2.42.4-3")])),
            ["graphviz added", "ffmpeg removed"]
        );
    }
}
