//! The project.toml tables this buildpack reads, fuzzed (see `libtoolforge::fuzz`): `cargo
//! packaging fuzz` runs it with 100,000 inputs.

use crate::config;
use crate::errors::{ToolforgeBuildpackError, error_message};
use libtoolforge::fuzz::{self, Outcome, Scope, Table};
use libtoolforge::project_toml::{self, ProjectToml};

const TABLES: &[Table] = &[
    (
        "[org.toolforge.env]",
        &["keep-home = true", "keep-home = \"yes\"", "keep_home = false"],
    ),
    (
        "[org.toolforge.build]",
        &["allow-unbuilt-languages = true", "allow-unbuilt = true"],
    ),
    (
        "[org.toolforge.languages]",
        &[
            "python = true",
            "nodejs = false",
            "php = true",
            "python = 1",
            "cobol = true",
        ],
    ),
];

#[test]
fn fuzz_toolforge_project_toml() {
    fuzz::run(
        "project.toml [org.toolforge.env], [.build], [.languages]",
        fuzz::project_toml(TABLES),
        |text| {
            let settings = ProjectToml::parse(text.clone())
                .map_err(|error| (config::Table::Env, error))
                .and_then(|project| config::settings(&project));
            match settings {
                Ok(_) => Ok(Outcome::Accepted),
                Err((table, error)) => fuzz::located(
                    &error_message(&ToolforgeBuildpackError::Config(table, error)),
                    &[(project_toml::FILE, text)],
                    Scope::Line,
                ),
            }
        },
    );
}
