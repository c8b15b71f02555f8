//! One module per layer.

pub(crate) mod cache;
pub(crate) mod node;
pub(crate) mod node_modules;
pub(crate) mod package_manager;
