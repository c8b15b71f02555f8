//! Where the tool's LDAP directory is: `/etc/ldap.yaml` or `/etc/ldap.conf`, as Toolforge mounts
//! them with `mount=all`.

use serde::Deserialize;

/// Wikimedia's LDAP base, used when the configuration names none.
pub const DEFAULT_BASE: &str = "dc=wikimedia,dc=org";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapConfig {
    /// `ldap://host:port` or `ldaps://host:port` URLs, tried in order.
    pub servers: Vec<String>,
    pub base: String,
}

/// Why a configuration cannot be used; the line when it is one line's fault (YAML that does not
/// parse), none when it is the whole file's (it names no server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidLdapConfig {
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for InvalidLdapConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl InvalidLdapConfig {
    fn whole_file(message: &str) -> Self {
        Self {
            line: None,
            message: message.to_string(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct LdapYaml {
    #[serde(default)]
    servers: Vec<String>,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default, alias = "base")]
    basedn: Option<String>,
}

/// Parses `/etc/ldap.yaml`: `servers` (host names or URLs), optional `port` and `basedn`.
///
/// # Errors
///
/// When it is not YAML of that shape, or names no server.
pub fn parse_yaml(text: &str) -> Result<LdapConfig, InvalidLdapConfig> {
    let yaml: LdapYaml = serde_norway::from_str(text).map_err(|error| InvalidLdapConfig {
        // libyaml puts the end of a file without a final newline on the line after it.
        line: error
            .location()
            .map(|location| location.line().min(text.split('\n').count())),
        message: error.to_string(),
    })?;
    let port = yaml.port.unwrap_or(389);
    let servers: Vec<String> = yaml
        .servers
        .iter()
        .map(|server| server_url(server, port))
        .collect();
    if servers.is_empty() {
        return Err(InvalidLdapConfig::whole_file("it names no servers"));
    }
    Ok(LdapConfig {
        servers,
        base: yaml.basedn.unwrap_or_else(|| DEFAULT_BASE.to_string()),
    })
}

/// Parses `/etc/ldap.conf` (ldap.conf(5), nslcd and libnss-ldap spellings): `uri`/`URI` lines,
/// or `host` with `port`, and `base`/`BASE`.
///
/// # Errors
///
/// When it names no `ldap://` or `ldaps://` server.
pub fn parse_conf(text: &str) -> Result<LdapConfig, InvalidLdapConfig> {
    let mut uris = Vec::new();
    let mut hosts = Vec::new();
    let mut port = 389;
    let mut base = None;
    for line in text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
    {
        let mut words = line.split_whitespace();
        let Some(key) = words.next() else { continue };
        let values: Vec<&str> = words.collect();
        match key.to_ascii_lowercase().as_str() {
            "uri" => uris.extend(values.iter().map(ToString::to_string)),
            "host" => hosts.extend(values.iter().map(ToString::to_string)),
            "port" => port = values.first().and_then(|value| value.parse().ok()).unwrap_or(389),
            "base" => base = values.first().map(ToString::to_string),
            _ => {}
        }
    }
    uris.extend(hosts.iter().map(|host| server_url(host, port)));
    // `ldapi://` (a local socket) cannot reach Toolforge's directory from a container.
    uris.retain(|uri| uri.starts_with("ldap://") || uri.starts_with("ldaps://"));
    if uris.is_empty() {
        return Err(InvalidLdapConfig::whole_file(
            "it names no ldap:// or ldaps:// server",
        ));
    }
    Ok(LdapConfig {
        servers: uris,
        base: base.unwrap_or_else(|| DEFAULT_BASE.to_string()),
    })
}

fn server_url(server: &str, port: u16) -> String {
    if server.contains("://") {
        server.to_string()
    } else if server.contains(':') {
        format!("ldap://{server}")
    } else {
        format!("ldap://{server}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_as_toolforge_mounts_it() {
        let config = parse_yaml(
            "servers:\n  - ldap-ro.eqiad.wikimedia.org\n  - ldap-ro.codfw.wikimedia.org\n\
             user: cn=proxyagent,ou=profile,dc=wikimedia,dc=org\npassword: secret\n",
        )
        .unwrap();
        assert_eq!(
            config,
            LdapConfig {
                servers: vec![
                    "ldap://ldap-ro.eqiad.wikimedia.org:389".into(),
                    "ldap://ldap-ro.codfw.wikimedia.org:389".into()
                ],
                base: DEFAULT_BASE.into()
            }
        );
        let config = parse_yaml("servers: [\"127.0.0.1:3890\"]\nbasedn: dc=example,dc=org\n").unwrap();
        assert_eq!(config.servers, ["ldap://127.0.0.1:3890"]);
        assert_eq!(config.base, "dc=example,dc=org");
    }

    #[test]
    fn ldaps_uris_are_kept() {
        let config = parse_conf("uri ldaps://ldap-ro.eqiad.wikimedia.org ldap://b:389 ldapi:///\n").unwrap();
        assert_eq!(
            config.servers,
            ["ldaps://ldap-ro.eqiad.wikimedia.org", "ldap://b:389"]
        );
        assert_eq!(
            parse_conf("URI ldaps://a:636\n").unwrap().servers,
            ["ldaps://a:636"]
        );
        let config = parse_yaml("servers:\n  - ldaps://a:636\n  - b\n").unwrap();
        assert_eq!(config.servers, ["ldaps://a:636", "ldap://b:389"]);
    }

    #[test]
    fn malformed_yaml() {
        assert!(parse_yaml("servers: [unclosed\n").is_err());
        assert!(parse_yaml("servers: []\n").is_err());
        assert!(parse_yaml("- just\n- a list\n").is_err());
    }

    #[test]
    fn yaml_errors_name_a_line_of_the_file() {
        // Found by fuzz_ldap_yaml: the end of `{` was on line 2 of a one-line file.
        assert_eq!(parse_yaml("{").unwrap_err().line, Some(1));
        assert_eq!(parse_yaml("servers: []\n").unwrap_err().line, None);
    }

    #[test]
    fn conf_spellings() {
        let config =
            parse_conf("# nslcd\nuri ldap://a:389 ldap://b:389\nbase dc=wikimedia,dc=org\n").unwrap();
        assert_eq!(config.servers, ["ldap://a:389", "ldap://b:389"]);
        let config = parse_conf("URI ldap://a\nBASE dc=x\n").unwrap();
        assert_eq!(
            (config.servers.as_slice(), config.base.as_str()),
            (&["ldap://a".to_string()][..], "dc=x")
        );
        let config = parse_conf("host a b\nport 3890\n").unwrap();
        assert_eq!(config.servers, ["ldap://a:3890", "ldap://b:3890"]);
        assert!(parse_conf("ssl on\n").is_err());
    }
}
