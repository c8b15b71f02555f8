//! package.json's `engines.node` and `packageManager`, and `[org.toolforge.nodejs]`, fuzzed (see
//! `libtoolforge::fuzz`): `cargo packaging fuzz` runs each with 100,000 inputs.

use crate::app::App;
use crate::config::NodejsConfig;
use crate::errors::error_message;
use crate::package_json::PACKAGE_JSON;
use libtoolforge::fuzz::proptest::{self, prelude::*};
use libtoolforge::fuzz::{self, Outcome, Scope, Table};
use libtoolforge::project_toml::{self, ProjectToml};

const TODAY: &str = "2026-11-24";

fn node_range() -> BoxedStrategy<String> {
    prop_oneof![
        3 => proptest::sample::select(
            &[
                "24.x", ">=20 <23", "^20.1", "20 || 22", "v26.4.0", "node", "lts/*", "LTS/Iron", "lts/jod",
                "lts/nosuch", "latest", "", "  ", "twenty", ">=99", "22.x.x", "*", "~22.1.0", "24.11.1",
                "24.11.1 - 26", ">= 22", "v", "lts/",
            ][..]
        )
        .prop_map(ToString::to_string),
        2 => "[vV<>=^~ 0-9.xX|*-]{0,16}",
    ]
    .boxed()
}

fn package_manager() -> BoxedStrategy<String> {
    prop_oneof![
        3 => proptest::sample::select(
            &[
                "pnpm@10.34.8", "yarn@4.18.1", "yarn@1.22.22", "npm@11.6.2", "pnpm@10.34.8+sha512.abc",
                "bun@1.1.0", "pnpm@latest", "pnpm", "@", "yarn@", "npm@^11", "yarn@v4.1.0",
            ][..]
        )
        .prop_map(ToString::to_string),
        2 => "[a-z@]{0,6}@[0-9a-z.+^~-]{0,12}",
    ]
    .boxed()
}

/// package.json as npm writes it (indented) or minified, with some of the fields this
/// buildpack reads, sometimes of the wrong type.
fn package_json() -> BoxedStrategy<String> {
    let field = prop_oneof![
        Just("\"name\": \"tool\"".to_string()),
        node_range().prop_map(|range| format!("\"engines\": {{\n  \"node\": \"{range}\"\n}}")),
        node_range().prop_map(|range| format!("\"engines\": {{\"npm\": \"10\", \"node\": \"{range}\"}}")),
        Just("\"engines\": {\"node\": 24}".to_string()),
        Just("\"engines\": \"24\"".to_string()),
        package_manager().prop_map(|manager| format!("\"packageManager\": \"{manager}\"")),
        Just("\"packageManager\": null".to_string()),
        Just("\"scripts\": {\n  \"build\": \"vite build\",\n  \"start\": \"node server.js\"\n}".to_string()),
        Just("\"dependencies\": {\"express\": \"^4\", \"node\": \"18\"}".to_string()),
        Just("\"devDependencies\": {\"vite\": \"7.1.0\"}".to_string()),
    ];
    let object = (proptest::collection::vec(field, 0..6), any::<bool>()).prop_map(|(fields, minified)| {
        if minified {
            format!("{{{}}}", fields.join(",").replace('\n', ""))
        } else {
            format!("{{\n  {}\n}}\n", fields.join(",\n").replace('\n', "\n  "))
        }
    });
    prop_oneof![1 => fuzz::any_text(), 4 => fuzz::mangled(object)].boxed()
}

/// package.json's bytes: mostly [`package_json`], sometimes any bytes at all.
fn package_json_bytes() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![1 => fuzz::any_bytes(), 4 => package_json().prop_map(String::into_bytes)].boxed()
}

#[test]
fn fuzz_package_json_engines_and_package_manager() {
    let app_dir = tempfile::tempdir().unwrap();
    fuzz::run(
        "package.json engines.node, packageManager",
        package_json_bytes(),
        |bytes| {
            let text = &String::from_utf8_lossy(bytes);
            let checked = App::parse(app_dir.path(), bytes.clone(), false).and_then(|app| {
                app.node_request(TODAY)?;
                app.package_manager()
            });
            match checked {
                Ok(_) => Ok(Outcome::Accepted),
                Err(error) => fuzz::located(&error_message(&error), &[(PACKAGE_JSON, text)], Scope::Line),
            }
        },
    );
}

const TABLES: &[Table] = &[(
    "[org.toolforge.nodejs]",
    &[
        "prune-dev-dependencies = false",
        "launch = true",
        "launch = \"yes\"",
        "prune = false",
    ],
)];

#[test]
fn fuzz_nodejs_project_toml() {
    fuzz::run(
        "project.toml [org.toolforge.nodejs]",
        fuzz::project_toml(TABLES),
        |text| {
            let config = ProjectToml::parse(text.clone())
                .and_then(|project| project.settings_or_default::<NodejsConfig>(&crate::config::TABLE));
            match config {
                Ok(_) => Ok(Outcome::Accepted),
                Err(error) => fuzz::located(
                    &error_message(&crate::errors::NodejsBuildpackError::Config(error)),
                    &[(project_toml::FILE, text)],
                    Scope::Line,
                ),
            }
        },
    );
}
