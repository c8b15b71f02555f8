//! The tool's account from LDAP, as Toolforge's SSSD would find it: an anonymous search of the
//! servers that `/etc/ldap.yaml` or `/etc/ldap.conf` name, bounded in time so that a slow or
//! broken directory never holds a process start for long.

use crate::identity::{Group, User};
use crate::ldap_config::LdapConfig;
use ldap3::{LdapConn, LdapConnSettings, Scope, SearchEntry, ldap_escape};
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most a process start waits for LDAP, over all servers.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// What the directory says about the uid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(User, Vec<Group>),
    Unknown,
}

/// Looks `uid` up, within `timeout` as far as the client library can tell: a server that
/// accepts connections and never answers is given up on. What the library does not bound (the
/// name lookup of a server) is bounded by the caller, which runs this under its deadline.
///
/// # Errors
///
/// One line saying why no server answered, or why its answer is not used.
pub fn lookup(config: &LdapConfig, uid: u32, timeout: Duration) -> Result<Lookup, String> {
    lookup_in_servers(config, uid, Instant::now() + timeout)
}

fn lookup_in_servers(config: &LdapConfig, uid: u32, deadline: Instant) -> Result<Lookup, String> {
    let mut failures = Vec::new();
    for (index, server) in config.servers.iter().enumerate() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            failures.push(format!("{server}: no time left"));
            break;
        }
        // Leave the servers after this one a fair share of the time.
        let servers_left = u32::try_from(config.servers.len() - index).unwrap_or(u32::MAX);
        match lookup_in(server, &config.base, uid, remaining / servers_left) {
            Ok(lookup) => return Ok(lookup),
            Err(error) => failures.push(format!("{server}: {error}")),
        }
    }
    Err(format!("LDAP lookup failed ({})", failures.join("; ")))
}

fn lookup_in(server: &str, base: &str, uid: u32, budget: Duration) -> Result<Lookup, String> {
    let started = Instant::now();
    let timed_out = |error: ldap3::LdapError| {
        if started.elapsed() >= budget {
            format!("no answer within {:.1}s", budget.as_secs_f32())
        } else {
            error.to_string()
        }
    };
    let mut settings = LdapConnSettings::new().set_conn_timeout(budget);
    if server.starts_with("ldaps://") {
        settings = settings.set_config(tls_config()?);
    }
    let mut ldap = LdapConn::with_settings(settings, server).map_err(timed_out)?;
    let remaining = || {
        budget
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1))
    };
    let (entries, _) = ldap
        .with_timeout(remaining())
        .search(
            base,
            Scope::Subtree,
            &format!("(&(objectClass=posixAccount)(uidNumber={uid}))"),
            USER_ATTRIBUTES,
        )
        .and_then(ldap3::SearchResult::success)
        .map_err(timed_out)?;
    let entries: Vec<Attributes> = entries
        .into_iter()
        .map(|entry| SearchEntry::construct(entry).attrs)
        .collect();
    let Some(user) = user_among(&entries, uid)? else {
        return Ok(Lookup::Unknown);
    };
    let filter = format!(
        "(&(objectClass=posixGroup)(|(gidNumber={})(memberUid={})))",
        user.gid,
        ldap_escape(user.name.as_str())
    );
    let (entries, _) = ldap
        .with_timeout(remaining())
        .search(base, Scope::Subtree, &filter, GROUP_ATTRIBUTES)
        .and_then(ldap3::SearchResult::success)
        .map_err(timed_out)?;
    let entries: Vec<Attributes> = entries
        .into_iter()
        .map(|entry| SearchEntry::construct(entry).attrs)
        .collect();
    let groups = groups_among(&entries);
    let _ = ldap.with_timeout(remaining()).unbind();
    Ok(Lookup::Found(user, groups))
}

const USER_ATTRIBUTES: [&str; 5] = ["uid", "uidNumber", "gidNumber", "homeDirectory", "loginShell"];
const GROUP_ATTRIBUTES: [&str; 3] = ["cn", "gidNumber", "memberUid"];

/// An entry's attributes as the search returned them.
type Attributes = HashMap<String, Vec<String>>;

/// The account among the entries the search for `uid` returned: the one whose uidNumber is the
/// uid, whatever else a misconfigured or hostile directory sends back.
fn user_among(entries: &[Attributes], uid: u32) -> Result<Option<User>, String> {
    let mut refused = None;
    for entry in entries {
        match user_from(entry) {
            Ok(Some(user)) if user.uid == uid => return Ok(Some(user)),
            Ok(Some(user)) => {
                refused.get_or_insert_with(|| {
                    format!(
                        "LDAP answered the search for uid {uid} with {} of uid {}",
                        user.name, user.uid
                    )
                });
            }
            Ok(None) => {}
            Err(Refused { attribute, value }) => {
                refused.get_or_insert_with(|| {
                    format!("LDAP's entry for uid {uid} has a line break, NUL or ':' in its {attribute} ({value:?})")
                });
            }
        }
    }
    refused.map_or(Ok(None), Err)
}

