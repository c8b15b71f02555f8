//! The exec.d program's work at every process start: gather the facts (the uid, its account,
//! TOOL_DATA_DIR, the LDAP configuration), decide with the pure functions of this crate, create
//! what the decision needs (the private home, libnss-wrapper's files), and return the variables
//! for the launcher and the notes for stderr. Nothing here fails: every problem becomes a note.

use crate::environment::{Identity, NssWrapper, variables};
use crate::home::{self, Facts, Home, Unusable};
use crate::identity::{self, Group, User};
use crate::ldap::{self, Lookup};
use crate::ldap_config::{self, InvalidLdapConfig, LdapConfig};
use nix::unistd::{AccessFlags, Uid, access, getgid, getuid};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Written by the build next to the `exec.d` directory of the layer.
pub const CONFIG_FILE: &str = "environment.toml";

/// What the build tells the exec.d program.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct Config {
    /// `[org.toolforge.env] keep-home`.
    pub keep_home: bool,
    /// libnss-wrapper, in the layer.
    pub nss_wrapper: Option<PathBuf>,
}

/// Where Toolforge mounts the LDAP client configuration (`mount=all`), in the order they are read.
pub const LDAP_YAML: &str = "/etc/ldap.yaml";
pub const LDAP_CONF: &str = "/etc/ldap.conf";

/// The variables for the launcher and the notes for stderr.
#[must_use]
pub fn run(config: &Config) -> (BTreeMap<String, String>, Vec<String>) {
    let uid = getuid().as_raw();
    let gid = getgid().as_raw();
    let tool_data_dir = std::env::var_os("TOOL_DATA_DIR").map(PathBuf::from);
    let mut notes = Vec::new();

    let account = nix::unistd::User::from_uid(Uid::from_raw(uid)).ok().flatten();
    let ldap = if account.is_some() {
        None
    } else {
        Some(from_ldap(uid))
    };
    let account_home = match (&account, &ldap) {
        (Some(account), _) => Some(account.dir.clone()),
        (None, Some(Ok(Lookup::Found(user, _)))) => Some(PathBuf::from(&user.home)),
        _ => None,
    };
    let (mut home, unusable) = home::decide(
        Facts {
            keep_home: config.keep_home,
            uid,
            tool_data_dir: tool_data_dir.as_deref(),
            account_home: account_home.as_deref(),
        },
        usable,
    );
    if let Home::Private(dir) = &home
        && let Err(error) = create_private_dir(dir, uid)
    {
        notes.push(format!(
            "toolforge: cannot create the home directory {}: {error}",
            dir.display()
        ));
        home = Home::Keep;
    }

    let identity = match ldap {
        None => Identity::Resolved(account.map(|account| account.name).unwrap_or_default()),
        Some(Ok(Lookup::Found(user, groups))) => Identity::Ldap(user, groups),
        Some(outcome) => {
            let reason = match outcome {
                Ok(Lookup::Unknown) => Some(format!("LDAP has no account with uid {uid}")),
                Err(reason) => reason,
                Ok(Lookup::Found(..)) => None,
            };
            let synthetic_home = home.dir().map_or_else(
                || std::env::var("HOME").unwrap_or_else(|_| "/".into()),
                |dir| dir.display().to_string(),
            );
            let (user, group) = identity::synthetic(uid, gid, tool_data_dir.as_deref(), &synthetic_home);
            Identity::Synthetic(user, group, reason)
        }
    };

    let served = match &identity {
        Identity::Resolved(_) => None,
        Identity::Ldap(user, groups) => Some((user, groups.as_slice())),
        Identity::Synthetic(user, group, _) => Some((user, std::slice::from_ref(group))),
    };
    let nss = served.and_then(|(user, groups)| match &config.nss_wrapper {
        None => {
            notes.push("toolforge: libnss-wrapper is missing from the image".to_string());
            None
        }
        Some(library) => write_nss_files(uid, user, groups, library)
            .map_err(|error| notes.push(format!("toolforge: cannot serve the tool's account: {error}")))
            .ok(),
    });
    let (variables, mut decided_notes) = variables(&(home, unusable), &identity, nss.as_ref(), |name| {
        std::env::var(name).ok()
    });
    notes.append(&mut decided_notes);
    (variables, notes)
}

