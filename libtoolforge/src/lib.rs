//! The framework Toolforge's buildpacks share.
//!
//! - [`error`]: errors as data ([`error::ErrorMessage`]: what, where, how to fix) and the one
//!   place they are rendered.
//! - [`output`]: the build log's shape.
//! - [`download`]: downloads with the system CA store, retries, sha256 and mirrors.
//! - [`archive`]: safe extraction of downloaded archives into layers.
//! - [`inventory`]: runtime inventories (version, URL, sha256) and version selection.
//! - [`command`]: running build tools with their output in the log and its end in errors.
//! - [`toml_file`]: the app's TOML files, with errors naming file and line.
//! - [`layer`]: cached layers keyed on metadata, with the reasons a cache was not reused.
//! - [`stack`]: the stack's identity and the Debian packages layered on it, for cache keys.
//! - [`project_toml`]: the app's project.toml, one table at a time.
//! - [`debian`]: Debian packages into a layer, resolved by apt against the run image.
//! - [`apt_state`]: the cached layer with apt's index, downloads and last resolution.
//! - [`build_env`]: the environment build tools run in: the CA store, the user's variables,
//!   each layer's build environment.
//! - [`version_request`]: the version of a runtime an app asks for, where, and by which rules.
//! - [`runtime`]: a runtime from an inventory into a cached layer, and its errors.
//! - [`launch_reuse`]: launch layers kept from the previous image by their metadata, without their files.
//! - [`kept_directory`]: a dependency directory (`node_modules`, `vendor`) kept between builds.
//! - [`debian_layer`]: a package list resolved with [`apt_state`] and installed into a cached
//!   layer keyed on it, with the buildpack's configuration and environment; its errors.
//! - [`run_image_dependencies`]: what a layer of Debian packages takes from the run image,
//!   recorded at install and checked before every process start (exec.d), for rebased images.
//! - [`build_only`]: app files only the build needs (a front end's dependencies), declared by the
//!   buildpack that makes them and removed from the image by the last one.
//! - [`private_dir`]: a run-time directory private to one uid in a shared `/tmp`, refused when
//!   someone else made the name first.
//! - [`sbom`]: a `CycloneDX` SBOM per layer (runtime, Debian packages, dependencies), deterministic.
//! - [`disk`]: the room files take in an image (hard links once) and sizes for the build log.
//! - [`fuzz`] (tests only, the `fuzz` feature): property-based tests of the parsers of the app's files.
//!
//! A buildpack built on this crate keeps its own `errors.rs` (one enum, one function turning it
//! into an [`error::ErrorMessage`]) and calls [`fail`] from `Buildpack::on_error`.

pub mod apt_state;
pub mod archive;
pub mod build_env;
pub mod build_only;
pub mod build_step;
pub mod command;
pub mod debian;
pub mod debian_layer;
pub mod disk;
pub mod download;
pub mod error;
#[cfg(any(test, feature = "fuzz"))]
pub mod fuzz;
pub mod inventory;
pub mod kept_directory;
pub mod languages;
pub mod launch_reuse;
pub mod layer;
pub mod output;
pub mod private_dir;
pub mod project_toml;
pub mod run_image_dependencies;
pub mod runtime;
pub mod sbom;
pub mod stack;
pub mod toml_file;
pub mod user_settings;
pub mod version_request;

use std::fmt::Debug;

/// What a buildpack's `on_error` does: render its own error, or libcnb's, to the build log.
pub fn fail<E: Debug>(error: &libcnb::Error<E>, describe: impl Fn(&E) -> error::ErrorMessage) {
    let message = match error {
        libcnb::Error::BuildpackError(own) => describe(own),
        other => error::libcnb_error_message(other),
    };
    error::print_error(&message);
}
