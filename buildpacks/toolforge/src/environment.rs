//! What the exec.d program tells the launcher, decided from what it found: the variables to set
//! and the one-line notes to log. Pure, so that every combination is tested without a server.

use crate::home::{Home, Unusable};
use crate::identity::{Group, User};
use std::collections::BTreeMap;

/// Where the tool's identity came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// `/etc/passwd` or SSSD already know the uid: nothing to serve.
    Resolved,
    /// From LDAP.
    Ldap(User, Vec<Group>),
    /// Made up, because LDAP was not configured or failed (the reason, when it failed).
    Synthetic(User, Group, Option<String>),
}

/// The files libnss-wrapper reads, and the library itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NssWrapper {
    pub passwd: String,
    pub group: String,
    pub library: String,
}

/// The variables for the process, and the notes to print to stderr (one line each).
#[must_use]
pub fn variables(
    home: &(Home, Option<Unusable>),
    identity: &Identity,
    nss: Option<&NssWrapper>,
    ld_preload: Option<&str>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let mut variables = BTreeMap::new();
    let mut notes = Vec::new();
    match &home.0 {
        Home::Keep => {}
        Home::ToolDataDir(dir) | Home::Private(dir) => {
            variables.insert("HOME".to_string(), dir.display().to_string());
        }
    }
    if let Some(reason) = &home.1 {
        notes.push(format!("toolforge: HOME is a private directory: {reason}"));
    }
    if let Identity::Synthetic(user, _, Some(reason)) = identity {
        notes.push(format!(
            "toolforge: using the synthetic user {}: {reason}",
            user.name
        ));
    }
    if let (Some(nss), Identity::Ldap(..) | Identity::Synthetic(..)) = (nss, identity) {
        variables.insert("NSS_WRAPPER_PASSWD".to_string(), nss.passwd.clone());
        variables.insert("NSS_WRAPPER_GROUP".to_string(), nss.group.clone());
        // Keep what the platform or the tool preloads; ours goes first.
        let preload = match ld_preload.filter(|preload| !preload.is_empty()) {
            Some(existing) if existing.split([' ', ':']).any(|entry| entry == nss.library) => {
                existing.to_string()
            }
            Some(existing) => format!("{} {existing}", nss.library),
            None => nss.library.clone(),
        };
        variables.insert("LD_PRELOAD".to_string(), preload);
    }
    (variables, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::synthetic;
    use std::path::{Path, PathBuf};

    fn nss() -> NssWrapper {
        NssWrapper {
            passwd: "/tmp/toolforge-nss-52503/passwd".into(),
            group: "/tmp/toolforge-nss-52503/group".into(),
            library: "/layers/toolforge_toolforge/nss/lib/libnss_wrapper.so".into(),
        }
    }

    #[test]
    fn resolved_uid_gets_only_home() {
        let home = (Home::ToolDataDir(PathBuf::from("/data/project/mytool")), None);
        let (variables, notes) = variables(&home, &Identity::Resolved, Some(&nss()), None);
        assert_eq!(variables.keys().collect::<Vec<_>>(), ["HOME"]);
        assert_eq!(variables["HOME"], "/data/project/mytool");
        assert!(notes.is_empty());
    }

    #[test]
    fn synthetic_identity_is_served_and_explained() {
        let home = (
            Home::Private(PathBuf::from("/tmp/home-52503")),
            Some(Unusable::ReadOnly(PathBuf::from("/data/project/mytool"))),
        );
        let (user, group) = synthetic(
            52503,
            52503,
            Some(Path::new("/data/project/mytool")),
            "/tmp/home-52503",
        );
        let identity = Identity::Synthetic(user, group, Some("LDAP did not answer within 2s".into()));
        let (variables, notes) = variables(&home, &identity, Some(&nss()), Some("/usr/lib/libfoo.so"));
        assert_eq!(variables["HOME"], "/tmp/home-52503");
        assert_eq!(
            variables["LD_PRELOAD"],
            "/layers/toolforge_toolforge/nss/lib/libnss_wrapper.so /usr/lib/libfoo.so"
        );
        assert_eq!(variables["NSS_WRAPPER_PASSWD"], "/tmp/toolforge-nss-52503/passwd");
        assert_eq!(
            notes,
            [
                "toolforge: HOME is a private directory: TOOL_DATA_DIR /data/project/mytool is not writable",
                "toolforge: using the synthetic user tools.mytool: LDAP did not answer within 2s",
            ]
        );
    }

    #[test]
    fn keep_home_and_no_duplicate_preload() {
        let (user, group) = synthetic(52503, 52503, None, "/");
        let library = nss().library;
        let (variables, _) = variables(
            &(Home::Keep, None),
            &Identity::Synthetic(user, group, None),
            Some(&nss()),
            Some(&library),
        );
        assert!(!variables.contains_key("HOME"));
        assert_eq!(variables["LD_PRELOAD"], library);
    }
}
