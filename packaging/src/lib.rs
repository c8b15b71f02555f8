//! Set-up and packaging for toolforge-buildpacks, as a library so that the end-to-end tests find
//! the same tools, images and paths the `packaging` command made.

#[cfg(test)]
mod bad_input_table;
pub mod builder;
pub mod buildpacks;
pub mod cnb_tools;
pub mod command;
pub mod file_server;
pub mod fuzz;
pub mod go_mirror;
pub mod inventory;
pub mod mirror;
mod mirror_files;
pub mod new_buildpack;
pub mod node_mirror;
pub mod paths;
pub mod sbom;
pub mod setup;
pub mod stack;
pub mod step;

/// The builder image unless `TOOLFORGE_BUILDER_IMAGE` names another.
const DEFAULT_BUILDER_IMAGE: &str = "toolforge/builder";

/// The builder image, as `pack build --builder` names it (without a tag): `toolforge/builder`, or
/// the one `TOOLFORGE_BUILDER_IMAGE` names, so that a test can build a builder of its own (the
/// scaffold's) without replacing the one every other test uses.
#[must_use]
pub fn builder_image() -> String {
    std::env::var("TOOLFORGE_BUILDER_IMAGE")
        .ok()
        .filter(|image| !image.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_BUILDER_IMAGE.to_string())
}

/// The version of this repository's builder (the workspace version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
