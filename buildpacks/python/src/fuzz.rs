//! .python-version and runtime.txt, fuzzed (see `libtoolforge::fuzz`): `cargo packaging fuzz`
//! runs each with 100,000 inputs.

use crate::errors::{PythonBuildpackError, error_message};
use crate::python_version::{
    PYTHON_VERSION_FILE, RUNTIME_TXT, Request, VersionFileError, parse_python_version_file, parse_runtime_txt,
};
use libtoolforge::fuzz::proptest::{self, prelude::*};
use libtoolforge::fuzz::{self, Outcome, Scope};

/// Versions as people write them, right and wrong.
fn version() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "3\\.[0-9]{1,2}(\\.[0-9]{1,2})?",
        1 => proptest::sample::select(
            &["3", "3.13.5rc1", "pypy3.10", "3.13.x", "3..13", "3.13 3.14", "18446744073709551616.1", ""][..]
        )
        .prop_map(ToString::to_string),
        1 => "[0-9.a-z+*-]{0,10}",
    ]
    .boxed()
}

fn lines(prefix: &'static str) -> BoxedStrategy<String> {
    prop_oneof![
        4 => version().prop_map(move |version| format!("{prefix}{version}")),
        1 => "# [ -~]{0,30}",
        1 => Just(String::new()),
    ]
    .boxed()
}

/// The file's bytes (mostly near-valid text, sometimes any bytes), read as the buildpack reads
/// them: bytes that are not UTF-8 become U+FFFD.
fn version_file(prefix: &'static str) -> BoxedStrategy<String> {
    prop_oneof![
        1 => fuzz::any_bytes().prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        4 => fuzz::file(lines(prefix)),
    ]
    .boxed()
}

fn check(
    file: &str,
    text: &str,
    parsed: Result<Request, VersionFileError>,
) -> Result<Outcome, TestCaseError> {
    match parsed {
        Ok(_) => Ok(Outcome::Accepted),
        Err(error) => {
            let scope = match error {
                VersionFileError::Empty { .. } => Scope::File,
                _ => Scope::Line,
            };
            let message = error_message(&PythonBuildpackError::VersionFile(error));
            fuzz::located(&message, &[(file, text)], scope)
        }
    }
}

#[test]
fn fuzz_python_version_file() {
    fuzz::run(PYTHON_VERSION_FILE, version_file(""), |text| {
        check(PYTHON_VERSION_FILE, text, parse_python_version_file(text))
    });
}

#[test]
fn fuzz_runtime_txt() {
    fuzz::run(RUNTIME_TXT, version_file("python-"), |text| {
        check(RUNTIME_TXT, text, parse_runtime_txt(text))
    });
}
