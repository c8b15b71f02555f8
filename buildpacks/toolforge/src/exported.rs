//! What the lifecycle's exporter puts in the image from the layers (v0.21.17, `phase/exporter.go`
//! and `buildpack/layers.go`): for each buildpack of the group in order (`<layers>/group.toml`,
//! `[[group]]`, the platform default `platform.DefaultGroupFile`), every layer of
//! `<layers>/<id with / as _>/` whose `<name>.toml` has `[types] launch = true`
//! (`buildpack.MadeLaunch`), sorted by name, except `launch.toml`, `build.toml` and `store.toml`.
//! A launch layer with no directory is kept from the previous image. The CNB buildpack spec
//! (Buildpack API 0.10, "Layer Types") is what makes `launch = true` layers the image's.

use serde::{Deserialize, Serialize};
use std::io;
use std::path::{Path, PathBuf};

/// A buildpack as group.toml and the image's metadata.toml list it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct GroupBuildpack {
    pub(crate) id: String,
    pub(crate) version: String,
    pub(crate) api: String,
}

impl GroupBuildpack {
    /// `<layers>/<id with / as _>`, this buildpack's layers directory.
    pub(crate) fn layers_dir(&self, layers_root: &Path) -> PathBuf {
        layers_root.join(escaped(&self.id))
    }
}

/// `<layers>/group.toml`, the detector's output: the buildpacks of the build, in order.
#[derive(Deserialize)]
struct GroupToml {
    #[serde(default)]
    group: Vec<GroupBuildpack>,
}

/// The buildpacks of the build, in order, from `<layers_root>/group.toml`; why not, when it
/// cannot be read.
pub(crate) fn read_group(layers_root: &Path) -> Result<Vec<GroupBuildpack>, String> {
    let path = layers_root.join("group.toml");
    let cannot_read = |error: &dyn std::fmt::Display| format!("cannot read {}: {error}", path.display());
    let text = std::fs::read_to_string(&path).map_err(|error| cannot_read(&error))?;
    let group: GroupToml = toml::from_str(&text).map_err(|error| cannot_read(&error))?;
    Ok(group.group)
}

/// When group.toml cannot be read: every directory of `layers_root` by name, with its id guessed
/// by unescaping (`toolforge_python` → `toolforge/python`).
pub(crate) fn guessed_buildpack_dirs(layers_root: &Path) -> Vec<(String, PathBuf)> {
    let mut dirs: Vec<(String, PathBuf)> = std::fs::read_dir(layers_root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .map(|entry| {
            (
                entry.file_name().to_string_lossy().replace('_', "/"),
                entry.path(),
            )
        })
        .collect();
    dirs.sort();
    dirs
}

/// The lifecycle's name for a buildpack's directory (`toolforge/python` → `toolforge_python`).
pub(crate) fn escaped(id: &str) -> String {
    id.replace('/', "_")
}

/// A layer the image will have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LaunchLayer {
    pub(crate) name: String,
    /// `<buildpack's layers dir>/<name>`.
    pub(crate) dir: PathBuf,
    /// Whether `dir` is here: a launch-only layer kept from the previous image is not.
    pub(crate) present: bool,
}

/// The launch layers of one buildpack's layers directory (none when it does not exist), by name.
pub(crate) fn launch_layers(buildpack_layers_dir: &Path) -> io::Result<Vec<LaunchLayer>> {
    let entries = match std::fs::read_dir(buildpack_layers_dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut layers = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path.file_stem().and_then(|stem| stem.to_str()) else {
            continue;
        };
        let is_toml = path.extension().is_some_and(|extension| extension == "toml");
        if is_toml && !["launch", "build", "store"].contains(&name) && is_launch_layer(&path) {
            let dir = buildpack_layers_dir.join(name);
            layers.push(LaunchLayer {
                name: name.to_string(),
                present: dir.is_dir(),
                dir,
            });
        }
    }
    layers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(layers)
}

fn is_launch_layer(layer_toml: &Path) -> bool {
    std::fs::read_to_string(layer_toml)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| table.get("types")?.get("launch")?.as_bool())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn launch_layers_by_name_with_the_kept_ones_absent() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("toolforge_python");
        for (name, toml) in [
            ("venv", "[types]\nlaunch = true\ncache = true\n"),
            ("python", "[types]\nlaunch = true\n"),
            ("uv", "[types]\nbuild = true\n"),
            ("odd", "[types]\nlaunch = \"yes\"\n"),
        ] {
            fs::create_dir_all(dir.join(name)).unwrap();
            fs::write(dir.join(format!("{name}.toml")), toml).unwrap();
        }
        fs::write(dir.join("kept.toml"), "[types]\nlaunch = true\n").unwrap();
        fs::write(dir.join("launch.toml"), "[types]\nlaunch = true\n").unwrap();
        let layers = launch_layers(&dir).unwrap();
        let found: Vec<(&str, bool)> = layers
            .iter()
            .map(|layer| (layer.name.as_str(), layer.present))
            .collect();
        assert_eq!(found, [("kept", false), ("python", true), ("venv", true)]);
        assert_eq!(layers[2].dir, dir.join("venv"));
        assert_eq!(launch_layers(&root.path().join("missing")).unwrap(), []);
    }

    #[test]
    fn the_group_or_why_not() {
        let root = tempfile::tempdir().unwrap();
        let error = read_group(root.path()).unwrap_err();
        assert!(error.starts_with("cannot read "), "{error}");
        fs::write(
            root.path().join("group.toml"),
            "[[group]]\nid = \"toolforge/python\"\nversion = \"0.1.0\"\napi = \"0.10\"\n",
        )
        .unwrap();
        let group = read_group(root.path()).unwrap();
        assert_eq!(group[0].api, "0.10");
        assert_eq!(
            group[0].layers_dir(root.path()),
            root.path().join("toolforge_python")
        );
    }
}
