//! Extracting downloaded archives (tar.gz, zip) into layers, refusing anything that would land
//! outside.
//!
//! Runtime archives come from an inventory, possibly an operator's mirror, so they are checked
//! entry by entry rather than trusted: no absolute paths or `..`; nothing written through a
//! symbolic link (so a link the archive made cannot redirect later entries); symbolic links whose
//! targets stay inside, checked so that a chain of them stays inside too; hard links only to
//! files the archive wrote inside, reached without links; no device files or FIFOs; no
//! setuid, setgid, sticky or world-writable modes; and a bound on the declared sizes.

use crate::error::ErrorMessage;
use std::io::Read;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// The largest file an archive may unpack. Sizes come from the headers, and a sparse entry
/// declares its expanded size while taking a few bytes in the archive, so without a bound a
/// small hostile archive fills the build host's disk. Runtimes' largest files (the
/// interpreter's shared library, the `node` binary) are around a hundred MiB.
const MAX_ENTRY_SIZE: u64 = 4 << 30;

/// The most an archive may unpack in all, for the same reason as [`MAX_ENTRY_SIZE`]: many
/// entries just under the per-file bound would fill the disk as surely as one above it.
/// Unpacked runtimes are a few hundred MiB.
const MAX_TOTAL_SIZE: u64 = 16 << 30;

/// Mode bits no unpacked file or directory keeps: setuid, setgid and sticky (a runtime has no
/// business running as its file's owner) and write for everyone (anyone in the container could
/// change the runtime under the app).
const STRIPPED_MODE_BITS: u32 = 0o7002;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveError {
    /// An entry that would leave the destination, or could make a later one leave it.
    UnsafePath {
        entry: String,
        reason: String,
    },
    /// An entry of a kind a runtime has no use for and that is unsafe to create (a device file,
    /// a FIFO).
    UnsupportedEntry {
        entry: String,
        kind: String,
    },
    /// An entry declaring more than [`MAX_ENTRY_SIZE`] bytes.
    TooLarge {
        entry: String,
        size: u64,
    },
    /// An entry that brings the archive's declared total above [`MAX_TOTAL_SIZE`].
    TooLargeInTotal {
        entry: String,
        total: u64,
    },
    /// The archive is not a readable tar.gz or zip.
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
            Self::UnsafePath { entry, reason } => write!(f, "the archive entry `{entry}` {reason}"),
            Self::UnsupportedEntry { entry, kind } => write!(
                f,
                "the archive entry `{entry}` is a {kind}, which a runtime archive has no use for"
            ),
            Self::TooLarge { entry, size } => write!(
                f,
                "the archive entry `{entry}` declares {size} bytes, more than the {} GiB one file may have",
                MAX_ENTRY_SIZE >> 30
            ),
            Self::TooLargeInTotal { entry, total } => write!(
                f,
                "the archive entry `{entry}` brings the archive to {total} bytes, more than the {} GiB \
                 an archive may unpack to",
                MAX_TOTAL_SIZE >> 30
            ),
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
/// components of every entry (as `tar --strip-components`). Unsafe entries fail the extraction
/// (see the module's documentation); an entry replaces an earlier file or link of the same
/// name, never a directory.
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
    extract_tar(
        flate2::read::GzDecoder::new(file),
        destination,
        strip_components,
        LIMITS,
    )
}

/// Extracts a `.zip` into `destination` under the same rules as [`extract_tar_gz`]. Zip has no
/// hard links; a symbolic link is an entry with the link's file type whose data is its target.
/// Modes follow the entries' Unix modes, stripped as tar's are; an entry without one (a zip
/// made elsewhere than on Unix) is a plain 0644 file or a 0755 directory. Go's module zips are
/// defined without modes (the go command marks a toolchain's programs executable itself), so a
/// runtime unpacked from one names its programs in [`crate::runtime::Runtime::executables`].
///
/// # Errors
///
/// See [`ArchiveError`].
pub fn extract_zip(archive: &Path, destination: &Path, strip_components: usize) -> Result<(), ArchiveError> {
    let file = std::fs::File::open(archive).map_err(io_error(archive))?;
    unzip(file, destination, strip_components, LIMITS)
}

/// Size bounds; tests lower them to check the total without writing gigabytes.
#[derive(Debug, Clone, Copy)]
struct Limits {
    entry: u64,
    total: u64,
}

const LIMITS: Limits = Limits {
    entry: MAX_ENTRY_SIZE,
    total: MAX_TOTAL_SIZE,
};

