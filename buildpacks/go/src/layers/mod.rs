//! The layers this buildpack makes, one module each.

pub(crate) mod bin;
pub(crate) mod caches;
pub(crate) mod go;
