//! One module per layer.

pub(crate) mod apt_state;
pub(crate) mod packages;