fn extract_tar(
    reader: impl Read,
    destination: &Path,
    strip_components: usize,
    limits: Limits,
) -> Result<(), ArchiveError> {
    let corrupt = |error: std::io::Error| ArchiveError::Corrupt {
        message: error.to_string(),
    };
    std::fs::create_dir_all(destination).map_err(io_error(destination))?;
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(true);
    archive.set_mask(STRIPPED_MODE_BITS);
    archive.set_overwrite(true);
    let mut total: u64 = 0;
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let original = entry.path().map_err(corrupt)?.into_owned();
        let name = original.display().to_string();
        let unsafe_path = |reason: String| ArchiveError::UnsafePath {
            entry: name.clone(),
            reason,
        };
        let Some(relative) = inside_path(&original, strip_components).map_err(unsafe_path)? else {
            continue; // The stripped top-level directory itself.
        };
        let path = destination.join(&relative);
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Directory => {
                create_parents(destination, &relative).map_err(|error| error.of(&name))?;
                remove_earlier(&path, true).map_err(|error| error.of(&name))?;
                entry.unpack(&path).map_err(io_error(&path))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                // For a sparse entry this is the expanded size, what the disk would hold.
                count_size(&name, entry.size(), &mut total, limits)?;
                create_parents(destination, &relative).map_err(|error| error.of(&name))?;
                // Old archives mark directories with a trailing slash on a regular entry.
                let is_directory = entry.path_bytes().ends_with(b"/");
                remove_earlier(&path, is_directory).map_err(|error| error.of(&name))?;
                entry.unpack(&path).map_err(io_error(&path))?;
            }
            tar::EntryType::Symlink => {
                let target = link_target(&entry).map_err(corrupt)?;
                symlink_stays_inside(&relative, &target).map_err(unsafe_path)?;
                create_parents(destination, &relative).map_err(|error| error.of(&name))?;
                remove_earlier(&path, false).map_err(|error| error.of(&name))?;
                std::os::unix::fs::symlink(&target, &path).map_err(io_error(&path))?;
            }
            tar::EntryType::Link => {
                let target = link_target(&entry).map_err(corrupt)?;
                let linked = hard_link_source(destination, &target, strip_components).map_err(unsafe_path)?;
                create_parents(destination, &relative).map_err(|error| error.of(&name))?;
                remove_earlier(&path, false).map_err(|error| error.of(&name))?;
                std::fs::hard_link(&linked, &path).map_err(io_error(&path))?;
            }
            // Metadata the reader has already applied to the entries it describes.
            tar::EntryType::XGlobalHeader
            | tar::EntryType::XHeader
            | tar::EntryType::GNULongName
            | tar::EntryType::GNULongLink => {}
            other => {
                return Err(ArchiveError::UnsupportedEntry {
                    entry: name,
                    kind: kind_name(other),
                });
            }
        }
    }
    Ok(())
}

fn kind_name(kind: tar::EntryType) -> String {
    match kind {
        tar::EntryType::Char => unix_kind_name(S_IFCHR),
        tar::EntryType::Block => unix_kind_name(S_IFBLK),
        tar::EntryType::Fifo => unix_kind_name(S_IFIFO),
        other => format!(
            "file of unknown type `{}`",
            char::from(other.as_byte()).escape_default()
        ),
    }
}

/// The file type bits of a Unix mode, and the types a zip entry may declare there.
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;
const S_IFBLK: u32 = 0o060_000;
const S_IFIFO: u32 = 0o010_000;
const S_IFSOCK: u32 = 0o140_000;

/// How messages name a file type (`file_type` as in [`S_IFMT`]) an archive may not create.
fn unix_kind_name(file_type: u32) -> String {
    match file_type {
        S_IFCHR => "character device".to_string(),
        S_IFBLK => "block device".to_string(),
        S_IFIFO => "FIFO (named pipe)".to_string(),
        S_IFSOCK => "socket".to_string(),
        other => format!("file of unknown type `{other:o}`"),
    }
}

/// Adds a file's declared `size` to the archive's running `total`, refusing either above its
/// bound before anything is written.
fn count_size(entry: &str, size: u64, total: &mut u64, limits: Limits) -> Result<(), ArchiveError> {
    if size > limits.entry {
        return Err(ArchiveError::TooLarge {
            entry: entry.to_string(),
            size,
        });
    }
    *total = total.saturating_add(size);
    if *total > limits.total {
        return Err(ArchiveError::TooLargeInTotal {
            entry: entry.to_string(),
            total: *total,
        });
    }
    Ok(())
}

/// The longest symbolic link target a zip entry may declare (Linux's `PATH_MAX`).
const MAX_LINK_TARGET: u64 = 4096;

