//! The scaffold, end to end: what `cargo packaging new-buildpack` makes builds, joins the builder
//! and passes its own unit, snapshot and end-to-end tests, unchanged.
//!
//! It works on a copy of the repository, so that the repository is not changed, and builds a
//! builder of its own (`TOOLFORGE_BUILDER_IMAGE`), so that `toolforge/builder`, which the other
//! tests use meanwhile, is never replaced. The copy asks for the stack the other tests use: the
//! same stack files and `TOOLFORGE_EXTRA_CA_DIR` (which `cargo packaging test` sets), so the stack
//! step finds the images up to date.
//!
//! The copy and its cargo target directory are at fixed paths under cargo's directory for
//! integration tests, so that a second run recompiles only what changed (and the paths compiled
//! into the copy's binaries stay true), and never in the target directory this test runs from:
//! cargo in cargo's own target directory waits on its own lock.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;
use toolforge_tests::packaging;

const NAME: &str = "greeting";
const BUILDER_IMAGE: &str = "toolforge-test/scaffold-builder";

#[test]
fn a_new_buildpack_builds_joins_the_builder_and_passes_its_tests() {
    let scaffold = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold");
    let workspace = scaffold.join("workspace");
    let target = scaffold.join("target");
    copy_workspace(&repository_root(), &workspace);
    let _builder = RemovedOnDrop(BUILDER_IMAGE);

    let steps: [&[&str]; 4] = [
        &[
            "run",
            "--quiet",
            "--package",
            "packaging",
            "--",
            "new-buildpack",
            NAME,
        ],
        &["packaging", "builder"],
        &["test", "--package", &format!("toolforge-{NAME}")],
        &["test", "--package", "toolforge-tests", "--test", NAME],
    ];
    for args in steps {
        cargo(&workspace, &target, args);
    }
    // Kept when a step fails, to look at; made again by the next run.
    let _ = std::fs::remove_dir_all(&workspace);
}

/// The repository this test belongs to.
fn repository_root() -> PathBuf {
    packaging::paths::workspace_root()
}

/// Copies the repository's files (tracked, and new ones Git does not ignore) to `into`, afresh,
/// keeping modes and modification times, so that cargo sees unchanged files as unchanged.
/// Without Git, everything except `target/` and `.git/`.
fn copy_workspace(root: &Path, into: &Path) {
    if into.exists() {
        std::fs::remove_dir_all(into).expect("remove the previous copy");
    }
    let files = git_files(root).unwrap_or_else(|| walk(root, Path::new("")));
    assert!(!files.is_empty(), "no files to copy in {}", root.display());
    for file in files {
        let source = root.join(&file);
        // Tracked files deleted in the working tree.
        let Ok(metadata) = std::fs::metadata(&source) else {
            continue;
        };
        let destination = into.join(&file);
        std::fs::create_dir_all(destination.parent().expect("a file has a parent"))
            .expect("create directory");
        std::fs::copy(&source, &destination)
            .unwrap_or_else(|error| panic!("cannot copy {}: {error}", source.display()));
        let modified = metadata.modified().expect("modification time");
        std::fs::File::options()
            .write(true)
            .open(&destination)
            .and_then(|copy| copy.set_modified(modified))
            .expect("keep the modification time");
    }
}

fn git_files(root: &Path) -> Option<Vec<PathBuf>> {
    let output = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(root)
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())?;
    Some(
        output
            .stdout
            .split(|byte| *byte == 0)
            .filter(|path| !path.is_empty())
            .map(|path| PathBuf::from(String::from_utf8_lossy(path).into_owned()))
            .collect(),
    )
}

fn walk(root: &Path, relative: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root.join(relative)).expect("read directory") {
        let entry = entry.expect("directory entry");
        let path = relative.join(entry.file_name());
        let file_type = entry.file_type().expect("file type");
        if file_type.is_dir() {
            if relative.as_os_str().is_empty()
                && ["target", ".git"].contains(&&*entry.file_name().to_string_lossy())
            {
                continue;
            }
            files.extend(walk(root, &path));
        } else if file_type.is_file() {
            files.push(path);
        }
    }
    files
}

/// Runs cargo in the copy with its own target directory and builder image; panics with the
/// output when it fails.
fn cargo(workspace: &Path, target: &Path, args: &[&str]) {
    let started = Instant::now();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(args)
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", target)
        .env("TOOLFORGE_BUILDER_IMAGE", BUILDER_IMAGE)
        // Everything the copy needs was fetched for the repository itself.
        .env("CARGO_NET_OFFLINE", "true")
        .stdin(Stdio::null())
        .output()
        .expect("cargo can be started");
    let command = format!("cargo {}", args.join(" "));
    assert!(
        output.status.success(),
        "`{command}` failed ({}) in {}:\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        workspace.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{command}: {:.1}s", started.elapsed().as_secs_f64());
}

/// The builder image the copy made, removed (both its tags) when the test ends, passed or not.
struct RemovedOnDrop(&'static str);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        for tag in ["latest", packaging::VERSION] {
            let _ = toolforge_tests::docker(&["image", "rm", "--force", &format!("{}:{tag}", self.0)]);
        }
    }
}
