//! The tool's account from LDAP, as Toolforge's SSSD would find it: an anonymous search of the
//! servers that `/etc/ldap.yaml` or `/etc/ldap.conf` name, bounded in time so that a slow or
//! broken directory never holds a process start for long.

use crate::identity::{Group, User};
use crate::ldap_config::LdapConfig;
use ldap3::{LdapConn, LdapConnSettings, Scope, SearchEntry, ldap_escape};
use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The most a process start waits for LDAP, over all servers.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// What the directory says about the uid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(User, Vec<Group>),
    Unknown,
}

/// Looks `uid` up. The search runs on its own thread and is abandoned at `timeout`, whatever the
/// client library does with a server that accepts connections and never answers.
///
/// # Errors
///
/// One line saying why no server answered.
pub fn lookup(config: &LdapConfig, uid: u32, timeout: Duration) -> Result<Lookup, String> {
    let (sender, receiver) = mpsc::channel();
    let config = config.clone();
    let deadline = Instant::now() + timeout;
    std::thread::spawn(move || {
        let _ = sender.send(lookup_in_servers(&config, uid, deadline));
    });
    // A little more than the deadline, so that the search's own timeout error wins when it fires.
    match receiver.recv_timeout(timeout + Duration::from_millis(200)) {
        Ok(result) => result,
        Err(RecvTimeoutError::Timeout) => {
            Err(format!("LDAP did not answer within {}s", timeout.as_secs_f32()))
        }
        Err(RecvTimeoutError::Disconnected) => Err("the LDAP lookup failed unexpectedly".to_string()),
    }
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
    let settings = LdapConnSettings::new().set_conn_timeout(budget);
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
    let Some(user) = entries
        .into_iter()
        .map(|entry| SearchEntry::construct(entry).attrs)
        .find_map(|attributes| user_from(&attributes))
    else {
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
    let groups = entries
        .into_iter()
        .filter_map(|entry| group_from(&SearchEntry::construct(entry).attrs))
        .collect();
    let _ = ldap.with_timeout(remaining()).unbind();
    Ok(Lookup::Found(user, groups))
}

const USER_ATTRIBUTES: [&str; 5] = ["uid", "uidNumber", "gidNumber", "homeDirectory", "loginShell"];
const GROUP_ATTRIBUTES: [&str; 3] = ["cn", "gidNumber", "memberUid"];

fn first<'a>(attributes: &'a HashMap<String, Vec<String>>, name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .and_then(|(_, values)| values.first())
        .map(String::as_str)
}

fn user_from(attributes: &HashMap<String, Vec<String>>) -> Option<User> {
    Some(User {
        name: first(attributes, "uid")?.to_string(),
        uid: first(attributes, "uidNumber")?.parse().ok()?,
        gid: first(attributes, "gidNumber")?.parse().ok()?,
        home: first(attributes, "homeDirectory").unwrap_or("/").to_string(),
        shell: first(attributes, "loginShell").unwrap_or("/bin/bash").to_string(),
    })
}

fn group_from(attributes: &HashMap<String, Vec<String>>) -> Option<Group> {
    Some(Group {
        name: first(attributes, "cn")?.to_string(),
        gid: first(attributes, "gidNumber")?.parse().ok()?,
        members: attributes
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case("memberUid"))
            .map(|(_, values)| values.clone())
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    fn attributes(pairs: &[(&str, &[&str])]) -> HashMap<String, Vec<String>> {
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
            None
        );
        let group = group_from(&attributes(&[
            ("cn", &["tools.mytool"]),
            ("gidNumber", &["52503"]),
            ("memberUid", &["alice", "bob"]),
        ]))
        .unwrap();
        assert_eq!(group.members, ["alice", "bob"]);
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