fn unzip(
    reader: impl Read + std::io::Seek,
    destination: &Path,
    strip_components: usize,
    limits: Limits,
) -> Result<(), ArchiveError> {
    let corrupt = |error: zip::result::ZipError| ArchiveError::Corrupt {
        message: error.to_string(),
    };
    std::fs::create_dir_all(destination).map_err(io_error(destination))?;
    let mut archive = zip::ZipArchive::new(reader).map_err(corrupt)?;
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(corrupt)?;
        let name = entry.name().map_err(corrupt)?.into_owned();
        let unsafe_path = |reason: String| ArchiveError::UnsafePath {
            entry: name.clone(),
            reason,
        };
        let Some(relative) = inside_path(Path::new(&name), strip_components).map_err(unsafe_path)? else {
            continue; // The stripped top-level directories themselves.
        };
        let path = destination.join(&relative);
        let mode = entry.unix_mode();
        let file_type = match mode {
            _ if entry.is_dir() => S_IFDIR,
            Some(mode) if mode & S_IFMT != 0 => mode & S_IFMT,
            _ => S_IFREG,
        };
        create_parents(destination, &relative).map_err(|error| error.of(&name))?;
        remove_earlier(&path, file_type == S_IFDIR).map_err(|error| error.of(&name))?;
        match file_type {
            S_IFDIR => match std::fs::DirBuilder::new().mode(0o755).create(&path) {
                Err(error) if error.kind() != std::io::ErrorKind::AlreadyExists => {
                    return Err(io_error(&path)(error));
                }
                _ => {}
            },
            S_IFREG => {
                let size = entry.size();
                count_size(&name, size, &mut total, limits)?;
                let permissions = mode.map_or(0o644, |mode| mode & 0o777 & !STRIPPED_MODE_BITS);
                write_entry(&mut entry.by_ref().take(size), &path, permissions)?;
            }
            S_IFLNK => {
                if entry.size() > MAX_LINK_TARGET {
                    return Err(unsafe_path(
                        "is a symbolic link with an overlong target".to_string(),
                    ));
                }
                let mut target = Vec::new();
                entry
                    .by_ref()
                    .take(MAX_LINK_TARGET)
                    .read_to_end(&mut target)
                    .map_err(|error| ArchiveError::Corrupt {
                        message: error.to_string(),
                    })?;
                let target = PathBuf::from(std::ffi::OsString::from_vec(target));
                symlink_stays_inside(&relative, &target).map_err(unsafe_path)?;
                std::os::unix::fs::symlink(&target, &path).map_err(io_error(&path))?;
            }
            other => {
                return Err(ArchiveError::UnsupportedEntry {
                    entry: name,
                    kind: unix_kind_name(other),
                });
            }
        }
    }
    Ok(())
}

/// Writes a regular file's data to a new file at `path` with `permissions`; a read error is the
/// archive's (a bad checksum, broken compressed data), a write error the destination's.
fn write_entry(data: &mut impl Read, path: &Path, permissions: u32) -> Result<(), ArchiveError> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(permissions)
        .open(path)
        .map_err(io_error(path))?;
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let read = data.read(&mut buffer).map_err(|error| ArchiveError::Corrupt {
            message: error.to_string(),
        })?;
        if read == 0 {
            break;
        }
        std::io::Write::write_all(&mut file, &buffer[..read]).map_err(io_error(path))?;
    }
    // The process's umask applied at creation; the archive's mode is what the runtime expects.
    file.set_permissions(std::fs::Permissions::from_mode(permissions))
        .map_err(io_error(path))
}

fn link_target<R: Read>(entry: &tar::Entry<'_, R>) -> std::io::Result<PathBuf> {
    entry
        .link_name()?
        .map(std::borrow::Cow::into_owned)
        .ok_or_else(|| std::io::Error::other("a link entry has no target"))
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> ArchiveError + '_ {
    move |error| ArchiveError::Io {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

/// The entry's path without its first `strip` components; `None` for the stripped components
/// themselves. Absolute paths and `..` anywhere are refused: `..` after a name that is a
/// symbolic link means something else to the kernel than to a lexical check.
fn inside_path(path: &Path, strip: usize) -> Result<Option<PathBuf>, String> {
    let mut names = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(name) => names.push(name),
            Component::CurDir => {}
            Component::ParentDir => return Err("points outside its directory: its path has `..`".to_string()),
            Component::RootDir | Component::Prefix(_) => {
                return Err("points outside its directory: its path is absolute".to_string());
            }
        }
    }
    let kept: PathBuf = names.into_iter().skip(strip).collect();
    Ok((!kept.as_os_str().is_empty()).then_some(kept))
}

/// Checks a symbolic link at `link` (relative to the destination) to `target`: relative, and
/// its leading `..` do not climb above the destination. `..` after a name is refused, since
/// that name may be (or later become) a link itself: with `..` only leading, the target is a
/// real directory above the link (no parent of an entry is a link, and no directory is ever
/// replaced) followed by names going down, each a directory or a link checked the same way, so
/// every chain of links stays inside.
fn symlink_stays_inside(link: &Path, target: &Path) -> Result<(), String> {
    let shown = target.display();
    let depth = link.components().count() - 1;
    let mut ups = 0;
    let mut seen_name = false;
    for component in target.components() {
        match component {
            Component::Normal(_) => seen_name = true,
            Component::CurDir => {}
            Component::ParentDir if seen_name => {
                return Err(format!(
                    "is a symbolic link to `{shown}`, which goes up with `..` after a name: \
                     through a link, that can leave its directory"
                ));
            }
            Component::ParentDir => ups += 1,
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("is a symbolic link to the absolute path `{shown}`"));
            }
        }
    }
    if target.as_os_str().is_empty() {
        return Err("is a symbolic link with an empty target".to_string());
    }
    if ups > depth {
        return Err(format!("is a symbolic link to `{shown}`, outside its directory"));
    }
    Ok(())
}

