//! Leaving the app directory as it was: what the process created is removed, what it changed or
//! deleted is told.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The app directory's entries by path (relative), not looking into `node_modules` (large, and
/// no server writes there at start).
pub(super) struct AppTree {
    entries: BTreeMap<PathBuf, Stamp>,
}

/// Enough of an entry to tell that it changed.
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    directory: bool,
    len: u64,
    modified: Option<SystemTime>,
}

/// What the process did to the app directory.
#[derive(Debug, Default)]
pub(super) struct AppChanges {
    /// Created by it, and removed since.
    pub(super) removed: Vec<PathBuf>,
    /// Changed by it: the image has them as it left them.
    pub(super) modified: Vec<PathBuf>,
    /// Deleted by it.
    pub(super) deleted: Vec<PathBuf>,
    pub(super) failures: Vec<String>,
}

impl AppTree {
    pub(super) fn read(app_dir: &Path) -> io::Result<Self> {
        let mut entries = BTreeMap::new();
        let mut pending = vec![PathBuf::new()];
        while let Some(relative) = pending.pop() {
            for entry in std::fs::read_dir(app_dir.join(&relative))? {
                let entry = entry?;
                let metadata = entry.metadata()?;
                let path = relative.join(entry.file_name());
                // `DirEntry::metadata` does not follow links: a link to a directory is not walked.
                if metadata.is_dir() && entry.file_name() != "node_modules" {
                    pending.push(path.clone());
                }
                let stamp = Stamp {
                    directory: metadata.is_dir(),
                    len: if metadata.is_dir() { 0 } else { metadata.len() },
                    modified: if metadata.is_dir() {
                        None
                    } else {
                        metadata.modified().ok()
                    },
                };
                entries.insert(path, stamp);
            }
        }
        Ok(Self { entries })
    }

    /// Removes what was created in `app_dir` since `self` was read; reports what changed.
    pub(super) fn restore(&self, app_dir: &Path) -> AppChanges {
        let mut changes = AppChanges::default();
        let now = match Self::read(app_dir) {
            Ok(now) => now,
            Err(error) => {
                changes
                    .failures
                    .push(format!("cannot list the app directory after the check: {error}"));
                return changes;
            }
        };
        // Created by the process: removed whole, so entries under one are skipped. Paths sort by
        // component, so a directory comes before its entries.
        let mut created: Vec<&Path> = Vec::new();
        for (path, stamp) in &now.entries {
            if created.iter().any(|root| path.starts_with(root)) {
                continue;
            }
            match self.entries.get(path) {
                None => {
                    created.push(path);
                    let full = app_dir.join(path);
                    let removed = if stamp.directory {
                        std::fs::remove_dir_all(&full)
                    } else {
                        std::fs::remove_file(&full)
                    };
                    match removed {
                        Ok(()) => changes.removed.push(path.clone()),
                        Err(error) => changes.failures.push(format!(
                            "cannot remove {} from the app directory: {error}",
                            path.display()
                        )),
                    }
                }
                Some(before) if before != stamp && !stamp.directory => changes.modified.push(path.clone()),
                _ => {}
            }
        }
        for path in self.entries.keys() {
            let under_deleted = changes.deleted.iter().any(|deleted| path.starts_with(deleted));
            if !now.entries.contains_key(path) && !under_deleted {
                changes.deleted.push(path.clone());
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::start_check::tests::write;

    #[test]
    fn what_the_process_created_is_removed_and_changes_are_told() {
        let app = tempfile::tempdir().unwrap();
        let app_path = app.path();
        write(&app_path.join("app.py"), "print('hi')\n");
        write(&app_path.join("settings.py"), "A = 1\n");
        write(&app_path.join("gone.txt"), "");
        write(&app_path.join("node_modules/a/index.js"), "");
        let before = AppTree::read(app_path).unwrap();
        write(&app_path.join("__pycache__/app.cpython-313.pyc"), "x");
        write(&app_path.join("app.log"), "started\n");
        write(&app_path.join("settings.py"), "A = 2 # changed\n");
        write(&app_path.join("node_modules/a/.cache"), "");
        std::fs::remove_file(app_path.join("gone.txt")).unwrap();
        let changes = before.restore(app_path);
        assert_eq!(
            changes.removed,
            [PathBuf::from("__pycache__"), PathBuf::from("app.log")]
        );
        assert_eq!(changes.modified, [PathBuf::from("settings.py")]);
        assert_eq!(changes.deleted, [PathBuf::from("gone.txt")]);
        assert!(changes.failures.is_empty(), "{:?}", changes.failures);
        assert!(!app_path.join("__pycache__").exists() && !app_path.join("app.log").exists());
        // Not looked into: left as it is.
        assert!(app_path.join("node_modules/a/.cache").exists());
    }
}
