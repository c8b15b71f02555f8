//! The layers this buildpack makes, one module each.

pub(crate) mod caches;
pub(crate) mod jdk;
pub(crate) mod maven;