/// Where a hard link to `target` (an archive path) points in `destination`: an existing
/// file inside, reached without symbolic links, and not a link itself (a second name for a
/// symbolic link would resolve from another directory).
fn hard_link_source(destination: &Path, target: &Path, strip: usize) -> Result<PathBuf, String> {
    let shown = target.display();
    let outside = || format!("is a hard link to `{shown}`, outside its directory");
    let relative = inside_path(target, strip)
        .map_err(|_| outside())?
        .ok_or_else(outside)?;
    let mut reached = destination.to_path_buf();
    for name in relative.components() {
        reached.push(name);
        if is_symlink(&reached) {
            if reached.ends_with(&relative) {
                return Err(format!("is a hard link to the symbolic link `{shown}`"));
            }
            let link = reached.strip_prefix(destination).unwrap_or(&reached).display();
            return Err(format!(
                "is a hard link to `{shown}`, through the symbolic link `{link}`"
            ));
        }
    }
    Ok(reached)
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.file_type().is_symlink())
}

/// Why an entry's parents could not be made; `of` names the entry.
enum PlacementError {
    ThroughSymlink(PathBuf),
    ReplacesDirectory,
    Io(PathBuf, std::io::Error),
}

impl PlacementError {
    fn of(self, entry: &str) -> ArchiveError {
        match self {
            Self::ThroughSymlink(link) => ArchiveError::UnsafePath {
                entry: entry.to_string(),
                reason: format!(
                    "would be written through `{}`, a symbolic link (which could point anywhere)",
                    link.display()
                ),
            },
            Self::ReplacesDirectory => ArchiveError::UnsafePath {
                entry: entry.to_string(),
                reason: "would replace a directory (whose entries other links may rely on)".to_string(),
            },
            Self::Io(path, error) => ArchiveError::Io {
                path,
                message: error.to_string(),
            },
        }
    }
}

/// Makes the directories above `relative` in `destination` (mode 0755), refusing to go
/// through a symbolic link.
fn create_parents(destination: &Path, relative: &Path) -> Result<(), PlacementError> {
    let Some(parent) = relative.parent() else {
        return Ok(());
    };
    let mut current = destination.to_path_buf();
    for name in parent.components() {
        current.push(name);
        match std::fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let link = current.strip_prefix(destination).unwrap_or(&current);
                return Err(PlacementError::ThroughSymlink(link.to_path_buf()));
            }
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
                .mode(0o755)
                .create(&current)
                .map_err(|error| PlacementError::Io(current.clone(), error))?,
            Err(error) => return Err(PlacementError::Io(current, error)),
        }
    }
    Ok(())
}

