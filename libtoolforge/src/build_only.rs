//! App files that only the build needs: a front end's dependencies when their runtime is not in
//! the image. The buildpack that makes them declares them in its layer's build environment
//! ([`declare`]); the last buildpack of the group removes them from the app directory
//! ([`remove_declared`]), so they are not in the image's app layer. Buildpacks between the two
//! still see them (Django's `collectstatic` collecting from `node_modules`), which is why the
//! buildpack that makes them cannot remove them itself.

use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

/// The build-time variable that lists the declared paths, relative to the app directory,
/// separated by `:`.
pub const BUILD_ONLY_APP_PATHS: &str = "TOOLFORGE_BUILD_ONLY_APP_PATHS";

/// `env` with `relative` (a path under the app directory) declared build-only.
#[must_use]
pub fn declare(env: LayerEnv, relative: &str) -> LayerEnv {
    env.chainable_insert(
        Scope::Build,
        ModificationBehavior::Append,
        BUILD_ONLY_APP_PATHS,
        relative,
    )
    .chainable_insert(
        Scope::Build,
        ModificationBehavior::Delimiter,
        BUILD_ONLY_APP_PATHS,
        ":",
    )
}

/// A declared path that was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    /// Relative to the app directory.
    pub path: PathBuf,
    /// What it would have added to the image.
    pub bytes: u64,
}

/// Removes the paths `declared` (the value of [`BUILD_ONLY_APP_PATHS`]) from `app_dir`, and says
/// which were there. A path that is absolute or leaves the app directory (`..`) is not one a
/// buildpack declares: it is ignored, as are paths the app does not have.
///
/// # Errors
///
/// When a path cannot be removed.
pub fn remove_declared(app_dir: &Path, declared: Option<&OsStr>) -> std::io::Result<Vec<Removed>> {
    let Some(declared) = declared.and_then(OsStr::to_str) else {
        return Ok(Vec::new());
    };
    let mut removed = Vec::new();
    for relative in declared.split(':').map(Path::new) {
        let inside = relative
            .components()
            .all(|component| matches!(component, Component::Normal(_)));
        if !inside || relative.as_os_str().is_empty() {
            continue;
        }
        let path = app_dir.join(relative);
        let Ok(metadata) = path.symlink_metadata() else {
            continue;
        };
        let bytes = if metadata.is_dir() {
            let bytes = crate::disk::apparent_size(&path);
            std::fs::remove_dir_all(&path)?;
            bytes
        } else {
            std::fs::remove_file(&path)?;
            metadata.len()
        };
        if !removed.iter().any(|done: &Removed| done.path == relative) {
            removed.push(Removed {
                path: relative.to_path_buf(),
                bytes,
            });
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn declared_by_two_buildpacks() {
        let first = declare(LayerEnv::new(), "node_modules");
        let second = declare(LayerEnv::new(), "assets/.cache");
        let env = second.apply(Scope::Build, &first.apply_to_empty(Scope::Build));
        assert_eq!(
            env.get(BUILD_ONLY_APP_PATHS),
            Some(&OsString::from("node_modules:assets/.cache"))
        );
        // Not at launch: the image never needs the list.
        assert_eq!(
            first.apply_to_empty(Scope::Launch).get(BUILD_ONLY_APP_PATHS),
            None
        );
    }

    #[test]
    fn removes_what_is_declared_and_inside_the_app() {
        let root = tempfile::tempdir().unwrap();
        let app = root.path().join("app");
        std::fs::create_dir_all(app.join("node_modules/vite")).unwrap();
        std::fs::write(app.join("node_modules/vite/index.js"), "12345").unwrap();
        std::fs::write(app.join("keep.txt"), "kept").unwrap();
        std::fs::write(root.path().join("outside"), "not the app's").unwrap();
        let removed = remove_declared(
            &app,
            Some(OsStr::new("node_modules:../outside:/etc:missing::node_modules")),
        )
        .unwrap();
        assert_eq!(
            removed,
            [Removed {
                path: PathBuf::from("node_modules"),
                bytes: 5
            }]
        );
        assert!(!app.join("node_modules").exists());
        assert!(app.join("keep.txt").exists());
        assert!(root.path().join("outside").exists());
        assert_eq!(remove_declared(&app, None).unwrap(), []);
    }

    #[test]
    fn a_hard_linked_file_counts_once() {
        // pnpm's store links one file into many packages: the image would carry it once.
        let app = tempfile::tempdir().unwrap();
        let modules = app.path().join("node_modules");
        std::fs::create_dir_all(modules.join("a")).unwrap();
        std::fs::write(modules.join("a/index.js"), "12345").unwrap();
        std::fs::hard_link(modules.join("a/index.js"), modules.join("b.js")).unwrap();
        let removed = remove_declared(app.path(), Some(OsStr::new("node_modules"))).unwrap();
        assert_eq!(removed[0].bytes, 5);
    }
}
