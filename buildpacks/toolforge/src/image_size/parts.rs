//! What the exported image is made of, measured on the build's filesystem.
//!
//! This follows the lifecycle's exporter (v0.21.17, `phase/exporter.go`): on top of the run image
//! it adds each buildpack's launch layers ([`crate::exported`]), then the app directory, then the
//! launcher (`/cnb/lifecycle/launcher`, `platform.DefaultLauncherPath`), its configuration and the
//! process symlinks (a few kilobytes, left out). A launch layer with no directory is reused from
//! the previous image unmeasured.

use crate::exported;
use libtoolforge::disk::apparent_size;
use std::path::{Path, PathBuf};

/// Where the stack records the run image's size in bytes (see stacks/README.md).
pub(crate) const RUN_IMAGE_SIZE_FILE: &str = "/usr/local/lib/toolforge-stack/run-image/size";
/// The lifecycle's launcher, which the exporter adds as a layer of its own.
pub(crate) const LAUNCHER: &str = "/cnb/lifecycle/launcher";

/// One part of the image and its uncompressed size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) name: String,
    pub(crate) size: Size,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Size {
    Bytes(u64),
    /// Not measured, and why.
    Unknown(&'static str),
}

/// Where the parts are found: the build's paths, or a test's.
pub(crate) struct Sources<'a> {
    /// `<layers>`, which holds every buildpack's layers directory and `group.toml`.
    pub(crate) layers_root: &'a Path,
    pub(crate) app_dir: &'a Path,
    pub(crate) run_image_size_file: &'a Path,
    pub(crate) launcher: &'a Path,
}

/// The image's parts in the exporter's order.
pub(crate) fn measure(sources: &Sources) -> Vec<Part> {
    let run_image = std::fs::read_to_string(sources.run_image_size_file)
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map_or(Size::Unknown("the stack does not record it"), Size::Bytes);
    let mut parts = vec![Part {
        name: "run image".to_string(),
        size: run_image,
    }];
    for (id, dir) in buildpack_dirs(sources.layers_root) {
        for (layer, size) in launch_layers(&dir) {
            parts.push(Part {
                name: format!("{id} {layer}"),
                size,
            });
        }
    }
    parts.push(Part {
        name: format!("app ({})", sources.app_dir.display()),
        size: Size::Bytes(apparent_size(sources.app_dir)),
    });
    if let Ok(launcher) = sources.launcher.symlink_metadata() {
        parts.push(Part {
            name: "lifecycle launcher".to_string(),
            size: Size::Bytes(launcher.len()),
        });
    }
    parts
}

/// Each buildpack's id and layers directory, in build order; without a readable `group.toml`, every
/// directory by name.
fn buildpack_dirs(layers_root: &Path) -> Vec<(String, PathBuf)> {
    match exported::read_group(layers_root) {
        Ok(group) => group
            .into_iter()
            .map(|buildpack| {
                let dir = buildpack.layers_dir(layers_root);
                (buildpack.id, dir)
            })
            .collect(),
        Err(_) => exported::guessed_buildpack_dirs(layers_root),
    }
}

/// The launch layers of one buildpack's layers directory, by name, with their sizes.
fn launch_layers(dir: &Path) -> Vec<(String, Size)> {
    exported::launch_layers(dir)
        .unwrap_or_default()
        .into_iter()
        .map(|layer| {
            let size = if layer.present {
                Size::Bytes(apparent_size(&layer.dir))
            } else {
                Size::Unknown("reused from the previous image, not measured")
            };
            (layer.name, size)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn layer(root: &Path, buildpack: &str, name: &str, toml: &str, bytes: usize) {
        let dir = root.join(buildpack);
        fs::create_dir_all(dir.join(name)).unwrap();
        fs::write(dir.join(format!("{name}.toml")), toml).unwrap();
        fs::write(dir.join(name).join("file"), vec![0; bytes]).unwrap();
    }

    const LAUNCH: &str = "[types]\nlaunch = true\ncache = true\n\n[metadata]\nversion = \"1\"\n";

    fn layers_root() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        layer(root, "toolforge_python", "venv", LAUNCH, 300);
        layer(root, "toolforge_python", "python", LAUNCH, 200);
        layer(
            root,
            "toolforge_python",
            "pip-cache",
            "[types]\ncache = true\n",
            999,
        );
        layer(root, "toolforge_python", "uv", "[types]\nbuild = true\n", 999);
        fs::write(root.join("toolforge_python/launch.toml"), "[[processes]]\n").unwrap();
        fs::write(root.join("toolforge_python/store.toml"), "[metadata]\n").unwrap();
        // Kept from the previous image: metadata only.
        fs::write(root.join("toolforge_python/kept.toml"), LAUNCH).unwrap();
        layer(root, "toolforge_apt", "packages", LAUNCH, 100);
        layer(
            root,
            "toolforge_toolforge",
            "environment",
            "[types]\nlaunch = true\n",
            10,
        );
        dir
    }

    fn measured(layers_root: &Path) -> Vec<(String, Size)> {
        let app = tempfile::tempdir().unwrap();
        fs::write(app.path().join("app.py"), vec![0; 50]).unwrap();
        let stack = tempfile::tempdir().unwrap();
        fs::write(stack.path().join("size"), "123456\n").unwrap();
        fs::write(stack.path().join("launcher"), vec![0; 7]).unwrap();
        measure(&Sources {
            layers_root,
            app_dir: app.path(),
            run_image_size_file: &stack.path().join("size"),
            launcher: &stack.path().join("launcher"),
        })
        .into_iter()
        .map(|part| {
            let name = part.name.replace(&app.path().display().to_string(), "/workspace");
            (name, part.size)
        })
        .collect()
    }

    #[test]
    fn the_launch_layers_of_the_group_in_order() {
        let root = layers_root();
        fs::write(
            root.path().join("group.toml"),
            "[[group]]\nid = \"toolforge/apt\"\nversion = \"0.1.0\"\napi = \"0.10\"\n\n\
             [[group]]\nid = \"toolforge/python\"\nversion = \"0.1.0\"\napi = \"0.10\"\n\n\
             [[group]]\nid = \"toolforge/toolforge\"\nversion = \"0.1.0\"\napi = \"0.10\"\n",
        )
        .unwrap();
        let expected = [
            ("run image", Size::Bytes(123_456)),
            ("toolforge/apt packages", Size::Bytes(100)),
            (
                "toolforge/python kept",
                Size::Unknown("reused from the previous image, not measured"),
            ),
            ("toolforge/python python", Size::Bytes(200)),
            ("toolforge/python venv", Size::Bytes(300)),
            ("toolforge/toolforge environment", Size::Bytes(10)),
            ("app (/workspace)", Size::Bytes(50)),
            ("lifecycle launcher", Size::Bytes(7)),
        ];
        let expected: Vec<(String, Size)> = expected
            .into_iter()
            .map(|(name, size)| (name.to_string(), size))
            .collect();
        assert_eq!(measured(root.path()), expected);
        // Without group.toml, the directories by name; the same parts here.
        fs::remove_file(root.path().join("group.toml")).unwrap();
        assert_eq!(measured(root.path()), expected);
    }

    #[test]
    fn a_stack_without_the_size_file() {
        let root = tempfile::tempdir().unwrap();
        let parts = measure(&Sources {
            layers_root: root.path(),
            app_dir: root.path(),
            run_image_size_file: &root.path().join("size"),
            launcher: &root.path().join("launcher"),
        });
        assert_eq!(parts[0].size, Size::Unknown("the stack does not record it"));
        assert_eq!(parts.len(), 2, "{parts:?}");
    }
}
