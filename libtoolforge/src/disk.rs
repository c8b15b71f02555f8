//! How much room files take in an image, and sizes for the build log.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The apparent size of everything under `path`: regular files' lengths and symlinks' (not
/// followed), each hard-linked file once, as a layer's tar carries them. Entries that cannot be
/// read are skipped.
#[must_use]
pub fn apparent_size(path: &Path) -> u64 {
    let mut seen = HashSet::new();
    let mut total = 0;
    let mut pending = vec![path.to_path_buf()];
    while let Some(path) = pending.pop() {
        let Ok(metadata) = path.symlink_metadata() else {
            continue;
        };
        if metadata.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                pending.extend(entries.flatten().map(|entry| entry.path()));
            }
        } else if metadata.nlink() <= 1 || seen.insert((metadata.dev(), metadata.ino())) {
            total += metadata.len();
        }
    }
    total
}

/// `12.3 MB`, `1.2 GB`: sizes for the build log (decimal units, as apt prints them).
#[must_use]
pub fn format_size(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let size = bytes as f64;
    if size >= 1e9 {
        format!("{:.2} GB", size / 1e9)
    } else if size >= 1e6 {
        format!("{:.1} MB", size / 1e6)
    } else {
        format!("{:.0} kB", size / 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn hard_links_count_once_and_symlinks_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::write(root.join("a/b/data"), vec![0; 1000]).unwrap();
        fs::hard_link(root.join("a/b/data"), root.join("a/linked")).unwrap();
        fs::write(root.join("small"), b"12345").unwrap();
        // A symlink counts its target's name (8 bytes), not the 1000 bytes it points at.
        std::os::unix::fs::symlink("a/b/data", root.join("to-data")).unwrap();
        // A link to a directory outside is not walked into.
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("big"), vec![0; 5000]).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("outside")).unwrap();
        let outside_name = outside.path().as_os_str().len() as u64;
        assert_eq!(apparent_size(root), 1000 + 5 + 8 + outside_name);
        assert_eq!(apparent_size(&root.join("missing")), 0);
    }

    #[test]
    fn sizes() {
        assert_eq!(format_size(123_456_789), "123.5 MB");
        assert_eq!(format_size(1_500_000_000), "1.50 GB");
    }
}
