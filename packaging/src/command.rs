//! Running other programs (docker, go, pack, apt-get) with errors that say what failed.

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs the command with its output going to ours; fails unless it exits 0.
///
/// # Errors
///
/// When the program cannot be started or exits non-zero.
pub fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot start `{}`", describe(command)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", describe(command));
    }
    Ok(())
}

/// Runs the command and returns its standard output; fails unless it exits 0, showing stderr.
///
/// # Errors
///
/// When the program cannot be started or exits non-zero.
pub fn output(command: &mut Command) -> anyhow::Result<String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot start `{}`", describe(command)))?;
    if !output.status.success() {
        bail!(
            "`{}` failed ({}):\n{}",
            describe(command),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Whether the command runs and exits 0, its output discarded.
#[must_use]
pub fn succeeds(command: &mut Command) -> bool {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Whether `program` is on PATH.
#[must_use]
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// The sha256 of everything below `paths` (file names, modes' executable bit, contents), in a
/// stable order: what decides whether a step's inputs changed.
///
/// # Errors
///
/// When a file cannot be read.
pub fn digest_paths(paths: &[&Path], extra: &[&str]) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    for text in extra {
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    for root in paths {
        let mut files = Vec::new();
        collect_files(root, &mut files)?;
        files.sort();
        for file in files {
            let relative = file.strip_prefix(root).unwrap_or(&file);
            hasher.update(relative.to_string_lossy().as_bytes());
            hasher.update([0]);
            let metadata = std::fs::symlink_metadata(&file)?;
            if metadata.file_type().is_symlink() {
                hasher.update(std::fs::read_link(&file)?.to_string_lossy().as_bytes());
            } else {
                use std::os::unix::fs::PermissionsExt;
                hasher.update([u8::from(metadata.permissions().mode() & 0o111 != 0)]);
                hasher
                    .update(std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?);
            }
            hasher.update([0]);
        }
    }
    Ok(format!("{:x}", hasher.finalize()))
}

fn collect_files(path: &Path, files: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    let metadata =
        std::fs::symlink_metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if metadata.is_dir() {
        for entry in std::fs::read_dir(path)? {
            collect_files(&entry?.path(), files)?;
        }
    } else {
        files.push(path.to_path_buf());
    }
    Ok(())
}

/// The sha256 of a file's contents.
///
/// # Errors
///
/// When the file cannot be read.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(format!("{:x}", Sha256::digest(bytes)))
}
