//! One module per layer.

pub(crate) mod composer;
pub(crate) mod php;
