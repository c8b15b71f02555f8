//! The `apt-state` layer (cache only): apt's package index and the downloaded .deb files, so that
//! a rebuild needs no network. The index is refreshed when the package list changes (a new
//! package must be found in a current index) or is older than a week (security updates), not on
//! every build.

use crate::AptBuildpack;
use crate::errors::AptBuildpackError;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libtoolforge::debian::{Apt, PackageSpec, RUN_IMAGE_STATUS, Resolved};
use libtoolforge::layer::{LayerKey, cached_layer, change};
use libtoolforge::output::BuildOutput;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long an index is used before it is refreshed anyway.
const MAX_INDEX_AGE: Duration = Duration::from_hours(7 * 24);
/// In the layer: the package list the index was last refreshed for.
const REFRESHED_FOR: &str = "refreshed-for.txt";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AptStateKey {
    /// Another stack has other sources and another run image.
    pub(crate) stack: String,
}

impl LayerKey for AptStateKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self { stack } = self;
        change("stack", stack, &current.stack).into_iter().collect()
    }
}

/// In the layer: what apt resolved for that list with that index, so that an unchanged list
/// with an unchanged index needs no apt run at all.
const RESOLUTION: &str = "resolution.toml";

/// What apt resolved, and which requested package pulled in each package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Resolution {
    pub(crate) packages: Vec<Resolved>,
    pub(crate) pulled_in_by: BTreeMap<String, String>,
}

pub(crate) struct AptState {
    pub(crate) apt: Apt,
    dir: PathBuf,
    /// The resolution of the same list against the same index, from an earlier build.
    pub(crate) cached: Option<Resolution>,
}

impl AptState {
    /// Keeps `resolution` for the next build with the same list and index.
    pub(crate) fn save(&self, resolution: &Resolution) {
        // Only an optimisation: without it the next build asks apt again.
        if let Ok(text) = toml::to_string(resolution) {
            let _ = std::fs::write(self.dir.join(RESOLUTION), text);
        }
    }
}

/// Opens the layer and refreshes the index when it must; returns apt set up to use it.
pub(crate) fn open(
    context: &BuildContext<AptBuildpack>,
    output: &mut BuildOutput,
    packages: &[PackageSpec],
) -> libcnb::Result<AptState, AptBuildpackError> {
    let key = AptStateKey {
        stack: libtoolforge::stack::key(&context.target),
    };
    let (layer, _) = cached_layer(context, layer_name!("apt-state"), false, false, &key)?;
    let dir = layer.path();
    let apt = Apt::new(&dir, Path::new(RUN_IMAGE_STATUS)).map_err(AptBuildpackError::Update)?;
    let wanted = request_text(packages);
    let cached = if let Some(reason) = refresh_reason(&dir, &wanted) {
        output.step(&format!("Refreshing the Debian package index ({reason})"));
        let _ = std::fs::remove_file(dir.join(RESOLUTION));
        apt.update().map_err(AptBuildpackError::Update)?;
        std::fs::write(dir.join(REFRESHED_FOR), &wanted).map_err(|error| AptBuildpackError::Io {
            what: "record the package index's refresh".to_string(),
            error,
        })?;
        None
    } else {
        output.step("Using the cached Debian package index (the package list is unchanged)");
        std::fs::read_to_string(dir.join(RESOLUTION))
            .ok()
            .and_then(|text| toml::from_str(&text).ok())
    };
    Ok(AptState { apt, dir, cached })
}

fn request_text(packages: &[PackageSpec]) -> String {
    let mut names: Vec<String> = packages.iter().map(ToString::to_string).collect();
    names.sort();
    names.join("\n") + "\n"
}

/// Why the index must be refreshed, or `None`.
fn refresh_reason(dir: &Path, wanted: &str) -> Option<&'static str> {
    let record = dir.join(REFRESHED_FOR);
    let Ok(previous) = std::fs::read_to_string(&record) else {
        return Some("first build");
    };
    let has_lists = std::fs::read_dir(dir.join("lists"))
        .is_ok_and(|entries| entries.filter_map(Result::ok).any(|entry| entry.path().is_file()));
    if !has_lists {
        return Some("no cached index");
    }
    if previous != wanted {
        return Some("the package list changed");
    }
    let age = std::fs::metadata(&record)
        .and_then(|metadata| metadata.modified())
        .ok()
        .and_then(|modified| SystemTime::now().duration_since(modified).ok());
    if age.is_none_or(|age| age > MAX_INDEX_AGE) {
        return Some("the cached index is more than a week old");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_round_trip() {
        let resolution = Resolution {
            packages: vec![
                Resolved {
                    name: "make".into(),
                    version: "4.4.1-2".into(),
                    replaces: None,
                },
                Resolved {
                    name: "libc6".into(),
                    version: "2.41-12+deb13u1".into(),
                    replaces: Some("2.41-12".into()),
                },
            ],
            pulled_in_by: [("libc6".to_string(), "make".to_string())].into(),
        };
        let text = toml::to_string(&resolution).unwrap();
        assert_eq!(toml::from_str::<Resolution>(&text).unwrap(), resolution);
    }

    #[test]
    fn refreshes_for_a_changed_list() {
        let dir = tempfile::tempdir().unwrap();
        let list = request_text(&[PackageSpec::parse("make").unwrap()]);
        assert_eq!(refresh_reason(dir.path(), &list), Some("first build"));
        std::fs::write(dir.path().join(REFRESHED_FOR), &list).unwrap();
        assert_eq!(refresh_reason(dir.path(), &list), Some("no cached index"));
        std::fs::create_dir_all(dir.path().join("lists")).unwrap();
        std::fs::write(dir.path().join("lists/deb.debian.org_InRelease"), "").unwrap();
        assert_eq!(refresh_reason(dir.path(), &list), None);
        let other = request_text(&[PackageSpec::parse("ffmpeg").unwrap()]);
        assert_eq!(
            refresh_reason(dir.path(), &other),
            Some("the package list changed")
        );
    }
}
