//! What the exec.d program tells the launcher, decided from what it found: the variables to set
//! and the one-line notes to log. Pure, so that every combination is tested without a server.

use crate::home::{Home, Unusable};
use crate::identity::{Group, User};
use std::collections::BTreeMap;

/// Where the tool's identity came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// `/etc/passwd` or SSSD already know the uid (by this name): nothing to serve.
    Resolved(String),
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

impl Identity {
    /// The account's name.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::Resolved(name) => name,
            Self::Ldap(user, _) | Self::Synthetic(user, _, _) => &user.name,
        }
    }
}

/// The variables for the process, and the notes to print to stderr (one line each). `inherited`
/// gives the value a variable already has (from the platform, the image or the tool).
#[must_use]
pub fn variables(
    home: &(Home, Option<Unusable>),
    identity: &Identity,
    nss: Option<&NssWrapper>,
    inherited: impl Fn(&str) -> Option<String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let mut variables = BTreeMap::new();
    let mut notes = Vec::new();
    // As a login on the grid had them; scripts read these rather than asking NSS.
    for name in ["USER", "LOGNAME"] {
        if inherited(name).is_none_or(|value| value.is_empty()) {
            variables.insert(name.to_string(), identity.name().to_string());
        }
    }
    if let Some(dir) = home.0.dir() {
        variables.insert("HOME".to_string(), dir.display().to_string());
    }
    if let Some(reason) = &home.1 {
        let home = home
            .0
            .dir()
            .map_or("unchanged".to_string(), |dir| dir.display().to_string());
        notes.push(format!("toolforge: {reason}, so HOME is {home}"));
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
        let preload = match inherited("LD_PRELOAD").filter(|preload| !preload.is_empty()) {
            Some(existing) if existing.split([' ', ':']).any(|entry| entry == nss.library) => existing,
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
        let (variables, notes) = variables(
            &home,
            &Identity::Resolved("toolforge".into()),
            Some(&nss()),
            |name| (name == "USER").then(|| "platform".to_string()),
        );
        assert_eq!(variables.keys().collect::<Vec<_>>(), ["HOME", "LOGNAME"]);
        assert_eq!(variables["LOGNAME"], "toolforge");
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
        let (variables, notes) = variables(&home, &identity, Some(&nss()), |name| {
            (name == "LD_PRELOAD").then(|| "/usr/lib/libfoo.so".to_string())
        });
        assert_eq!(variables["USER"], "tools.mytool");
        assert_eq!(variables["HOME"], "/tmp/home-52503");
        assert_eq!(
            variables["LD_PRELOAD"],
            "/layers/toolforge_toolforge/nss/lib/libnss_wrapper.so /usr/lib/libfoo.so"
        );
        assert_eq!(variables["NSS_WRAPPER_PASSWD"], "/tmp/toolforge-nss-52503/passwd");
        assert_eq!(
            notes,
            [
                "toolforge: TOOL_DATA_DIR /data/project/mytool is not writable, so HOME is /tmp/home-52503",
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
            |name| (name == "LD_PRELOAD").then(|| library.clone()),
        );
        assert!(!variables.contains_key("HOME"));
        assert_eq!(variables["LD_PRELOAD"], library);
    }
}
