//! The `apt-state` layer (cache only) that buildpacks installing Debian packages share the shape
//! of: apt's package index and the downloaded .deb files, so that a rebuild needs no network.
//! The index is refreshed when the package list changes (a new package must be found in a current
//! index) or is older than a week (security updates), not on every build. The resolution of the
//! last list is kept too, so that an unchanged list with an unchanged index needs no apt run.

use crate::debian::{Apt, AptError, PackageSpec};
use crate::debian_layer::PackagesError;
use crate::layer::{LayerKey, cached_layer, change};
use crate::output::BuildOutput;
use libcnb::Buildpack;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long an index is used before it is refreshed anyway.
const MAX_INDEX_AGE: Duration = Duration::from_hours(7 * 24);
/// In the layer: the package list the index was last refreshed for.
const REFRESHED_FOR: &str = "refreshed-for.txt";
/// In the layer: what the buildpack made of that list with that index (its resolution). Named
/// anew when what a resolution may hold changes, so that no older one is reused: before `-2`,
/// one could hold the run image's C library ([`crate::debian::RUN_IMAGE_C_LIBRARY`]).
const RESOLUTION: &str = "resolution-2.toml";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AptStateKey {
    /// Another stack has other sources and another run image.
    pub stack: String,
}

impl LayerKey for AptStateKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self { stack } = self;
        change("stack", stack, &current.stack).into_iter().collect()
    }
}

/// apt set up on the layer, and the resolution kept from an earlier build of the same list
/// against the same index, if any.
pub struct AptState<R> {
    pub apt: Apt,
    dir: PathBuf,
    pub cached: Option<R>,
}

impl<R: Serialize + DeserializeOwned> AptState<R> {
    /// Keeps `resolution` for the next build with the same list and index.
    pub fn save(&self, resolution: &R) {
        // Only an optimisation: without it the next build asks apt again.
        if let Ok(text) = toml::to_string(resolution) {
            let _ = std::fs::write(self.dir.join(RESOLUTION), text);
        }
    }

    /// The layer's directory (for files derived from the index, such as a status with stubs).
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Opens the layer and refreshes the index when it must; returns apt set up to use it,
/// resolving against the dpkg status file `status`.
///
/// # Errors
///
/// libcnb's layer errors; apt failing to refresh the index ([`PackagesError::Update`]).
pub fn open<B, R>(
    context: &BuildContext<B>,
    output: &mut BuildOutput,
    packages: &[PackageSpec],
    status: &Path,
) -> libcnb::Result<AptState<R>, B::Error>
where
    B: Buildpack,
    B::Error: From<PackagesError>,
    R: DeserializeOwned,
{
    let key = AptStateKey {
        stack: crate::stack::key(&context.target),
    };
    let (layer, _) = cached_layer(context, layer_name!("apt-state"), false, false, &key)?;
    let dir = layer.path();
    let apt = Apt::new(&dir, status)
        .map_err(|error| libcnb::Error::BuildpackError(B::Error::from(PackagesError::Update(error))))?;
    let wanted = request_text(packages);
    let cached = if let Some(reason) = refresh_reason(&dir, &wanted) {
        output.step(&format!("Refreshing the Debian package index ({reason})"));
        let _ = std::fs::remove_file(dir.join(RESOLUTION));
        apt.update()
            .map_err(|error| libcnb::Error::BuildpackError(B::Error::from(PackagesError::Update(error))))?;
        std::fs::write(dir.join(REFRESHED_FOR), &wanted)
            .map_err(|error| AptError::Io {
                what: "record the package index's refresh".to_string(),
                error,
            })
            .map_err(|error| libcnb::Error::BuildpackError(B::Error::from(PackagesError::Update(error))))?;
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
