//! Where things are: the repository, its build output, and the cache of slow-to-make things.

use std::path::{Path, PathBuf};

/// The repository's root (the Cargo workspace).
#[must_use]
pub fn workspace_root() -> PathBuf {
    // This crate lives in `<root>/packaging`.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Cargo's target directory, where packaged buildpacks and generated files go.
#[must_use]
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// Files `packaging` generates (builder.toml, stack build context, stamps).
#[must_use]
pub fn generated_dir() -> PathBuf {
    target_dir().join("toolforge")
}

/// Where packaged buildpacks go, one directory per buildpack id.
#[must_use]
pub fn packaged_buildpacks_dir() -> PathBuf {
    target_dir().join("buildpacks")
}

/// Slow things kept between runs (Go-built pack and lifecycle): `TOOLFORGE_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/toolforge-buildpacks`, else `~/.cache/toolforge-buildpacks`. Nothing depends
/// on it being there: whatever is missing is made again.
#[must_use]
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TOOLFORGE_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME").map_or_else(
        || {
            std::env::var_os("HOME")
                .map_or_else(std::env::temp_dir, PathBuf::from)
                .join(".cache")
        },
        PathBuf::from,
    );
    base.join("toolforge-buildpacks")
}

/// Where the test runtimes' mirrors are (`python/`, `nodejs/`, `go/`), each with its
/// `inventory.toml`; the tests serve this directory.
#[must_use]
pub fn mirrors_dir() -> PathBuf {
    cache_dir().join("mirror")
}
