//! The exec.d program's work at every process start: gather the facts (the uid, its account,
//! TOOL_DATA_DIR, the LDAP configuration), decide with the pure functions of this crate, create
//! what the decision needs (the private home, libnss-wrapper's files), and return the variables
//! for the launcher and the notes for stderr. Nothing here fails: every problem becomes a note;
//! and nothing here waits past the deadline for a lookup that hangs (see `bounded`).

use crate::bounded::{self, Deadline, Missed};
use crate::environment::{Identity, NssWrapper, variables};
use crate::home::{self, Facts, Home, Unusable};
use crate::identity::{self, Group, User};
use crate::ldap::{self, Lookup};
use crate::ldap_config::{self, InvalidLdapConfig, LdapConfig};
use nix::unistd::{AccessFlags, Uid, access, getgid, getuid};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// What the exec.d program looks at on the machine it starts on. The lookups that can block (NSS,
/// which asks SSSD; a directory on NFS; LDAP) are functions, so that tests can make them hang.
#[derive(Debug, Clone)]
pub struct Host {
    pub uid: u32,
    pub gid: u32,
    /// TOOL_DATA_DIR as the platform set it.
    pub tool_data_dir: Option<PathBuf>,
    /// A variable of the process's environment.
    pub inherited: fn(&str) -> Option<String>,
    /// The uid's account as NSS knows it (`/etc/passwd`, SSSD).
    pub account: fn(u32) -> Option<Account>,
    /// Whether a directory can be HOME.
    pub usable: fn(&Path) -> Result<(), Unusable>,
    /// The uid's account from LDAP within the time given; `Err(None)` when LDAP is not configured.
    pub ldap: fn(u32, Duration) -> Result<Lookup, Option<String>>,
    /// How long a process start may wait for these lookups, all together.
    pub timeout: Duration,
    /// Where the private home and libnss-wrapper's files are made: `/tmp`.
    pub temp_dir: PathBuf,
}

/// The account NSS knows: what HOME and the identity need of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub home: PathBuf,
}

impl Host {
    /// This process on this machine.
    #[must_use]
    pub fn this_process() -> Self {
        Self {
            uid: getuid().as_raw(),
            gid: getgid().as_raw(),
            tool_data_dir: std::env::var_os("TOOL_DATA_DIR").map(PathBuf::from),
            inherited: |name| std::env::var(name).ok(),
            account: nss_account,
            usable,
            ldap: from_ldap,
            timeout: ldap::TIMEOUT,
            temp_dir: PathBuf::from("/tmp"),
        }
    }
}

/// The variables for the launcher and the notes for stderr.
#[must_use]
pub fn run(config: &Config) -> (BTreeMap<String, String>, Vec<String>) {
    run_on(config, &Host::this_process())
}

/// [`run`] on `host`.
#[must_use]
pub fn run_on(config: &Config, host: &Host) -> (BTreeMap<String, String>, Vec<String>) {
    let (uid, gid) = (host.uid, host.gid);
    let tool_data_dir = host.tool_data_dir.clone();
    let mut notes = Vec::new();

    // NSS, LDAP and the directory checks share one deadline: a hung SSSD or NFS mount costs a
    // process start that much, once, and the start goes on with what the others found.
    let deadline = Deadline::after(host.timeout);
    let nss_account = host.account;
    let account = bounded::within(deadline.budget(), move || nss_account(uid)).unwrap_or_else(|missed| {
        notes.push(format!(
            "toolforge: the account lookup for uid {uid} (NSS, SSSD) {missed}"
        ));
        None
    });
    let ldap = account.is_none().then(|| {
        let (budget, ldap_account) = (deadline.budget(), host.ldap);
        // A little more than the budget, so that the search's own timeout error (which names the
        // server) wins when it fires.
        bounded::within(budget + LDAP_MARGIN, move || ldap_account(uid, budget))
            .unwrap_or_else(|missed| Err(Some(format!("LDAP {}", with_budget(missed, budget)))))
    });
    let account_home = match (&account, &ldap) {
        (Some(account), _) => Some(account.home.clone()),
        (None, Some(Ok(Lookup::Found(user, _)))) => Some(PathBuf::from(&user.home)),
        _ => None,
    };
    let (mut home, unusable) = home::decide(
        Facts {
            keep_home: config.keep_home,
            uid,
            tool_data_dir: tool_data_dir.as_deref(),
            account_home: account_home.as_deref(),
            temp_dir: &host.temp_dir,
        },
        |dir| {
            let (budget, usable, owned) = (deadline.budget(), host.usable, dir.to_path_buf());
            bounded::within(budget, move || usable(&owned))
                .unwrap_or_else(|missed| Err(Unusable::NoAnswer(dir.to_path_buf(), missed.to_string())))
        },
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
                || (host.inherited)("HOME").unwrap_or_else(|| "/".into()),
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
        Some(library) => write_nss_files(&host.temp_dir, uid, user, groups, library)
            .map_err(|error| notes.push(format!("toolforge: cannot serve the tool's account: {error}")))
            .ok(),
    });
    let (variables, mut decided_notes) =
        variables(&(home, unusable), &identity, nss.as_ref(), host.inherited);
    notes.append(&mut decided_notes);
    (variables, notes)
}

/// How long the LDAP step is waited for beyond its budget.
const LDAP_MARGIN: Duration = Duration::from_millis(200);

/// LDAP, waited for a margin beyond its budget, is reported with the budget it was given.
fn with_budget(missed: Missed, budget: Duration) -> Missed {
    match missed {
        Missed::NoAnswer(_) => Missed::NoAnswer(budget),
        Missed::Failed => Missed::Failed,
    }
}

