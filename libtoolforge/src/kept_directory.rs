//! A dependency directory of the app (`node_modules`, `vendor/`, later Go's module cache or
//! Maven's `~/.m2`) kept between builds in a cached layer that never goes into the image.
//!
//! The buildpack opens the layer with a key of everything that decides the directory's contents
//! (lockfile, runtime, tool versions, stack). When the key is unchanged, the kept copy exists
//! and the app has no such directory of its own, the build copies the kept copy back
//! ([`KeptDirectory::restore`]) instead of installing; after installing, it keeps a copy for
//! the next build ([`KeptDirectory::save`]). The kept copy is named after the layer, whatever
//! the directory is called in the app (Composer's `vendor-dir` may be `lib/vendor`).

use crate::error::IoError;
use crate::layer::{Cache, LayerKey, cached_layer, copy_directory};
use libcnb::Buildpack;
use libcnb::build::BuildContext;
use libcnb::data::layer::LayerName;
use std::path::{Path, PathBuf};

/// A kept directory and its layer; see the module documentation.
pub struct KeptDirectory {
    /// Whether the kept copy is current; [`Cache::Reused`] only when it exists.
    pub cache: Cache,
    copy: KeptCopy,
}

/// Opens the cached layer `name` for the app's directory `directory` (relative to the app,
/// possibly nested: `lib/vendor`).
///
/// # Errors
///
/// When libcnb cannot read or write the layer.
pub fn open<B: Buildpack, K: LayerKey>(
    context: &BuildContext<B>,
    name: LayerName,
    directory: impl Into<PathBuf>,
    key: &K,
) -> libcnb::Result<KeptDirectory, B::Error> {
    let kept = name.as_str().to_string();
    let (layer, cache) = cached_layer(context, name, false, false, key)?;
    let copy = KeptCopy {
        kept: layer.path().join(kept),
        directory: directory.into(),
    };
    // A layer whose key matches but holds no copy (the last install made no directory) has
    // nothing to restore.
    let cache = if cache == Cache::Reused && !copy.kept.is_dir() {
        Cache::New
    } else {
        cache
    };
    Ok(KeptDirectory { cache, copy })
}

impl KeptDirectory {
    /// Whether the build can copy the kept directory back instead of installing: its key is
    /// unchanged and the app has no such directory of its own (one committed to the repository is
    /// the app's to keep).
    #[must_use]
    pub fn restorable(&self, app_dir: &Path) -> bool {
        self.cache == Cache::Reused && !app_dir.join(&self.copy.directory).exists()
    }

    /// The directory as the app calls it: `node_modules`, `lib/vendor`.
    #[must_use]
    pub fn directory(&self) -> &Path {
        &self.copy.directory
    }

    /// Copies the kept directory into the app.
    ///
    /// # Errors
    ///
    /// When the copy fails, or the app already has the directory.
    pub fn restore(&self, app_dir: &Path) -> Result<(), IoError> {
        self.copy.restore(app_dir)
    }

    /// Keeps the app's directory, as installed, for the next build (or none, when the install
    /// made none).
    ///
    /// # Errors
    ///
    /// When the copy fails.
    pub fn save(&self, app_dir: &Path) -> Result<(), IoError> {
        self.copy.save(app_dir)
    }
}

/// The file operations, apart from libcnb's layer so that they can be tested.
struct KeptCopy {
    /// The kept copy, in the layer.
    kept: PathBuf,
    /// The directory, relative to the app.
    directory: PathBuf,
}

impl KeptCopy {
    fn restore(&self, app_dir: &Path) -> Result<(), IoError> {
        let target = app_dir.join(&self.directory);
        let what = || format!("restore {} from the cache", self.directory.display());
        if target.exists() {
            return Err(IoError::new(
                what(),
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, "the app already has it"),
            ));
        }
        target
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            // `cp -a kept target` with no `target` yet makes `target` the copy, whatever its name.
            .and_then(|()| copy_directory(&self.kept, &target))
            .map_err(|error| IoError::new(what(), error))
    }

    /// Copies to a staging directory beside the kept copy, then replaces the kept copy with it:
    /// an interrupted save leaves the old copy or the new one, never a part of either.
    fn save(&self, app_dir: &Path) -> Result<(), IoError> {
        let installed = app_dir.join(&self.directory);
        let mut staging = self.kept.clone().into_os_string();
        staging.push(".staging");
        let staging = PathBuf::from(staging);
        let io = |error| IoError::new(format!("keep {} in the cache", self.directory.display()), error);
        remove_if_present(&staging).map_err(io)?;
        if installed.is_dir() {
            copy_directory(&installed, &staging).map_err(io)?;
        }
        remove_if_present(&self.kept).map_err(io)?;
        if staging.exists() {
            std::fs::rename(&staging, &self.kept).map_err(io)?;
        }
        Ok(())
    }
}

fn remove_if_present(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn copy(layer: &Path, directory: &str) -> KeptCopy {
        KeptCopy {
            kept: layer.join("vendor"),
            directory: PathBuf::from(directory),
        }
    }

    #[test]
    fn round_trip_keeps_symlinks_and_a_nested_directory_of_another_name() {
        let (app, layer) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let installed = app.path().join("lib/deps");
        write(&installed.join("pkg/index.js"), "module.exports = 1;\n");
        std::fs::create_dir_all(installed.join(".bin")).unwrap();
        std::os::unix::fs::symlink("../pkg/index.js", installed.join(".bin/pkg")).unwrap();
        let kept = copy(layer.path(), "lib/deps");

        kept.save(app.path()).unwrap();
        assert!(layer.path().join("vendor/pkg/index.js").is_file());
        assert!(!layer.path().join("vendor.staging").exists());

        std::fs::remove_dir_all(app.path().join("lib")).unwrap();
        kept.restore(app.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(installed.join("pkg/index.js")).unwrap(),
            "module.exports = 1;\n"
        );
        assert_eq!(
            std::fs::read_link(installed.join(".bin/pkg")).unwrap(),
            Path::new("../pkg/index.js")
        );
        assert!(!app.path().join("lib/vendor").exists());
        // The app's own directory is never merged into.
        assert_eq!(
            kept.restore(app.path()).unwrap_err().error.kind(),
            std::io::ErrorKind::AlreadyExists
        );
    }

    #[test]
    fn save_replaces_the_kept_copy_and_removes_it_when_nothing_was_installed() {
        let (app, layer) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let kept = copy(layer.path(), "vendor");
        write(&app.path().join("vendor/old.php"), "old");
        kept.save(app.path()).unwrap();
        std::fs::remove_dir_all(app.path().join("vendor")).unwrap();
        write(&app.path().join("vendor/new.php"), "new");
        // A staging directory left by an interrupted save is not reused.
        write(&layer.path().join("vendor.staging/stale.php"), "stale");
        kept.save(app.path()).unwrap();
        let names: Vec<_> = std::fs::read_dir(layer.path().join("vendor"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["new.php"]);
        std::fs::remove_dir_all(app.path().join("vendor")).unwrap();
        kept.save(app.path()).unwrap();
        assert!(!layer.path().join("vendor").exists());
    }
}
