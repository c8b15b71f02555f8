//! Composer's version constraints, composer.json's and composer.lock's platform requirements, and
//! `[org.toolforge.php]`, fuzzed (see `libtoolforge::fuzz`): `cargo packaging fuzz` runs each
//! with 100,000 inputs.

use crate::composer::{COMPOSER_JSON, COMPOSER_LOCK, Composer, ComposerError};
use crate::config::{PhpConfig, TABLE};
use crate::constraint::{Constraint, release};
use crate::errors::{PhpBuildpackError, error_message};
use crate::requirements::Wanted;
use libtoolforge::fuzz::proptest::{self, prelude::*};
use libtoolforge::fuzz::{self, Outcome, Scope, Table};
use libtoolforge::project_toml::{self, ProjectToml};
use libtoolforge::version_request::VersionMatcher;

/// Constraints as people write them: alternatives of conjunctions of atoms, sometimes wrong.
fn constraint() -> BoxedStrategy<String> {
    let version = prop_oneof![
        4 => "v?[0-9]{1,2}(\\.[0-9*xX]{1,2}){0,3}(-dev|-beta2|@dev|@stable)?",
        1 => "(18446744073709551615|[0-9]{15,21})(\\.[0-9]{1,21}|\\.18446744073709551615)?(\\.\\*)?",
        1 => "[0-9.*xXv@a-z-]{0,8}",
    ];
    let operator = proptest::sample::select(
        &[
            "", "", ">=", ">", "<", "<=", "==", "=", "!=", "<>", "^", "~", ">= ", "~ ",
        ][..],
    );
    let atom = prop_oneof![
        6 => (operator, version.clone()).prop_map(|(operator, version)| format!("{operator}{version}")),
        1 => (version.clone(), version).prop_map(|(low, high)| format!("{low} - {high}")),
        1 => proptest::sample::select(&["*", "x", "-", "@dev", ""][..]).prop_map(ToString::to_string),
    ];
    let conjunction = (
        proptest::collection::vec(atom, 1..4),
        proptest::sample::select(&[" ", ", ", ","][..]),
    )
        .prop_map(|(atoms, separator)| atoms.join(separator));
    prop_oneof![
        5 => (
            proptest::collection::vec(conjunction, 1..3),
            proptest::sample::select(&[" || ", "|", " | "][..]),
        )
            .prop_map(|(alternatives, separator)| alternatives.join(separator)),
        1 => fuzz::any_text(),
    ]
    .boxed()
}

#[test]
fn fuzz_composer_constraint() {
    let versions = ["0.0.1", "7.4.33", "8.4.28", "9.0.0"].map(|version| release(version).unwrap());
    fuzz::run(
        "composer constraint",
        constraint(),
        |text| match Constraint::parse(text) {
            Ok(constraint) => {
                for version in &versions {
                    constraint.matches(version);
                }
                Ok(Outcome::Accepted)
            }
            // A constraint is a value: composer_json below checks where its rejection points.
            Err(_) => Ok(Outcome::Rejected),
        },
    );
}

/// A JSON string's contents: the constraints above, with what JSON must escape escaped.
fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

fn require() -> BoxedStrategy<String> {
    let entry = prop_oneof![
        3 => constraint().prop_map(|constraint| format!("\"php\": {}", json_string(&constraint))),
        1 => Just("\"PHP\": \">=8.2\"".to_string()),
        1 => Just("\"php\": 8".to_string()),
        2 => "(ext-)(intl|gd|PDO_MySQL|redis|json|mysql|nosuch|)".prop_map(|key| format!("\"{key}\": \"*\"")),
        2 => Just("\"monolog/monolog\": \"^3.0\"".to_string()),
    ];
    proptest::collection::vec(entry, 0..5)
        .prop_map(|entries| format!("{{\n    {}\n  }}", entries.join(",\n    ")))
        .boxed()
}

fn composer_json() -> BoxedStrategy<String> {
    let field = prop_oneof![
        Just("\"name\": \"toolforge/tool\"".to_string()),
        require().prop_map(|require| format!("\"require\": {require}")),
        Just("\"require\": []".to_string()),
        Just("\"require\": \"php\"".to_string()),
        Just("\"require-dev\": {\"phpunit/phpunit\": \"^11\"}".to_string()),
        Just("\"config\": {\"vendor-dir\": \"lib/vendor/\"}".to_string()),
        Just("\"autoload\": {\"psr-4\": {\"App\\\\\": \"src/\"}}".to_string()),
    ];
    let object = proptest::collection::vec(field, 0..5)
        .prop_map(|fields| format!("{{\n  {}\n}}\n", fields.join(",\n  ")));
    prop_oneof![1 => fuzz::any_text(), 5 => fuzz::mangled(object)].boxed()
}

fn composer_lock() -> BoxedStrategy<Option<String>> {
    let package =
        ("[a-z]{1,8}/[a-z-]{1,8}", proptest::option::of(require())).prop_map(
            |(name, require)| match require {
                Some(require) => {
                    format!("{{\n      \"name\": \"{name}\",\n      \"require\": {require}\n    }}")
                }
                None => format!("{{\"name\": \"{name}\"}}"),
            },
        );
    let lock = prop_oneof![
        4 => proptest::collection::vec(package, 0..4).prop_map(|packages| {
            format!("{{\n  \"content-hash\": \"0123\",\n  \"packages\": [\n    {}\n  ]\n}}\n", packages.join(",\n    "))
        }),
        1 => Just("{\"packages\": {}}".to_string()),
    ];
    proptest::option::weighted(0.3, fuzz::mangled(lock)).boxed()
}

#[test]
fn fuzz_composer_json_and_lock() {
    fuzz::run(
        "composer.json/composer.lock require",
        (composer_json(), composer_lock()),
        |(json, lock)| {
            let checked = Composer::parse(Some(json.clone()), lock.clone())
                .and_then(|composer| composer.requirements())
                .map_err(PhpBuildpackError::Composer)
                .and_then(|requirements| Wanted::for_app(&PhpConfig::default(), &requirements.extensions));
            match checked {
                Ok(_) => Ok(Outcome::Accepted),
                Err(error) => {
                    let scope = match error {
                        PhpBuildpackError::Composer(ComposerError::LockWithoutJson) => Scope::File,
                        _ => Scope::Line,
                    };
                    let inputs = [
                        (COMPOSER_JSON, json.as_str()),
                        (COMPOSER_LOCK, lock.as_deref().unwrap_or("")),
                    ];
                    fuzz::located(&error_message(&error), &inputs, scope)
                }
            }
        },
    );
}

const TABLES: &[Table] = &[(
    "[org.toolforge.php]",
    &[
        "extensions = [\"gd\", \"ldap\"]",
        "extensions = ['redis']",
        "web-server = \"nginx\"",
        "web-server = \"apache\"",
        "web-server = \"lighttpd\"",
        "document-root = \"public\"",
        "document_root = \"public\"",
    ],
)];

#[test]
fn fuzz_php_project_toml() {
    fuzz::run(
        "project.toml [org.toolforge.php]",
        fuzz::project_toml(TABLES),
        |text| match ProjectToml::parse(text.clone())
            .and_then(|project| project.settings_or_default::<PhpConfig>(&TABLE))
        {
            Ok(_) => Ok(Outcome::Accepted),
            Err(error) => fuzz::located(
                &error_message(&PhpBuildpackError::Config(error)),
                &[(project_toml::FILE, text)],
                Scope::Line,
            ),
        },
    );
}
