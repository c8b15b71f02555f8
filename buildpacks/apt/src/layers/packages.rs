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
        let mut changes = Vec::new();
        let added: Vec<&str> = current
            .requested
            .iter()
            .filter(|package| !requested.contains(package))
            .map(String::as_str)
            .collect();
        let removed: Vec<&str> = requested
            .iter()
            .filter(|package| !current.requested.contains(package))
            .map(String::as_str)
            .collect();
        if !added.is_empty() {
            changes.push(format!("{} added", added.join(", ")));
        }
        if !removed.is_empty() {
            changes.push(format!("{} removed", removed.join(", ")));
        }
        if added.is_empty() && removed.is_empty() {
            // Same request, other versions: the index brought updates.
            let updated: Vec<String> = current
                .resolved
                .iter()
                .filter_map(|(name, version)| {
                    let old = resolved.get(name)?;
                    (old != version).then(|| format!("{name} {old} → {version}"))
                })
                .collect();
            if !updated.is_empty() {
                changes.push(format!("updated {}", updated.join(", ")));
            } else if resolved.keys().ne(current.resolved.keys()) {
                changes.push("the dependencies changed".to_string());
            }
        }
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

/// Unpacks every package, then does what their maintainer scripts would have done that matters
/// in a container: alternatives, and the few generated files programs need.
fn unpack(
    output: &mut BuildOutput,
    layer: &std::path::Path,
    debs: &[PathBuf],
) -> Result<(), AptBuildpackError> {
    let started = Instant::now();
    let mut alternatives = Vec::new();
    for deb in debs {
        debian::extract(deb, layer).map_err(AptBuildpackError::Unpack)?;
        if let Some(script) = debian::maintainer_script(deb, "postinst") {
            alternatives.extend(debian::parse_alternatives(&script));
        }
    }
    debian::remove_documentation(layer);
    let io = |what: &str| {
        let what = what.to_string();
        move |error: debian::AptError| match error {
            debian::AptError::Io { error, .. } => AptBuildpackError::Io { what, error },
            other => AptBuildpackError::Unpack(other),
        }
    };
    let links = debian::apply_alternatives(layer, &alternatives).map_err(io("create alternatives' links"))?;
    let relinked = debian::relink_absolute_symlinks(layer).map_err(io("relink symlinks"))?;
    let pc_files = debian::rewrite_pkg_config(layer).map_err(io("rewrite pkg-config files"))?;
    debian::rewrite_fontconfig(layer).map_err(io("rewrite fontconfig's configuration"))?;
    output.step(&format!(
        "Unpacked {} packages ({})",
        debs.len(),
        format_duration(started.elapsed())
    ));
    for (link, path) in links.iter().filter(|(link, _)| !link.starts_with("/usr/share/")) {
        output.detail(&format!("alternative {link} → {path}"));
    }
    if relinked > 0 || pc_files > 0 {
        output.detail(&format!(
            "{relinked} absolute symlinks and {pc_files} pkg-config files now point into the layer"
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
