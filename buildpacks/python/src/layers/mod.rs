//! One module per layer.

pub(crate) mod dependencies;
pub(crate) mod download_cache;
pub(crate) mod python;
pub(crate) mod tool;