/// The groups among the entries the search returned.
fn groups_among(entries: &[Attributes]) -> Vec<Group> {
    entries.iter().filter_map(group_from).collect()
}

/// A value that the files libnss-wrapper serves or the environment cannot hold.
#[derive(Debug, PartialEq, Eq)]
struct Refused {
    attribute: &'static str,
    value: String,
}

/// `:` separates the fields of a passwd or group line and a line break ends the line, so either
/// would let a directory entry write other accounts' lines; NUL ends a C string (HOME in the
/// environment the launcher passes to exec, libnss-wrapper's parser).
fn holdable(value: &str) -> bool {
    !value.contains([':', '\n', '\r', '\0'])
}

fn first<'a>(attributes: &'a Attributes, name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .and_then(|(_, values)| values.first())
        .map(String::as_str)
}

/// The first value of `attribute`, refused when it cannot be held. Refused rather than stripped,
/// for every attribute of the account: each one names something (the account, its home
/// directory, its shell), and a name with characters taken out names something else, perhaps
/// another tool's directory or account. The whole entry then goes, and the tool gets the synthetic
/// account with a line saying why.
fn holdable_first<'a>(
    attributes: &'a Attributes,
    attribute: &'static str,
) -> Result<Option<&'a str>, Refused> {
    match first(attributes, attribute) {
        Some(value) if !holdable(value) => Err(Refused {
            attribute,
            value: value.to_string(),
        }),
        value => Ok(value),
    }
}

/// The account an entry describes; `Ok(None)` when it is not a readable posixAccount (the numbers
/// cannot be parsed, so a number with such characters in it makes the entry unreadable).
fn user_from(attributes: &Attributes) -> Result<Option<User>, Refused> {
    let name = holdable_first(attributes, "uid")?;
    let home = holdable_first(attributes, "homeDirectory")?;
    let shell = holdable_first(attributes, "loginShell")?;
    let number = |attribute| first(attributes, attribute).and_then(|value| value.parse().ok());
    let (Some(name), Some(uid), Some(gid)) = (name, number("uidNumber"), number("gidNumber")) else {
        return Ok(None);
    };
    Ok(Some(User {
        name: name.to_string(),
        uid,
        gid,
        home: home.unwrap_or("/").to_string(),
        shell: shell.unwrap_or("/bin/bash").to_string(),
    }))
}