/// Removes an earlier file or link at `path` so the entry replaces it instead of writing through
/// it; a directory stays (a directory entry then just sets its mode) and anything else may not
/// replace it.
fn remove_earlier(path: &Path, is_directory: bool) -> Result<(), PlacementError> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_dir() => {
            if is_directory {
                Ok(())
            } else {
                Err(PlacementError::ReplacesDirectory)
            }
        }
        Ok(_) => std::fs::remove_file(path).map_err(|error| PlacementError::Io(path.to_path_buf(), error)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(PlacementError::Io(path.to_path_buf(), error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    /// One entry of a hostile archive, written without the builder's own path checks.
    struct Raw<'a> {
        path: &'a str,
        kind: tar::EntryType,
        mode: u32,
        link: Option<&'a str>,
        declared_size: Option<u64>,
        data: &'a [u8],
    }

    fn file<'a>(path: &'a str, data: &'a [u8]) -> Raw<'a> {
        Raw {
            path,
            kind: tar::EntryType::Regular,
            mode: 0o644,
            link: None,
            declared_size: None,
            data,
        }
    }

    fn dir(path: &str, mode: u32) -> Raw<'_> {
        Raw {
            kind: tar::EntryType::Directory,
            mode,
            ..file(path, b"")
        }
    }

    fn symlink<'a>(path: &'a str, target: &'a str) -> Raw<'a> {
        Raw {
            kind: tar::EntryType::Symlink,
            mode: 0o777,
            link: Some(target),
            ..file(path, b"")
        }
    }

    fn hard_link<'a>(path: &'a str, target: &'a str) -> Raw<'a> {
        Raw {
            kind: tar::EntryType::Link,
            link: Some(target),
            ..file(path, b"")
        }
    }

    fn special(path: &str, kind: tar::EntryType) -> Raw<'_> {
        Raw {
            kind,
            ..file(path, b"")
        }
    }

    fn tar_of(entries: &[Raw<'_>]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for raw in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(raw.kind);
            header.set_mode(raw.mode);
            header.set_mtime(1_700_000_000);
            header.set_size(raw.declared_size.unwrap_or(raw.data.len() as u64));
            if let Some(target) = raw.link {
                header.set_link_name(target).unwrap();
            }
            header.as_gnu_mut().unwrap().name[..raw.path.len()].copy_from_slice(raw.path.as_bytes());
            header.set_cksum();
            builder.append(&header, raw.data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    /// A temporary `root` holding the destination `root/layer` and an empty `root/outside`:
    /// every escape below aims at `root`, which must hold nothing else afterwards.
    struct Sandbox {
        root: tempfile::TempDir,
    }

    impl Sandbox {
        fn new() -> Self {
            let root = tempfile::tempdir().unwrap();
            std::fs::create_dir(root.path().join("outside")).unwrap();
            Self { root }
        }

        fn layer(&self) -> PathBuf {
            self.root.path().join("layer")
        }

        fn outside(&self) -> String {
            self.root.path().join("outside").display().to_string()
        }

        fn extract(&self, entries: &[Raw<'_>]) -> Result<(), ArchiveError> {
            self.extract_within(entries, LIMITS)
        }

        fn extract_within(&self, entries: &[Raw<'_>], limits: Limits) -> Result<(), ArchiveError> {
            extract_tar(tar_of(entries).as_slice(), &self.layer(), 1, limits)
        }

        fn assert_nothing_outside(&self) {
            let mut names: Vec<_> = std::fs::read_dir(self.root.path())
                .unwrap()
                .map(|entry| entry.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            assert!(
                names.iter().all(|name| name == "layer" || name == "outside"),
                "written next to the layer: {names:?}"
            );
            let outside: Vec<_> = std::fs::read_dir(self.root.path().join("outside"))
                .unwrap()
                .collect();
            assert!(outside.is_empty(), "written outside the layer: {outside:?}");
        }

        fn mode(&self, relative: &str) -> u32 {
            std::fs::symlink_metadata(self.layer().join(relative))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777
        }
    }

    /// Extracts `entries` into a fresh sandbox: refused as unsafe, with nothing written outside.
    #[track_caller]
    fn assert_refused(entries: &[Raw<'_>], expected_entry: &str, reason_has: &str) {
        let sandbox = Sandbox::new();
        let error = sandbox.extract(entries).unwrap_err();
        assert_unsafe(&error, expected_entry, reason_has);
        sandbox.assert_nothing_outside();
    }

    #[track_caller]
    fn assert_unsafe(error: &ArchiveError, expected_entry: &str, reason_has: &str) {
        let ArchiveError::UnsafePath { entry, reason } = error else {
            panic!("expected an unsafe path, got {error:?}");
        };
        assert_eq!(entry, expected_entry, "{error}");
        assert!(reason.contains(reason_has), "{error}");
    }

    /// A tree laid out like the runtimes' archives (top directory, relative links, a hard
    /// link, a long name), and the long name.
    fn runtime_tree() -> (Vec<u8>, String) {
        let long_name = format!(
            "python/lib/python3.13/site-packages/{}/__init__.py",
            "a".repeat(120)
        );
        let mut builder = tar::Builder::new(Vec::new());
        let mut append = |path: &str, kind: tar::EntryType, mode: u32, link: Option<&str>, data: &[u8]| {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(kind);
            header.set_mode(mode);
            header.set_mtime(1_700_000_000);
            header.set_size(data.len() as u64);
            match link {
                Some(target) => builder.append_link(&mut header, path, target).unwrap(),
                None => builder.append_data(&mut header, path, data).unwrap(),
            }
        };
        append("python/", tar::EntryType::Directory, 0o755, None, b"");
        append(
            "python/bin/python3.13",
            tar::EntryType::Regular,
            0o755,
            None,
            b"#!binary",
        );
        append(
            "python/bin/python3",
            tar::EntryType::Symlink,
            0o777,
            Some("python3.13"),
            b"",
        );
        // Links may come before their target, and climb up to a sibling directory.
        append(
            "python/bin/npm",
            tar::EntryType::Symlink,
            0o777,
            Some("../lib/node_modules/npm/bin/npm-cli.js"),
            b"",
        );
        append(
            "python/lib/node_modules/npm/bin/npm-cli.js",
            tar::EntryType::Regular,
            0o644,
            None,
            b"// npm",
        );
        append(
            "python/lib/libpython3.13.so.1.0",
            tar::EntryType::Regular,
            0o555,
            None,
            b"ELF",
        );
        append(
            "python/lib/libpython3.so",
            tar::EntryType::Link,
            0o555,
            Some("python/lib/libpython3.13.so.1.0"),
            b"",
        );
        append(
            "python/lib/current",
            tar::EntryType::Symlink,
            0o777,
            Some("."),
            b"",
        );
        append(
            "python/share/man",
            tar::EntryType::Symlink,
            0o777,
            Some("../lib"),
            b"",
        );
        append(&long_name, tar::EntryType::Regular, 0o644, None, b"");
        // A later entry of the same name replaces the earlier one.
        append(
            "python/bin/python3.13",
            tar::EntryType::Regular,
            0o755,
            None,
            b"#!newer",
        );
        (builder.into_inner().unwrap(), long_name)
    }

    #[test]
    fn extracts_runtime_trees_with_their_links_modes_and_times() {
        let sandbox = Sandbox::new();
        let (tar, long_name) = runtime_tree();
        let archive = sandbox.root.path().join("outside/python.tar.gz");
        let mut gzip = flate2::write::GzEncoder::new(
            std::fs::File::create(&archive).unwrap(),
            flate2::Compression::fast(),
        );
        std::io::Write::write_all(&mut gzip, &tar).unwrap();
        gzip.finish().unwrap();

        extract_tar_gz(&archive, &sandbox.layer(), 1).unwrap();

        std::fs::remove_file(&archive).unwrap();
        sandbox.assert_nothing_outside();
        let layer = sandbox.layer();
        let read = |path: &str| std::fs::read_to_string(layer.join(path)).unwrap();
        assert_eq!(read("bin/python3"), "#!newer");
        assert_eq!(
            std::fs::read_link(layer.join("bin/python3")).unwrap(),
            PathBuf::from("python3.13")
        );
        assert_eq!(read("bin/npm"), "// npm");
        assert_eq!(read("lib/libpython3.so"), "ELF");
        assert_eq!(read("lib/current/libpython3.so"), "ELF");
        assert_eq!(read("share/man/libpython3.so"), "ELF");
        assert_eq!(read(&long_name["python/".len()..]), "");
        assert_eq!(sandbox.mode("bin/python3.13"), 0o755);
        assert_eq!(sandbox.mode("lib/libpython3.13.so.1.0"), 0o555);
        assert_eq!(sandbox.mode("lib/node_modules/npm/bin/npm-cli.js"), 0o644);
        // Interpreters compare their bytecode caches with the sources' modification times.
        let modified = std::fs::metadata(layer.join("lib/node_modules/npm/bin/npm-cli.js"))
            .unwrap()
            .mtime();
        assert_eq!(modified, 1_700_000_000);
    }

    #[test]
    fn refuses_traversal() {
        for path in [
            "python/../../outside/x",
            "../outside/x",
            "python/bin/../../../outside/x",
        ] {
            assert_refused(&[file(path, b"x")], path, "outside its directory");
        }
    }

    #[test]
    fn refuses_absolute_paths() {
        let sandbox = Sandbox::new();
        let path = format!("{}/x", sandbox.outside());
        let error = sandbox.extract(&[file(&path, b"x")]).unwrap_err();
        assert_unsafe(&error, &path, "absolute");
        sandbox.assert_nothing_outside();
    }

    #[test]
    fn refuses_writing_through_a_link_to_itself() {
        assert_refused(
            &[
                symlink("python/x", "."),
                symlink("python/x/y", ".."),
                file("python/x/y/F", b"escaped"),
            ],
            "python/x/y",
            "through `x`, a symbolic link",
        );
    }

    #[test]
    fn refuses_writing_through_any_link() {
        assert_refused(
            &[
                dir("python/lib", 0o755),
                symlink("python/x", "lib"),
                file("python/x/F", b""),
            ],
            "python/x/F",
            "through `x`",
        );
    }

    #[test]
    fn refuses_a_link_out_then_a_write_through_it() {
        let sandbox = Sandbox::new();
        let outside = sandbox.outside();
        let error = sandbox
            .extract(&[
                symlink("python/link", &outside),
                file("python/link/passwd", b"root::0:0"),
            ])
            .unwrap_err();
        assert_unsafe(&error, "python/link", "absolute path");
        let error = sandbox
            .extract(&[
                symlink("python/etc", "/etc"),
                file("python/etc/passwd", b"root::0:0"),
            ])
            .unwrap_err();
        assert_unsafe(&error, "python/etc", "absolute path");
        sandbox.assert_nothing_outside();
    }

    #[test]
    fn refuses_link_chains_that_end_outside() {
        assert_refused(
            &[symlink("python/a", "b"), symlink("python/b", "../..")],
            "python/b",
            "outside its directory",
        );

        // `d/x/..` looks like `d` but is `x`'s target's parent: the layer's parent here.
        assert_refused(
            &[
                symlink("python/d/x", ".."),
                symlink("python/a", "d/x/.."),
                file("python/a/outside/F", b"escaped"),
            ],
            "python/a",
            "after a name",
        );
    }

    #[test]
    fn refuses_hard_links_out() {
        for target in ["/etc/passwd", "../outside", "python/../../outside/x", "python"] {
            assert_refused(
                &[hard_link("python/h", target)],
                "python/h",
                "outside its directory",
            );
        }
    }

    #[test]
    fn refuses_hard_links_through_or_to_a_symlink() {
        assert_refused(
            &[
                file("python/F", b""),
                symlink("python/x", "."),
                hard_link("python/h", "python/x/F"),
            ],
            "python/h",
            "through the symbolic link `x`",
        );

        // A second name for `d/s -> ..` at the top would point above the layer.
        assert_refused(
            &[
                symlink("python/d/s", ".."),
                hard_link("python/h", "python/d/s"),
                file("python/h/outside/F", b"escaped"),
            ],
            "python/h",
            "to the symbolic link `python/d/s`",
        );
    }

    #[test]
    fn refuses_devices_and_fifos() {
        for (kind, name) in [
            (tar::EntryType::Char, "character device"),
            (tar::EntryType::Block, "block device"),
            (tar::EntryType::Fifo, "FIFO (named pipe)"),
        ] {
            let sandbox = Sandbox::new();
            let error = sandbox.extract(&[special("python/dev/x", kind)]).unwrap_err();
            assert_eq!(
                error,
                ArchiveError::UnsupportedEntry {
                    entry: "python/dev/x".into(),
                    kind: name.into()
                }
            );
            assert!(!sandbox.layer().join("dev/x").exists());
            sandbox.assert_nothing_outside();
        }
    }

    #[test]
    fn strips_special_and_world_writable_modes() {
        let sandbox = Sandbox::new();
        sandbox
            .extract(&[
                Raw {
                    mode: 0o4755,
                    ..file("python/bin/setuid", b"")
                },
                Raw {
                    mode: 0o2775,
                    ..file("python/bin/setgid", b"")
                },
                Raw {
                    mode: 0o666,
                    ..file("python/shared", b"")
                },
                dir("python/tmp", 0o1777),
                dir("python/open", 0o777),
            ])
            .unwrap();
        assert_eq!(sandbox.mode("bin/setuid"), 0o755);
        assert_eq!(sandbox.mode("bin/setgid"), 0o775);
        assert_eq!(sandbox.mode("shared"), 0o664);
        assert_eq!(sandbox.mode("tmp"), 0o775);
        assert_eq!(sandbox.mode("open"), 0o775);
        assert_eq!(sandbox.mode("bin"), 0o755);
        sandbox.assert_nothing_outside();
    }

    #[test]
    fn refuses_a_huge_file_without_writing_it() {
        let sandbox = Sandbox::new();
        let declared = 1 << 40;
        let error = sandbox
            .extract(&[Raw {
                declared_size: Some(declared),
                ..file("python/huge", b"")
            }])
            .unwrap_err();
        assert_eq!(
            error,
            ArchiveError::TooLarge {
                entry: "python/huge".into(),
                size: declared
            }
        );
        assert!(!sandbox.layer().join("huge").exists());
        sandbox.assert_nothing_outside();
    }

    #[test]
    fn refuses_a_huge_sparse_file_without_writing_it() {
        let sandbox = Sandbox::new();
        let real_size: u64 = 1 << 40;
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::GNUSparse);
        header.set_mode(0o644);
        header.set_size(512);
        let gnu = header.as_gnu_mut().unwrap();
        gnu.name[..12].copy_from_slice(b"python/huge\0");
        gnu.set_real_size(real_size);
        gnu.sparse[0].set_offset(real_size - 512);
        gnu.sparse[0].set_length(512);
        header.set_cksum();
        let mut builder = tar::Builder::new(Vec::new());
        builder.append(&header, &[b'x'; 512][..]).unwrap();
        let tar = builder.into_inner().unwrap();

        let error = extract_tar(tar.as_slice(), &sandbox.layer(), 1, LIMITS).unwrap_err();

        assert_eq!(
            error,
            ArchiveError::TooLarge {
                entry: "python/huge".into(),
                size: real_size
            }
        );
        assert!(!sandbox.layer().join("huge").exists());
        sandbox.assert_nothing_outside();
    }

    #[test]
    fn refuses_archives_too_large_in_total() {
        let sandbox = Sandbox::new();
        let limits = Limits { entry: 4, total: 10 };
        let error = sandbox
            .extract_within(
                &[
                    file("python/a", b"1234"),
                    file("python/b", b"1234"),
                    file("python/c", b"1234"),
                ],
                limits,
            )
            .unwrap_err();
        assert_eq!(
            error,
            ArchiveError::TooLargeInTotal {
                entry: "python/c".into(),
                total: 12
            }
        );
        assert!(!sandbox.layer().join("c").exists());
        sandbox.assert_nothing_outside();
    }

    #[test]
    fn corrupt_archives() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("broken.tar.gz");
        std::fs::write(&archive, b"not gzip").unwrap();
        let error = extract_tar_gz(&archive, &dir.path().join("out"), 0).unwrap_err();
        assert!(matches!(error, ArchiveError::Corrupt { .. }), "{error}");
    }

    #[test]
    fn unsafe_entry_message_is_rendered() {
        let sandbox = Sandbox::new();
        let error = sandbox
            .extract(&[symlink("python/x", "."), symlink("python/x/y", "..")])
            .unwrap_err();
        insta::assert_snapshot!(error.message("Python 3.13.5").render());
    }

    /// A zip of `(path, Unix mode, data)`, made on Unix; without a mode, made elsewhere. The
    /// mode's file type says what the entry is (a link's data is its target).
    fn zip_of(entries: &[(&str, Option<u32>, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (path, mode, data) in entries {
            let options = zip::write::SimpleFileOptions::default();
            let options = match mode {
                Some(mode) => options.system(zip::System::Unix).external_attributes(mode << 16),
                None => options.system(zip::System::Dos).external_attributes(0),
            };
            writer.start_file(*path, options).unwrap();
            std::io::Write::write_all(&mut writer, data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    const MODULE: &str = "golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64";

    impl Sandbox {
        fn unzip(&self, entries: &[(&str, Option<u32>, &[u8])]) -> Result<(), ArchiveError> {
            unzip(std::io::Cursor::new(zip_of(entries)), &self.layer(), 2, LIMITS)
        }
    }

    /// Extracts a module zip's `entries` (paths under [`MODULE`]): refused as unsafe, with
    /// nothing written outside.
    #[track_caller]
    fn assert_zip_refused(entries: &[(&str, Option<u32>, &[u8])], expected_entry: &str, reason_has: &str) {
        let sandbox = Sandbox::new();
        let error = sandbox.unzip(entries).unwrap_err();
        assert_unsafe(&error, expected_entry, reason_has);
        sandbox.assert_nothing_outside();
    }

    #[test]
    fn extracts_module_zips_without_their_two_top_components() {
        let sandbox = Sandbox::new();
        let path = |relative: &str| format!("{MODULE}/{relative}");
        let (go, compile, readme, link, empty) = (
            path("bin/go"),
            path("pkg/tool/linux_amd64/compile"),
            path("README.md"),
            path("lib/current"),
            path("misc/empty/"),
        );
        let zip = zip_of(&[
            // As the module proxy serves toolchains: Unix modes, or none at all.
            (&go, Some(S_IFREG | 0o755), b"#!go"),
            (&compile, None, b"ELF"),
            // Setuid and write for everyone are stripped, as from tar.
            (&readme, Some(S_IFREG | 0o4666), b"# Go"),
            (&link, Some(S_IFLNK | 0o777), b"../bin"),
            (&empty, Some(S_IFDIR | 0o755), b""),
        ]);
        let archive = sandbox.root.path().join("outside/go.zip");
        std::fs::write(&archive, zip).unwrap();

        extract_zip(&archive, &sandbox.layer(), 2).unwrap();

        std::fs::remove_file(&archive).unwrap();
        sandbox.assert_nothing_outside();
        let read = |path: &str| std::fs::read_to_string(sandbox.layer().join(path)).unwrap();
        assert_eq!(read("bin/go"), "#!go");
        assert_eq!(read("pkg/tool/linux_amd64/compile"), "ELF");
        assert_eq!(read("README.md"), "# Go");
        assert_eq!(read("lib/current/go"), "#!go");
        assert!(sandbox.layer().join("misc/empty").is_dir());
        assert_eq!(sandbox.mode("bin/go"), 0o755);
        assert_eq!(sandbox.mode("pkg/tool/linux_amd64/compile"), 0o644);
        assert_eq!(sandbox.mode("README.md"), 0o664);
        assert_eq!(sandbox.mode("pkg/tool"), 0o755);
    }

    #[test]
    fn zips_refuse_traversal_and_absolute_paths() {
        for path in [
            format!("{MODULE}/../../outside/x"),
            "../outside/x".to_string(),
            format!("{MODULE}/bin/../../../outside/x"),
        ] {
            assert_zip_refused(&[(&path, None, b"x")], &path, "outside its directory");
        }
        let sandbox = Sandbox::new();
        let path = format!("{}/x", sandbox.outside());
        let error = sandbox.unzip(&[(&path, None, b"x")]).unwrap_err();
        assert_unsafe(&error, &path, "absolute");
        sandbox.assert_nothing_outside();
    }

    #[test]
    fn zips_refuse_links_out_and_writes_through_links() {
        let (link, through) = (format!("{MODULE}/x"), format!("{MODULE}/x/F"));
        let sandbox = Sandbox::new();
        let outside = sandbox.outside();
        let error = sandbox
            .unzip(&[
                (&link, Some(S_IFLNK | 0o777), outside.as_bytes()),
                (&through, None, b"escaped"),
            ])
            .unwrap_err();
        assert_unsafe(&error, &link, "absolute path");
        sandbox.assert_nothing_outside();
        assert_zip_refused(
            &[(&link, Some(S_IFLNK | 0o777), b"../..")],
            &link,
            "outside its directory",
        );
        assert_zip_refused(
            &[(&link, Some(S_IFLNK | 0o777), b"."), (&through, None, b"")],
            &through,
            "through `x`, a symbolic link",
        );
    }

    #[test]
    fn zips_refuse_devices_fifos_and_sockets() {
        for (file_type, name) in [
            (S_IFCHR, "character device"),
            (S_IFBLK, "block device"),
            (S_IFIFO, "FIFO (named pipe)"),
            (S_IFSOCK, "socket"),
        ] {
            let sandbox = Sandbox::new();
            let entry = format!("{MODULE}/dev/x");
            let error = sandbox
                .unzip(&[(&entry, Some(file_type | 0o644), b"")])
                .unwrap_err();
            assert_eq!(
                error,
                ArchiveError::UnsupportedEntry {
                    entry,
                    kind: name.into()
                }
            );
            assert!(!sandbox.layer().join("dev/x").exists());
        }
    }

    #[test]
    fn zips_too_large_are_refused_before_writing() {
        let sandbox = Sandbox::new();
        let (a, b, c) = (
            format!("{MODULE}/a"),
            format!("{MODULE}/b"),
            format!("{MODULE}/c"),
        );
        let zip = zip_of(&[(&a, None, b"1234"), (&b, None, b"1234"), (&c, None, b"1234")]);
        let error = unzip(
            std::io::Cursor::new(&zip),
            &sandbox.layer(),
            2,
            Limits { entry: 4, total: 10 },
        )
        .unwrap_err();
        assert_eq!(error, ArchiveError::TooLargeInTotal { entry: c, total: 12 });
        assert!(!sandbox.layer().join("c").exists());
        let error = unzip(
            std::io::Cursor::new(&zip),
            &sandbox.root.path().join("small"),
            2,
            Limits { entry: 3, total: 10 },
        )
        .unwrap_err();
        assert_eq!(error, ArchiveError::TooLarge { entry: a, size: 4 });
    }

    #[test]
    fn corrupt_zips() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("broken.zip");
        std::fs::write(&archive, b"not a zip").unwrap();
        let error = extract_zip(&archive, &dir.path().join("out"), 2).unwrap_err();
        assert!(matches!(error, ArchiveError::Corrupt { .. }), "{error}");
    }
}
