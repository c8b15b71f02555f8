//! Launch layers kept from the previous image by their metadata, without their files.
//!
//! Toolforge builds with an empty cache directory every time, so a cached layer is never
//! restored there. The previous app image still has every launch layer, though, and for a
//! layer that was `launch = true`, `build = false`, `cache = false` the lifecycle's restorer
//! writes `<layers>/<buildpack>/<layer>.toml` with the metadata the layer was exported with,
//! and no directory ([Layer Types in the buildpack spec]; the lifecycle's
//! [`restoreLayerMetadata`], which skips `build = true, cache = false` layers and `cache = true`
//! layers missing from the cache). When the buildpack then leaves that TOML with
//! `[types] launch = true` and creates no directory, the exporter puts the previous image's layer
//! in the new image as it is ("Reusing layer"): nothing is downloaded or installed.
//!
//! The types a layer is written with at the end of a build are what the image records, and so
//! what the next build can get back: a layer meant to be reused this way must be exported
//! launch-only ([`LAUNCH_ONLY`]), every time, including the build that makes it. Later
//! buildpacks and build steps then do not get it in their environment, so a buildpack uses it
//! only when nothing later in the build needs the layer's files ([`later_steps_need_layers`]),
//! and runs what it needs itself with explicit paths. A reused layer is the very layer a build
//! with the same key made, so the key must name everything that shaped it, as
//! [`crate::layer::cached_layer`]'s do; and nothing in it may depend on the app's code.
//!
//! libcnb does not support this case (its `read_layer` deletes a layer TOML without a
//! directory), so this module reads and writes the TOML itself.
//!
//! [Layer Types in the buildpack spec]: https://github.com/buildpacks/spec/blob/main/buildpack.md#layer-types
//! [`restoreLayerMetadata`]: https://github.com/buildpacks/lifecycle/blob/v0.21.17/internal/layer/metadata_restorer.go#L90

use crate::layer::LayerKey;
use libcnb::data::layer::LayerName;
use libcnb::data::layer_content_metadata::{LayerContentMetadata, LayerTypes};
use std::path::Path;

/// The types of a layer the next build can keep from this build's image.
pub const LAUNCH_ONLY: LayerTypes = LayerTypes {
    launch: true,
    build: false,
    cache: false,
};

/// What the restorer left for a layer before the buildpack touched it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored<K> {
    /// The layer's metadata as `K`: `None` when there is no TOML, or its metadata is not a `K`
    /// (an older buildpack's).
    pub key: Option<K>,
    /// Whether `<layer>/` is here (restored from a cache).
    pub has_files: bool,
}

impl<K: LayerKey> Restored<K> {
    /// Reads `<layers_dir>/<name>.toml` and whether `<layers_dir>/<name>/` exists.
    #[must_use]
    pub fn read(layers_dir: &Path, name: &LayerName) -> Self {
        let key = std::fs::read_to_string(layers_dir.join(format!("{name}.toml")))
            .ok()
            .and_then(|text| toml::from_str::<LayerContentMetadata<K>>(&text).ok())
            .map(|content| content.metadata);
        Self {
            key,
            has_files: layers_dir.join(name.as_str()).is_dir(),
        }
    }
}

/// Whether a launch layer is kept from the previous image or made in this build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The previous image's layer was made for this key, and the build does not need its files.
    KeepFromPreviousImage,
    /// Made in this build: the reasons the previous image's layer cannot be kept, in words
    /// (empty when the previous image had none, as for a first build).
    Make(Vec<String>),
}

/// Keeps the previous image's layer when it was made for `key` and the build does not need its
/// files (`needed_at_build`); with its files restored (from a cache) it is made again: this
/// module's layers are never cached, so such files belong to another kind of layer.
#[must_use]
pub fn decide<K: LayerKey>(restored: &Restored<K>, key: &K, needed_at_build: bool) -> Decision {
    match &restored.key {
        None => Decision::Make(Vec::new()),
        Some(previous) => {
            let changes = previous.changes(key);
            if !changes.is_empty() {
                Decision::Make(changes)
            } else if needed_at_build || restored.has_files {
                Decision::Make(Vec::new())
            } else {
                Decision::KeepFromPreviousImage
            }
        }
    }
}

/// Leaves `<layers_dir>/<name>.toml` as the exporter needs it to reuse the previous image's
/// layer: [`LAUNCH_ONLY`] with `key` as its metadata, and no directory.
///
/// # Errors
///
/// When the TOML cannot be written, or a directory there cannot be removed.
pub fn keep_from_previous_image<K: LayerKey>(
    layers_dir: &Path,
    name: &LayerName,
    key: &K,
) -> std::io::Result<()> {
    let dir = layers_dir.join(name.as_str());
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let content = LayerContentMetadata {
        types: Some(LAUNCH_ONLY),
        metadata: key.clone(),
    };
    let text = toml::to_string(&content).map_err(std::io::Error::other)?;
    std::fs::write(layers_dir.join(format!("{name}.toml")), text)
}

