//! Set-up and packaging for toolforge-buildpacks, as a library so that the end-to-end tests find
//! the same tools, images and paths the `packaging` command made.

pub mod builder;
pub mod buildpacks;
pub mod cnb_tools;
pub mod command;
pub mod file_server;
pub mod inventory;
pub mod mirror;
mod mirror_files;
pub mod node_mirror;
pub mod paths;
pub mod sbom;
pub mod setup;
pub mod stack;
pub mod step;

/// The builder image, as `pack build --builder` names it.
pub const BUILDER_IMAGE: &str = "toolforge/builder";

/// The version of this repository's builder (the workspace version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