/// The account from LDAP, when the configuration is mounted; `Err(None)` when it is not.
fn from_ldap(uid: u32) -> Result<Lookup, Option<String>> {
    let config = read_ldap_config().ok_or(None)?.map_err(Some)?;
    ldap::lookup(&config, uid, ldap::TIMEOUT).map_err(Some)
}

type Parser = fn(&str) -> Result<LdapConfig, InvalidLdapConfig>;

fn read_ldap_config() -> Option<Result<LdapConfig, String>> {
    let (path, parse): (&str, Parser) = if Path::new(LDAP_YAML).exists() {
        (LDAP_YAML, ldap_config::parse_yaml)
    } else if Path::new(LDAP_CONF).exists() {
        (LDAP_CONF, ldap_config::parse_conf)
    } else {
        return None;
    };
    Some(
        std::fs::read_to_string(path)
            .map_err(|error| error.to_string())
            .and_then(|text| parse(&text).map_err(|error| error.to_string()))
            .map_err(|error| format!("{path} is not usable: {}", first_line(&error))),
    )
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

fn usable(dir: &Path) -> Result<(), Unusable> {
    if !dir.is_dir() {
        Err(Unusable::Missing(dir.to_path_buf()))
    } else if access(dir, AccessFlags::W_OK | AccessFlags::X_OK).is_err() {
        Err(Unusable::ReadOnly(dir.to_path_buf()))
    } else {
        Ok(())
    }
}

/// Creates `dir` for `uid` alone, or accepts it when `uid` already owns it (an earlier start).
fn create_private_dir(dir: &Path, uid: u32) -> std::io::Result<()> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            let metadata = std::fs::symlink_metadata(dir)?;
            if metadata.is_dir() && metadata.uid() == uid {
                Ok(())
            } else {
                Err(std::io::Error::other("it exists and belongs to someone else"))
            }
        }
        Err(error) => Err(error),
    }
}

/// Writes the passwd and group files libnss-wrapper serves: the image's entries and the tool's.
/// Each start replaces them atomically, so that a process starting alongside never reads half.
fn write_nss_files(uid: u32, user: &User, groups: &[Group], library: &Path) -> std::io::Result<NssWrapper> {
    let dir = PathBuf::from(format!("/tmp/toolforge-nss-{uid}"));
    create_private_dir(&dir, uid)?;
    let image_passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let image_group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let image_gids: Vec<&str> = image_group
        .lines()
        .filter_map(|line| line.split(':').nth(2))
        .collect();
    // A group the image already has keeps its entry; two entries for one gid would confuse `id`.
    let new_groups: Vec<Group> = groups
        .iter()
        .filter(|group| !image_gids.contains(&group.gid.to_string().as_str()))
        .cloned()
        .collect();
    let passwd = dir.join("passwd");
    let group = dir.join("group");
    replace_file(&passwd, &identity::passwd_file(&image_passwd, user))?;
    replace_file(&group, &identity::group_file(&image_group, &new_groups))?;
    Ok(NssWrapper {
        passwd: passwd.display().to_string(),
        group: group.display().to_string(),
        library: library.display().to_string(),
    })
}

fn replace_file(path: &Path, contents: &str) -> std::io::Result<()> {
    let temporary = path.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&temporary, contents)?;
    std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o644))?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_dirs_are_private_and_reusable() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().join("home-1");
        let uid = getuid().as_raw();
        create_private_dir(&dir, uid).unwrap();
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        create_private_dir(&dir, uid).unwrap();
        assert!(create_private_dir(&dir, uid + 1).is_err());
        let file = scratch.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(create_private_dir(&file, uid).is_err());
    }

    #[test]
    fn config_round_trips() {
        let config = Config {
            keep_home: true,
            nss_wrapper: Some(PathBuf::from(
                "/layers/toolforge_toolforge/environment/lib/libnss_wrapper.so",
            )),
        };
        let text = toml::to_string(&config).unwrap();
        assert_eq!(toml::from_str::<Config>(&text).unwrap(), config);
        assert_eq!(toml::from_str::<Config>("").unwrap(), Config::default());
    }
}