/// A group an entry describes. A group whose name cannot be held is left out (its name, like an
/// account's, is not to be altered); so is a member whose name cannot be held or holds `,` (the
/// separator of the members list): the other members are still right, and that member is someone
/// else's account, not the tool's.
fn group_from(attributes: &Attributes) -> Option<Group> {
    Some(Group {
        name: first(attributes, "cn").filter(|name| holdable(name))?.to_string(),
        gid: first(attributes, "gidNumber")?.parse().ok()?,
        members: attributes
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case("memberUid"))
            .map(|(_, values)| {
                values
                    .iter()
                    .filter(|member| holdable(member) && !member.contains(','))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// TLS for `ldaps://`: the system's CA store (the run image's ca-certificates, with the
/// certificates the stack adds), with ring as ureq has it. Built here rather than by ldap3, which
/// trusts nothing at all when any file of the store fails to load; here a broken file costs only
/// its own certificates.
fn tls_config() -> Result<Arc<ClientConfig>, String> {
    let found = rustls_native_certs::load_native_certs();
    let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
    let roots = trusted(found.certs, &errors)?;
    let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The CA certificates that loaded, or why none did.
fn trusted(certificates: Vec<CertificateDer<'static>>, errors: &[String]) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certificates);
    if added == 0 {
        let why = errors
            .first()
            .map_or(String::new(), |error| format!(" ({error})"));
        return Err(format!("no CA certificate in the system store for ldaps://{why}"));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;

    fn attributes(pairs: &[(&str, &[&str])]) -> Attributes {
        pairs
            .iter()
            .map(|(key, values)| {
                (
                    (*key).to_string(),
                    values.iter().map(ToString::to_string).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn entries_become_accounts() {
        let user = user_from(&attributes(&[
            ("uid", &["tools.mytool"]),
            ("uidNumber", &["52503"]),
            ("gidnumber", &["52503"]),
            ("homeDirectory", &["/data/project/mytool"]),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            user,
            User {
                name: "tools.mytool".into(),
                uid: 52503,
                gid: 52503,
                home: "/data/project/mytool".into(),
                shell: "/bin/bash".into()
            }
        );
        assert_eq!(
            user_from(&attributes(&[("uid", &["x"]), ("uidNumber", &["nan"])])),
            Ok(None)
        );
        let group = group_from(&attributes(&[
            ("cn", &["tools.mytool"]),
            ("gidNumber", &["52503"]),
            ("memberUid", &["alice", "bob"]),
        ]))
        .unwrap();
        assert_eq!(group.members, ["alice", "bob"]);
    }

    fn tools_mytool(uid: &str) -> Attributes {
        attributes(&[
            ("uid", &["tools.mytool"]),
            ("uidNumber", &[uid]),
            ("gidNumber", &["52503"]),
            ("homeDirectory", &["/data/project/mytool"]),
            ("loginShell", &["/bin/bash"]),
        ])
    }

    #[test]
    fn an_entry_of_another_uid_is_ignored_with_a_warning() {
        let other = tools_mytool("52504");
        assert_eq!(
            user_among(std::slice::from_ref(&other), 52503),
            Err("LDAP answered the search for uid 52503 with tools.mytool of uid 52504".to_string())
        );
        // The entry that is the uid's is used, whatever else came back.
        let found = user_among(&[other, tools_mytool("52503")], 52503)
            .unwrap()
            .unwrap();
        assert_eq!(found.uid, 52503);
        assert_eq!(user_among(&[], 52503), Ok(None));
    }

    #[test]
    fn values_that_would_break_passwd_lines_or_the_environment_are_refused() {
        for (attribute, value) in [
            ("uid", "tools.mytool\nroot::0:0::/:/bin/sh"),
            ("uid", "tools.my:tool"),
            ("uid", "tools.mytool\0"),
            ("homeDirectory", "/data/project/mytool\r"),
            ("homeDirectory", "/data/project/mytool\0/x"),
            ("homeDirectory", "/data/project/a:b"),
            ("loginShell", "/bin/bash\n"),
        ] {
            let mut entry = tools_mytool("52503");
            entry.insert(attribute.to_string(), vec![value.to_string()]);
            let error = user_among(&[entry], 52503).unwrap_err();
            assert_eq!(
                error,
                format!(
                    "LDAP's entry for uid 52503 has a line break, NUL or ':' in its {attribute} ({value:?})"
                )
            );
        }
    }

    #[test]
    fn groups_and_members_that_would_break_the_group_file_are_left_out() {
        let groups = groups_among(&[
            attributes(&[
                ("cn", &["project-tools"]),
                ("gidNumber", &["50380"]),
                (
                    "memberUid",
                    &["tools.mytool", "evil\nroot", "a:b", "c\rd", "e\0f"],
                ),
            ]),
            attributes(&[("cn", &["bad\ngroup"]), ("gidNumber", &["50381"])]),
            attributes(&[("cn", &["bad:group"]), ("gidNumber", &["50382"])]),
        ]);
        assert_eq!(
            groups,
            [Group {
                name: "project-tools".into(),
                gid: 50380,
                members: vec!["tools.mytool".into()],
            }]
        );
    }

    #[test]
    fn an_ldaps_server_is_spoken_to_over_tls() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            if let Some(mut stream) = listener.incoming().map_while(Result::ok).next() {
                let mut first = [0; 3];
                let _ = stream.read_exact(&mut first);
                let _ = sender.send(first);
            }
        });
        let config = LdapConfig {
            servers: vec![format!("ldaps://127.0.0.1:{port}")],
            base: "dc=wikimedia,dc=org".into(),
        };
        let error = lookup(&config, 52503, Duration::from_secs(1)).unwrap_err();
        let first = receiver
            .recv_timeout(Duration::from_secs(1))
            .unwrap_or_else(|_| panic!("no connection to the ldaps:// server: {error}"));
        // A TLS handshake record (a ClientHello), not a plain LDAP message (0x30, a BER SEQUENCE).
        assert_eq!(first[..2], [0x16, 0x03], "{error}");
    }

    #[test]
    fn no_ca_certificate_is_an_error_that_says_why() {
        assert_eq!(
            trusted(Vec::new(), &["permission denied: /etc/ssl/certs".to_string()]).unwrap_err(),
            "no CA certificate in the system store for ldaps:// (permission denied: /etc/ssl/certs)"
        );
        assert!(trusted(vec![CertificateDer::from(vec![0x30, 0x00])], &[]).is_err());
    }

    fn config(port: u16) -> LdapConfig {
        LdapConfig {
            servers: vec![format!("ldap://127.0.0.1:{port}")],
            base: "dc=wikimedia,dc=org".into(),
        }
    }

    #[test]
    fn a_server_that_never_answers_is_given_up_on_in_time() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                held.push(stream);
            }
        });
        let started = Instant::now();
        let error = lookup(&config(port), 52503, Duration::from_millis(500)).unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(error.contains("no answer within 0.5s"), "{error}");
    }

    #[test]
    fn garbage_is_an_error() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().map_while(Result::ok) {
                let mut buffer = [0; 64];
                let _ = stream.read(&mut buffer);
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\nthis is not LDAP");
            }
        });
        let error = lookup(&config(port), 52503, Duration::from_secs(2)).unwrap_err();
        assert!(
            error.starts_with("LDAP lookup failed (ldap://127.0.0.1:"),
            "{error}"
        );
    }

    #[test]
    fn a_closed_port_is_an_error() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let error = lookup(&config(port), 52503, Duration::from_secs(2)).unwrap_err();
        assert!(error.contains("127.0.0.1"), "{error}");
    }
}
