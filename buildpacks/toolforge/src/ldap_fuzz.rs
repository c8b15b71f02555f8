//! /etc/ldap.yaml and /etc/ldap.conf, fuzzed (see `libtoolforge::fuzz`): `cargo packaging fuzz`
//! runs each with 100,000 inputs. They are the platform's files, not the app's, but a mount of
//! another version of them must not crash every process start.

use crate::ldap_config::{InvalidLdapConfig, LdapConfig, parse_conf, parse_yaml};
use libtoolforge::fuzz::proptest::{self, prelude::*};
use libtoolforge::fuzz::{self, Outcome, Scope};

const YAML: &str = "ldap.yaml";
const CONF: &str = "ldap.conf";

fn host() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-z][a-z0-9-]{0,10}(\\.[a-z]{2,6}){0,2}",
        1 => "(ldap|ldaps|http)://[a-z]{1,6}(:[0-9]{1,6})?",
        1 => "[0-9]{1,3}(\\.[0-9]{1,3}){3}:[0-9]{1,6}",
        1 => Just("[::1]:389".to_string()),
    ]
    .boxed()
}

fn yaml() -> BoxedStrategy<String> {
    let field = prop_oneof![
        proptest::collection::vec(host(), 0..3)
            .prop_map(|hosts| format!("servers:\n  - {}\n", hosts.join("\n  - "))),
        proptest::collection::vec(host(), 0..3).prop_map(|hosts| format!("servers: [{}]", hosts.join(", "))),
        "port: [0-9]{1,6}",
        Just("port: ldap".to_string()),
        Just("basedn: dc=wikimedia,dc=org".to_string()),
        Just("base: \"dc=example, dc=org\"".to_string()),
        Just("user: cn=proxyagent,ou=profile,dc=wikimedia,dc=org\npassword: secret".to_string()),
        Just("servers: ldap-ro.eqiad.wikimedia.org".to_string()),
    ];
    prop_oneof![
        1 => fuzz::any_text(),
        4 => fuzz::mangled(proptest::collection::vec(field, 0..5).prop_map(|fields| fields.join("\n"))),
    ]
    .boxed()
}

fn conf_line() -> BoxedStrategy<String> {
    prop_oneof![
        3 => ("(uri|URI) ", proptest::collection::vec(host(), 1..3)).prop_map(|(key, hosts)| key + &hosts.join(" ")),
        2 => ("host ", proptest::collection::vec(host(), 1..3)).prop_map(|(key, hosts)| key + &hosts.join(" ")),
        1 => "port [0-9a-z]{0,6}",
        1 => Just("base dc=wikimedia,dc=org".to_string()),
        1 => Just("BASE".to_string()),
        1 => Just("ssl on".to_string()),
        1 => "# [ -~]{0,20}",
    ]
    .boxed()
}

fn check(
    file: &str,
    text: &str,
    parsed: Result<LdapConfig, InvalidLdapConfig>,
) -> Result<Outcome, TestCaseError> {
    match parsed {
        Ok(config) => {
            prop_assert!(!config.servers.is_empty());
            Ok(Outcome::Accepted)
        }
        Err(error) => {
            // Whole-file rejections: no server at all, or (the YAML library's own, without a
            // position) more than one document.
            let scope = if error.message.starts_with("it names no")
                || error.message.contains("more than one document")
            {
                Scope::File
            } else {
                Scope::Line
            };
            fuzz::on_a_line(file, error.line, &[(file, text)], scope)
                .map_err(|failure| TestCaseError::fail(format!("{failure}: {error}")))
        }
    }
}

#[test]
fn fuzz_ldap_yaml() {
    fuzz::run("/etc/ldap.yaml", yaml(), |text| {
        check(YAML, text, parse_yaml(text))
    });
}

#[test]
fn fuzz_ldap_conf() {
    fuzz::run("/etc/ldap.conf", fuzz::file(conf_line()), |text| {
        check(CONF, text, parse_conf(text))
    });
}
