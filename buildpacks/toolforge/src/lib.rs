//! The Toolforge runtime environment (issue 6, in progress): see README.md for the contract and
//! what is still to do. The decisions are implemented here as pure, tested functions; the
//! buildpack (`main.rs`, `buildpack.toml`) and its exec.d program come with the LDAP lookup and the
//! libnss-wrapper layer, which is why this crate is a library for now and is not packaged.

pub mod environment;
pub mod home;
pub mod identity;
pub mod ldap_config;
