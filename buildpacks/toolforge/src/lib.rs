//! The Toolforge runtime environment, as the exec.d program applies it at every process start.
//! The decisions are pure functions (`home`, `identity`, `environment`) tested without servers;
//! `exec_d` gathers the facts, each lookup that can hang under one deadline (`bounded`), and acts
//! on the decisions. The buildpack itself is `main.rs`.

pub mod bounded;
pub mod environment;
pub mod exec_d;
pub mod home;
pub mod identity;
pub mod ldap;
pub mod ldap_config;
#[cfg(test)]
mod ldap_fuzz;
