//! The Procfile parser, fuzzed (see `libtoolforge::fuzz`): `cargo packaging fuzz` runs it with
//! 100,000 inputs.

use crate::errors::{PROCFILE, ProcfileBuildpackError, error_message};
use crate::procfile::ParseError;
use libtoolforge::fuzz::proptest::{self, prelude::*};
use libtoolforge::fuzz::{self, Outcome, Scope};

/// Lines of Procfiles as people write them.
fn line() -> BoxedStrategy<String> {
    let name = prop_oneof![
        proptest::sample::select(&["web", "worker", "clock", "update-db", "job_2", "9"][..])
            .prop_map(ToString::to_string),
        "[a-z0-9][a-z0-9_-]{0,8}[a-z0-9]",
    ];
    let command = proptest::sample::select(
        &[
            "gunicorn --bind 0.0.0.0:$PORT app:app",
            "python worker.py",
            "node server.js",
            "echo a: b  # not a comment",
            "bash -c 'cd x && ./run'",
        ][..],
    );
    prop_oneof![
        12 => (name, proptest::sample::select(&[": ", ":", ":\t"][..]), command)
            .prop_map(|(name, colon, command)| format!("{name}{colon}{command}")),
        1 => "# [ -~]{0,40}",
        1 => Just(String::new()),
        1 => "[ \t]{1,4}",
    ]
    .boxed()
}

#[test]
fn fuzz_procfile() {
    let files = prop_oneof![
        1 => fuzz::any_bytes(),
        4 => fuzz::file(line()).prop_map(String::into_bytes),
    ];
    fuzz::run("Procfile", files, |bytes| {
        match crate::parse_procfile(bytes.clone()) {
            Ok(procfile) => {
                // The parser promises names that are valid process types.
                prop_assert!(crate::launch(&procfile).is_ok(), "{procfile:?}");
                Ok(Outcome::Accepted)
            }
            Err(error) => {
                let scope = match error {
                    ProcfileBuildpackError::Parse(ParseError::NoProcesses) => Scope::File,
                    _ => Scope::Line,
                };
                let text = String::from_utf8_lossy(bytes);
                fuzz::located(&error_message(&error), &[(PROCFILE, &text)], scope)
            }
        }
    });
}