/// Whether something after the language buildpacks needs their layers' files at build time:
/// the app's build steps (`[[org.toolforge.build.steps]]` in project.toml) run with the earlier
/// buildpacks' build environment. True when project.toml cannot be read (the build then fails
/// later, saying why).
#[must_use]
pub fn later_steps_need_layers(app_dir: &Path) -> bool {
    match crate::project_toml::ProjectToml::read(app_dir) {
        Ok(None) => false,
        Ok(Some(project)) => project.has_table(&["org", "toolforge", "build", "steps"]),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::change;
    use libcnb::data::layer_name;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Key {
        version: String,
    }

    impl LayerKey for Key {
        fn changes(&self, current: &Self) -> Vec<String> {
            let Self { version } = self;
            change("version", version, &current.version).into_iter().collect()
        }
    }

    fn key(version: &str) -> Key {
        Key {
            version: version.into(),
        }
    }

    #[test]
    fn reads_what_the_restorer_left() {
        let dir = tempfile::tempdir().unwrap();
        let name = layer_name!("runtime");
        assert_eq!(
            Restored::<Key>::read(dir.path(), &name),
            Restored {
                key: None,
                has_files: false
            }
        );
        // As the restorer writes it: metadata, no types, no directory.
        std::fs::write(dir.path().join("runtime.toml"), "[metadata]\nversion = \"1.2\"\n").unwrap();
        assert_eq!(
            Restored::read(dir.path(), &name),
            Restored {
                key: Some(key("1.2")),
                has_files: false
            }
        );
        std::fs::create_dir(dir.path().join("runtime")).unwrap();
        assert!(Restored::<Key>::read(dir.path(), &name).has_files);
        // An older buildpack's metadata is no key.
        std::fs::write(dir.path().join("runtime.toml"), "[metadata]\nother = 1\n").unwrap();
        assert_eq!(Restored::<Key>::read(dir.path(), &name).key, None);
    }

    #[test]
    fn keeps_only_an_unchanged_layer_nothing_needs() {
        let restored = |version: Option<&str>, has_files| Restored {
            key: version.map(key),
            has_files,
        };
        assert_eq!(
            decide(&restored(Some("1.2"), false), &key("1.2"), false),
            Decision::KeepFromPreviousImage
        );
        assert_eq!(
            decide(&restored(Some("1.1"), false), &key("1.2"), false),
            Decision::Make(vec!["version 1.1 → 1.2".into()])
        );
        assert_eq!(
            decide(&restored(Some("1.2"), false), &key("1.2"), true),
            Decision::Make(Vec::new())
        );
        assert_eq!(
            decide(&restored(Some("1.2"), true), &key("1.2"), false),
            Decision::Make(Vec::new())
        );
        assert_eq!(
            decide(&restored(None, false), &key("1.2"), false),
            Decision::Make(Vec::new())
        );
    }

    #[test]
    fn writes_a_launch_only_layer_without_files() {
        let dir = tempfile::tempdir().unwrap();
        let name = layer_name!("runtime");
        std::fs::create_dir_all(dir.path().join("runtime/bin")).unwrap();
        keep_from_previous_image(dir.path(), &name, &key("1.2")).unwrap();
        assert!(!dir.path().join("runtime").exists());
        let written: toml::Table =
            toml::from_str(&std::fs::read_to_string(dir.path().join("runtime.toml")).unwrap()).unwrap();
        assert_eq!(
            written.to_string(),
            "[metadata]\nversion = \"1.2\"\n\n[types]\nbuild = false\ncache = false\nlaunch = true\n"
        );
        assert_eq!(
            Restored::read(dir.path(), &name),
            Restored {
                key: Some(key("1.2")),
                has_files: false
            }
        );
    }

    #[test]
    fn build_steps_need_the_layers() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!later_steps_need_layers(dir.path()));
        std::fs::write(dir.path().join("project.toml"), "[_]\nschema-version = \"0.2\"\n").unwrap();
        assert!(!later_steps_need_layers(dir.path()));
        std::fs::write(
            dir.path().join("project.toml"),
            "[[io.buildpacks.group]]\nuri = \"x\"\n\n[[org.toolforge.build.steps]]\nname = \"assets\"\nrun = \"make\"\n",
        )
        .unwrap();
        assert!(later_steps_need_layers(dir.path()));
        std::fs::write(dir.path().join("project.toml"), "not toml [").unwrap();
        assert!(later_steps_need_layers(dir.path()));
    }
}
