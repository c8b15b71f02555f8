//! Extracting downloaded archives into layers, refusing anything that would land outside.

use crate::error::ErrorMessage;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveError {
    /// An entry whose path, or whose link target, leaves the destination.
    UnsafePath {
        entry: String,
    },
    /// The archive is not a readable tar.gz.
    Corrupt {
        message: String,
    },
    Io {
        path: PathBuf,
        message: String,
    },
}

impl std::error::Error for ArchiveError {}

impl std::fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnsafePath { entry } => {
                write!(f, "the archive entry `{entry}` points outside its directory")
            }
            Self::Corrupt { message } => write!(f, "the archive cannot be read: {message}"),
            Self::Io { path, message } => write!(f, "cannot write {}: {message}", path.display()),
        }
    }
}

impl ArchiveError {
    /// The user-facing message for an archive of `what` that cannot be extracted.
    #[must_use]
    pub fn message(&self, what: &str) -> ErrorMessage {
        ErrorMessage::platform(format!("Cannot unpack {what}"), format!("{self}."))
    }
}

/// Extracts a `.tar.gz` into `destination`, dropping the first `strip_components` path
/// components of every entry (as `tar --strip-components`). Entries with absolute paths, `..`,
/// or links pointing outside `destination` fail the extraction.
///
/// # Errors
///
/// See [`ArchiveError`].
pub fn extract_tar_gz(
    archive: &Path,
    destination: &Path,
    strip_components: usize,
) -> Result<(), ArchiveError> {
    let file = std::fs::File::open(archive).map_err(|error| ArchiveError::Io {
        path: archive.to_path_buf(),
        message: error.to_string(),
    })?;
    extract_tar(flate2::read::GzDecoder::new(file), destination, strip_components)
}

fn extract_tar(reader: impl Read, destination: &Path, strip_components: usize) -> Result<(), ArchiveError> {
    let corrupt = |error: std::io::Error| ArchiveError::Corrupt {
        message: error.to_string(),
    };
    std::fs::create_dir_all(destination).map_err(|error| ArchiveError::Io {
        path: destination.to_path_buf(),
        message: error.to_string(),
    })?;
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(true);
    archive.set_overwrite(true);
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let original = entry.path().map_err(corrupt)?.into_owned();
        let Some(relative) = safe_relative_path(&original, strip_components) else {
            if original.components().count() <= strip_components {
                continue; // The stripped top-level directory itself.
            }
            return Err(ArchiveError::UnsafePath {
                entry: original.display().to_string(),
            });
        };
        let path = destination.join(&relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| ArchiveError::Io {
                path: parent.to_path_buf(),
                message: error.to_string(),
            })?;
        }
        if let Some(target) = entry.link_name().map_err(corrupt)? {
            let kind = entry.header().entry_type();
            // Hard links name a path inside the archive; symlinks are relative to their directory.
            let resolved = if kind.is_hard_link() {
                safe_relative_path(&target, strip_components)
            } else {
                relative
                    .parent()
                    .and_then(|parent| normalize(&parent.join(&target)))
            };
            let Some(resolved) = resolved.filter(|_| !target.is_absolute()) else {
                return Err(ArchiveError::UnsafePath {
                    entry: format!("{} -> {}", original.display(), target.display()),
                });
            };
            if kind.is_hard_link() {
                let _ = std::fs::remove_file(&path);
                std::fs::hard_link(destination.join(resolved), &path).map_err(|error| ArchiveError::Io {
                    path,
                    message: error.to_string(),
                })?;
                continue;
            }
        }
        entry.unpack(&path).map_err(|error| ArchiveError::Io {
            path: path.clone(),
            message: error.to_string(),
        })?;
    }
    Ok(())
}

/// The entry's path without its first `strip` components, if it stays inside (no root, no `..`
/// that climbs out).
fn safe_relative_path(path: &Path, strip: usize) -> Option<PathBuf> {
    if path.is_absolute() {
        return None;
    }
    let kept: PathBuf = normalize(path)?.components().skip(strip).collect();
    if kept.as_os_str().is_empty() {
        return None;
    }
    Some(kept)
}

/// Resolves `.` and `..` lexically; `None` when the path climbs above its start.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut normalized = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => normalized.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !normalized.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, data_or_target) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_mode(0o755);
            if kind.is_symlink() || kind.is_hard_link() {
                header.set_size(0);
                // set_link_name refuses nothing; that is what these tests need.
                header.set_link_name(data_or_target).unwrap();
                // Bypass the builder's own path checks to write hostile names.
                header.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path.as_bytes());
                header.set_cksum();
                builder.append(&header, std::io::empty()).unwrap();
            } else {
                header.set_size(data_or_target.len() as u64);
                header.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path.as_bytes());
                header.set_cksum();
                builder.append(&header, data_or_target.as_bytes()).unwrap();
            }
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn extracts_with_stripped_top_directory_and_relative_links() {
        let tar = tar_with(&[
            ("python/", tar::EntryType::Directory, ""),
            ("python/bin/python3.13", tar::EntryType::Regular, "#!binary"),
            ("python/bin/python3", tar::EntryType::Symlink, "python3.13"),
            (
                "python/lib/libfoo.so",
                tar::EntryType::Link,
                "python/bin/python3.13",
            ),
        ]);
        let dir = tempfile::tempdir().unwrap();
        extract_tar(tar.as_slice(), dir.path(), 1).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("bin/python3")).unwrap(),
            "#!binary"
        );
        assert_eq!(
            std::fs::read_link(dir.path().join("bin/python3")).unwrap(),
            PathBuf::from("python3.13")
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("lib/libfoo.so")).unwrap(),
            "#!binary"
        );
    }

    #[test]
    fn refuses_paths_outside() {
        for entries in [
            vec![("python/../../etc/passwd", tar::EntryType::Regular, "x")],
            vec![("python/bin/evil", tar::EntryType::Symlink, "../../../etc/passwd")],
            vec![("python/bin/evil", tar::EntryType::Symlink, "/etc/passwd")],
            vec![("python/bin/evil", tar::EntryType::Link, "../etc/passwd")],
        ] {
            let tar = tar_with(&entries);
            let dir = tempfile::tempdir().unwrap();
            let inside = dir.path().join("layer");
            let error = extract_tar(tar.as_slice(), &inside, 1).unwrap_err();
            assert!(
                matches!(error, ArchiveError::UnsafePath { .. }),
                "{entries:?}: {error}"
            );
            assert!(!dir.path().join("etc").exists());
        }
    }

    #[test]
    fn corrupt_archives() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("broken.tar.gz");
        std::fs::write(&archive, b"not gzip").unwrap();
        let error = extract_tar_gz(&archive, &dir.path().join("out"), 0).unwrap_err();
        assert!(matches!(error, ArchiveError::Corrupt { .. }), "{error}");
    }
}
