//! One module per layer.

pub(crate) mod download_cache;
pub(crate) mod python;
pub(crate) mod tool;
pub(crate) mod venv;
