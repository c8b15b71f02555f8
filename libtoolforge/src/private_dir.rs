//! A directory private to one uid, made at run time in a directory others can write to (`/tmp`,
//! shared by every process of the container): the private home, libnss-wrapper's files, a web
//! server's sockets and configurations.
//!
//! Another user may have made the name first: a symbolic link would send what is written
//! there wherever it points, and a directory of theirs would let them read it or replace it. So
//! an existing one is used only when it is a real directory (not followed if a link) owned by
//! the uid.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::Path;

/// Creates `dir` (mode 0700) for `uid`, or accepts it when it is already a directory, not a
/// symbolic link, that `uid` owns (an earlier start's).
///
/// # Errors
///
/// When `dir` cannot be created, or exists and is something else (a link, a file, another
/// uid's directory): "it exists and belongs to someone else".
pub fn create(dir: &Path, uid: u32) -> io::Result<()> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            let metadata = std::fs::symlink_metadata(dir)?;
            if metadata.is_dir() && metadata.uid() == uid {
                Ok(())
            } else {
                Err(io::Error::other("it exists and belongs to someone else"))
            }
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn own_uid(dir: &Path) -> u32 {
        std::fs::metadata(dir).unwrap().uid()
    }

    #[test]
    fn made_private_and_reused_by_its_owner_only() {
        let scratch = tempfile::tempdir().unwrap();
        let uid = own_uid(scratch.path());
        let dir = scratch.path().join("run");
        create(&dir, uid).unwrap();
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        create(&dir, uid).unwrap();
        let error = create(&dir, uid + 1).unwrap_err();
        assert_eq!(error.to_string(), "it exists and belongs to someone else");
    }

    #[test]
    fn links_and_files_are_refused() {
        let scratch = tempfile::tempdir().unwrap();
        let uid = own_uid(scratch.path());
        let link = scratch.path().join("link");
        std::os::unix::fs::symlink(scratch.path(), &link).unwrap();
        assert!(create(&link, uid).is_err(), "a link to a directory of the uid");
        let file = scratch.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(create(&file, uid).is_err());
        let missing_parent = scratch.path().join("missing/run");
        assert_eq!(
            create(&missing_parent, uid).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
