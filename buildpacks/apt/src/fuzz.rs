//! The Aptfile and the project.toml tables of this buildpack, fuzzed (see `libtoolforge::fuzz`):
//! `cargo packaging fuzz` runs each with 100,000 inputs.

use crate::config::{self, APTFILE};
use crate::errors::error_message;
use libtoolforge::fuzz::proptest::{self, prelude::*};
use libtoolforge::fuzz::{self, Outcome, Scope, Table};
use libtoolforge::project_toml;

/// Package requests as people write them, some of them refused.
fn package() -> BoxedStrategy<String> {
    prop_oneof![
        8 => "[a-z0-9][a-z0-9+.-]{1,20}",
        2 => "[a-z0-9][a-z0-9+.-]{1,12}=[0-9][0-9a-z.+~:-]{0,10}",
        1 => proptest::sample::select(
            &[
                "libfoo*",
                "FFmpeg",
                "https://example.org/tool_1.0_amd64.deb",
                "./local.deb",
                "g++",
                "libc6-dev",
                "name=",
                "=1.0",
            ][..]
        )
        .prop_map(ToString::to_string),
    ]
    .boxed()
}

fn aptfile_line() -> BoxedStrategy<String> {
    prop_oneof![
        8 => package(),
        2 => proptest::collection::vec(package(), 2..4).prop_map(|packages| packages.join(" ")),
        1 => package().prop_map(|package| format!("{package} # why")),
        1 => "# [ -~]{0,30}",
        1 => Just(String::new()),
        1 => Just(":repo:deb http://apt.example.org stable main".to_string()),
    ]
    .boxed()
}

/// This buildpack's tables, with entries in each of the forms they take.
const TABLES: &[Table] = &[
    (
        "[org.toolforge.apt]",
        &[
            "packages = [\"ffmpeg\", \"graphviz=2.42.4-3\"]",
            "packages = [\n  \"ffmpeg\",\n  { name = \"graphviz\", version = \"2.42.4-3\" },\n]",
            "packages = ['ffmpeg', \"make=4.4.1-2\"]",
            "packages = [\"libfoo*\"]",
            "packages = [\"https://example.org/x.deb\"]",
            "packages = []",
        ],
    ),
    (
        "[com.heroku.buildpacks.deb-packages]",
        &[
            "install = [\"git\", { name = \"graphviz\", skip_dependencies = true }]",
            "install = [\n  \"ffmpeg\",\n  { name = \"x11\", force = true },\n]",
            "install = ['curl']",
        ],
    ),
    (
        "[[com.heroku.buildpacks.deb-packages.sources]]",
        &["uri = \"https://example.org\"", "suites = [\"stable\"]"],
    ),
];

#[test]
fn fuzz_aptfile() {
    let files = fuzz::file(aptfile_line());
    fuzz::run("Aptfile", files, |text| match config::parse(None, Some(text)) {
        Ok(_) => Ok(Outcome::Accepted),
        Err(error) => fuzz::located(&error_message(&error), &[(APTFILE, text)], Scope::Line),
    });
}

#[test]
fn fuzz_apt_project_toml() {
    fuzz::run(
        "project.toml [org.toolforge.apt], [com.heroku…deb-packages]",
        fuzz::project_toml(TABLES),
        |text| match config::parse(Some(text.clone()), None) {
            Ok(_) => Ok(Outcome::Accepted),
            Err(error) => fuzz::located(&error_message(&error), &[(project_toml::FILE, text)], Scope::Line),
        },
    );
}