fn nss_account(uid: u32) -> Option<Account> {
    let user = nix::unistd::User::from_uid(Uid::from_raw(uid)).ok().flatten()?;
    Some(Account {
        name: user.name,
        home: user.dir,
    })
}

/// The account from LDAP, when the configuration is mounted; `Err(None)` when it is not.
fn from_ldap(uid: u32, timeout: Duration) -> Result<Lookup, Option<String>> {
    let config = read_ldap_config().ok_or(None)?.map_err(Some)?;
    ldap::lookup(&config, uid, timeout).map_err(Some)
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
    libtoolforge::private_dir::create(dir, uid)
}

/// Writes the passwd and group files libnss-wrapper serves: the image's entries and the tool's.
/// Each start replaces them atomically, so that a process starting alongside never reads half.
fn write_nss_files(
    temp_dir: &Path,
    uid: u32,
    user: &User,
    groups: &[Group],
    library: &Path,
) -> std::io::Result<NssWrapper> {
    let dir = temp_dir.join(format!("toolforge-nss-{uid}"));
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

    const TOOL: &str = "/data/project/mytool";
    const TIMEOUT: Duration = Duration::from_millis(300);

    /// A lookup stuck in the kernel or in SSSD: it never returns.
    fn block_forever() -> ! {
        let (_sender, receiver) = std::sync::mpsc::channel::<()>();
        loop {
            let _ = receiver.recv();
        }
    }

    /// A uid that nothing knows, without LDAP, whose directories are all fine.
    fn host() -> Host {
        Host {
            uid: 52503,
            gid: 52503,
            tool_data_dir: None,
            inherited: |_| None,
            account: |_| None,
            usable: |_| Ok(()),
            ldap: |_, _| Err(None),
            timeout: TIMEOUT,
            temp_dir: std::env::temp_dir(),
        }
    }

    /// Runs the program on `host` and fails the test when it has not finished well after the
    /// deadline (the stuck thread is left behind, as the program leaves it).
    fn run_bounded(config: Config, host: Host) -> (BTreeMap<String, String>, Vec<String>) {
        let (sender, receiver) = std::sync::mpsc::channel();
        let started = std::time::Instant::now();
        std::thread::spawn(move || {
            let _ = sender.send(run_on(&config, &host));
        });
        let outcome = receiver
            .recv_timeout(TIMEOUT + Duration::from_secs(2))
            .expect("the exec.d program did not finish within its deadline");
        // The deadline, then LDAP's margin and a late step or two.
        let bound = TIMEOUT + Duration::from_millis(800);
        assert!(started.elapsed() < bound, "{:?}", started.elapsed());
        outcome
    }

    /// The notes of a start on `host` that ends with the synthetic account (HOME kept).
    fn synthetic_start(host: Host) -> Vec<String> {
        let config = Config {
            keep_home: true,
            nss_wrapper: None,
        };
        let (variables, notes) = run_bounded(config, host);
        assert_eq!(variables.get("USER").map(String::as_str), Some("uid52503"));
        notes
    }

    #[test]
    fn a_hanging_nss_lookup_is_abandoned_at_the_deadline() {
        // As if the uid had no account: the synthetic one, served by libnss-wrapper.
        let notes = synthetic_start(Host {
            account: |_| block_forever(),
            ..host()
        });
        let expected = "toolforge: the account lookup for uid 52503 (NSS, SSSD) did not answer within 0.3s";
        assert!(notes.iter().any(|note| note == expected), "{notes:?}");
    }

    #[test]
    fn a_hanging_ldap_lookup_is_abandoned_at_the_deadline() {
        let notes = synthetic_start(Host {
            ldap: |_, _| block_forever(),
            ..host()
        });
        let expected = "toolforge: using the synthetic user uid52503: LDAP did not answer within 0.3s";
        assert!(notes.iter().any(|note| note == expected), "{notes:?}");
    }

    #[test]
    fn a_hanging_tool_data_dir_is_unusable_at_the_deadline() {
        let host = Host {
            tool_data_dir: Some(PathBuf::from(TOOL)),
            // The uid's own account, whose home is elsewhere and fine.
            account: |_| {
                Some(Account {
                    name: "tools.mytool".into(),
                    home: std::env::temp_dir(),
                })
            },
            usable: |dir| {
                if dir == Path::new(TOOL) {
                    block_forever()
                } else {
                    Ok(())
                }
            },
            ..host()
        };
        let (variables, notes) = run_bounded(Config::default(), host);
        let temp_dir = std::env::temp_dir().display().to_string();
        assert_eq!(variables.get("HOME"), Some(&temp_dir));
        assert_eq!(
            notes,
            [format!(
                "toolforge: TOOL_DATA_DIR {TOOL} did not answer within 0.3s, so HOME is {temp_dir}"
            )]
        );
    }

    #[test]
    fn everything_hanging_still_ends_in_time() {
        let scratch = tempfile::tempdir().unwrap();
        let host = Host {
            temp_dir: scratch.path().to_path_buf(),
            tool_data_dir: Some(PathBuf::from(TOOL)),
            account: |_| block_forever(),
            usable: |_| block_forever(),
            ldap: |_, _| block_forever(),
            ..host()
        };
        let config = Config {
            keep_home: false,
            nss_wrapper: None,
        };
        let (variables, notes) = run_bounded(config, host);
        assert_eq!(variables.get("USER").map(String::as_str), Some("tools.mytool"));
        assert!(notes.len() >= 3, "{notes:?}");
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
