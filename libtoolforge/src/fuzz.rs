//! Property-based tests ("fuzzing") of the parsers of the app's files, for the buildpacks' own
//! test modules (the `fuzz` feature, which only their dev-dependencies enable).
//!
//! Each parser gets one property: for generated files, both arbitrary text and files made of
//! valid lines with one thing wrong (a stray character, odd whitespace, CRLF, a BOM, a very long
//! line, thousands of lines), the parser does not panic, and every rejection is one
//! [`ErrorMessage`] located in the file, on a line the file has ([`located`]). [`run`] runs it
//! for [`cases`] inputs (`TOOLFORGE_FUZZ_CASES`, 256 by default, so that the unit tests stay
//! fast; `cargo packaging fuzz` runs 100,000) and prints a line the benchmark program reads:
//! `fuzz: NAME cases=… rejected=… accepted=… panics=… seconds=…`.

use crate::error::ErrorMessage;
pub use proptest;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRng, TestRunner};
use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// The environment variable with the number of inputs each property is run for.
pub const CASES_VARIABLE: &str = "TOOLFORGE_FUZZ_CASES";
/// Enough to catch regressions in a unit test run; the benchmark program asks for more.
pub const DEFAULT_CASES: u32 = 256;

/// The number of inputs each property is run for.
#[must_use]
pub fn cases() -> u32 {
    std::env::var(CASES_VARIABLE)
        .ok()
        .and_then(|cases| cases.trim().parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// What a parser made of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Rejected,
}

/// Whether a rejection is about one line or about the file as a whole (an empty file, a file
/// that names nothing): the latter may name the file alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Line,
    File,
}

/// A file the parser read: its name as the user knows it, and its text.
pub type Input<'a> = (&'a str, &'a str);

/// Checks a rejection: its message renders, and is located in one of `inputs`, on a line that
/// file has (lines are counted as editors do: a final newline starts one more, empty, line).
/// A [`Scope::Line`] rejection must name the line.
///
/// # Errors
///
/// When it is not so, with what is wrong.
pub fn located(message: &ErrorMessage, inputs: &[Input<'_>], scope: Scope) -> Result<Outcome, TestCaseError> {
    let rendered = message.render();
    if message.title.trim().is_empty() || message.title.contains('\n') {
        return Err(TestCaseError::fail(format!(
            "the title is not one line:\n{rendered}"
        )));
    }
    let Some(location) = &message.location else {
        return Err(TestCaseError::fail(format!(
            "the rejection names no file:\n{rendered}"
        )));
    };
    let file = location.file.to_string_lossy();
    on_a_line(&file, location.line, inputs, scope)
        .map_err(|error| TestCaseError::fail(format!("{error}:\n{rendered}")))
}

/// As [`located`], for a rejection that is not an [`ErrorMessage`] (a note at run time): it names
/// `file` and `line`.
///
/// # Errors
///
/// When it is not so, with what is wrong.
pub fn on_a_line(
    file: &str,
    line: Option<usize>,
    inputs: &[Input<'_>],
    scope: Scope,
) -> Result<Outcome, TestCaseError> {
    let Some((_, text)) = inputs.iter().find(|(name, _)| *name == file) else {
        return Err(TestCaseError::fail(format!(
            "the rejection names {file}, not one of the files read"
        )));
    };
    let lines = text.split('\n').count();
    match (line, scope) {
        (None, Scope::Line) => Err(TestCaseError::fail("the rejection of a line names no line")),
        (Some(line), _) if line == 0 || line > lines => Err(TestCaseError::fail(format!(
            "line {line} is not one of the file's {lines} lines"
        ))),
        _ => Ok(Outcome::Rejected),
    }
}

/// Runs `property` for [`cases`] inputs from `strategy`, then prints the counts (see the module's
/// documentation). The generator is seeded the same way every run, so that a failure reproduces.
///
/// # Panics
///
/// When the property fails or the parser panics, with the smallest input proptest found.
pub fn run<S>(name: &str, strategy: S, property: impl Fn(&S::Value) -> Result<Outcome, TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    let cases = cases();
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 10_000,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let (accepted, rejected) = (AtomicU64::new(0), AtomicU64::new(0));
    let (failed, panicked) = (AtomicBool::new(false), AtomicBool::new(false));
    let started = Instant::now();
    let result = runner.run(&strategy, |input| {
        let outcome = catch_unwind(AssertUnwindSafe(|| property(&input))).unwrap_or_else(|panic| {
            panicked.store(true, Ordering::Relaxed);
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            Err(TestCaseError::fail(format!("the parser panicked: {message}")))
        });
        // Shrinking runs the property again: only the first pass counts.
        if !failed.load(Ordering::Relaxed) {
            match &outcome {
                Ok(Outcome::Accepted) => accepted.fetch_add(1, Ordering::Relaxed),
                Ok(Outcome::Rejected) => rejected.fetch_add(1, Ordering::Relaxed),
                Err(_) => u64::from(failed.swap(true, Ordering::Relaxed)),
            };
        }
        outcome.map(|_| ())
    });
    let (accepted, rejected) = (accepted.into_inner(), rejected.into_inner());
    println!(
        "fuzz: {name} cases={} rejected={rejected} accepted={accepted} panics={} seconds={:.2}",
        accepted + rejected + u64::from(failed.load(Ordering::Relaxed)),
        u64::from(panicked.load(Ordering::Relaxed)),
        started.elapsed().as_secs_f64(),
    );
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, input)) => panic!("fuzz {name}: {reason}\nminimal input: {input:#?}"),
        Err(TestError::Abort(reason)) => panic!("fuzz {name}: aborted: {reason}"),
    }
}

/// Characters that parsers of line-based and structured files treat specially, or that editors
/// and copy-paste put where they should not be.
const AWKWARD: &[char] = &[
    ':', '=', '#', '"', '\'', '\\', '[', ']', '{', '}', ',', '.', '-', '_', '*', '@', '|', '~', '^', '<',
    '>', '!', '/', '$', 'v', '0', '9', ' ', '\t', '\r', '\n', '\0', '\u{7f}', '\u{a0}', '\u{feff}',
    '\u{2028}', '\u{3000}', '\u{200b}', 'é', 'ß', 'İ', 'ǅ', '\u{301}', '日', '𝔘', '🦀',
];

/// Whitespace people and editors leave around lines.
const ODD_WHITESPACE: &[&str] = &[
    " ", "  ", "\t", "\u{a0}", "\u{3000}", "\u{2028}", "\x0b", "\x0c", "\r",
];

/// A character from [`AWKWARD`], or any at all.
fn awkward_char() -> BoxedStrategy<char> {
    prop_oneof![3 => proptest::sample::select(AWKWARD), 1 => any::<char>()].boxed()
}

/// Text that is mostly not the format at all: any characters, or short runs of awkward ones.
pub fn any_text() -> BoxedStrategy<String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(awkward_char(), 0..200).prop_map(|chars| chars.into_iter().collect()),
    ]
    .boxed()
}

/// Any bytes, for parsers that read bytes (text that is not UTF-8).
pub fn any_bytes() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..400),
        any_text().prop_map(String::into_bytes),
        // Valid text with Latin-1 in it, as an editor on another locale writes it.
        (any_text(), any::<Index>(), 0x80_u8..=0xff).prop_map(|(text, at, byte)| {
            let mut bytes = text.into_bytes();
            bytes.insert(at.index(bytes.len() + 1), byte);
            bytes
        }),
    ]
    .boxed()
}

/// One thing wrong with a file.
#[derive(Debug, Clone)]
enum Mutation {
    None,
    Insert(Index, Index, char),
    Delete(Index, Index),
    Replace(Index, String),
    Pad(Index, &'static str, bool),
    Duplicate(Index),
    Swap(Index, Index),
    Truncate(Index, Index),
    LongLine(Index),
    ManyLines,
}

fn mutation() -> BoxedStrategy<Mutation> {
    let line = any::<Index>;
    prop_oneof![
        3 => Just(Mutation::None),
        6 => (line(), line(), awkward_char()).prop_map(|(at, column, c)| Mutation::Insert(at, column, c)),
        3 => (line(), line()).prop_map(|(at, column)| Mutation::Delete(at, column)),
        2 => (line(), any_text()).prop_map(|(at, text)| Mutation::Replace(at, text)),
        3 => (line(), proptest::sample::select(ODD_WHITESPACE), any::<bool>())
            .prop_map(|(at, whitespace, after)| Mutation::Pad(at, whitespace, after)),
        1 => line().prop_map(Mutation::Duplicate),
        1 => (line(), line()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        1 => (line(), line()).prop_map(|(at, column)| Mutation::Truncate(at, column)),
        1 => line().prop_map(Mutation::LongLine),
        1 => Just(Mutation::ManyLines),
    ]
    .boxed()
}

/// The character boundary `column` picks in `line`.
fn boundary(line: &str, column: Index) -> usize {
    let boundaries: Vec<usize> = line
        .char_indices()
        .map(|(at, _)| at)
        .chain(std::iter::once(line.len()))
        .collect();
    *column.get(&boundaries)
}

impl Mutation {
    fn apply(self, lines: &mut Vec<String>) {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let count = lines.len();
        match self {
            Self::None => {}
            Self::Insert(at, column, c) => {
                let line = &mut lines[at.index(count)];
                line.insert(boundary(line, column), c);
            }
            Self::Delete(at, column) => {
                let line = &mut lines[at.index(count)];
                let start = boundary(line, column);
                if let Some(c) = line[start..].chars().next() {
                    line.replace_range(start..start + c.len_utf8(), "");
                }
            }
            Self::Replace(at, text) => lines[at.index(count)] = text,
            Self::Pad(at, whitespace, after) => {
                let line = &mut lines[at.index(count)];
                if after {
                    line.push_str(whitespace);
                } else {
                    line.insert_str(0, whitespace);
                }
            }
            Self::Duplicate(at) => {
                let at = at.index(count);
                lines.insert(at, lines[at].clone());
            }
            Self::Swap(a, b) => lines.swap(a.index(count), b.index(count)),
            Self::Truncate(at, column) => {
                let at = at.index(count);
                lines.truncate(at + 1);
                let line = &mut lines[at];
                line.truncate(boundary(line, column));
            }
            Self::LongLine(at) => {
                let line = &mut lines[at.index(count)];
                let unit = if line.is_empty() {
                    "x".to_string()
                } else {
                    line.clone()
                };
                *line = unit.repeat(20_000 / unit.len() + 1);
            }
            Self::ManyLines => {
                let original = lines.clone();
                while lines.len() < 3_000 {
                    lines.extend(original.iter().cloned());
                }
            }
        }
    }
}

/// How the lines are put together: line endings, a final newline, a byte order mark.
fn assemble(lines: &[String], crlf: bool, final_newline: bool, bom: bool) -> String {
    let ending = if crlf { "\r\n" } else { "\n" };
    let mut text = String::new();
    if bom {
        text.push('\u{feff}');
    }
    text.push_str(&lines.join(ending));
    if final_newline && !lines.is_empty() {
        text.push_str(ending);
    }
    text
}

/// Files made of lines from `line` (up to 40), with at most one thing wrong, in any of the
/// shapes editors save them: LF or CRLF, with or without a final newline or a BOM.
pub fn near_valid(line: impl Strategy<Value = String> + 'static) -> BoxedStrategy<String> {
    mangled(proptest::collection::vec(line, 0..40).prop_map(|lines| lines.join("\n")))
}

/// `text` (a whole valid file, from a generator of its structure) with at most one thing wrong,
/// as [`near_valid`].
pub fn mangled(text: impl Strategy<Value = String> + 'static) -> BoxedStrategy<String> {
    (
        text,
        mutation(),
        any::<bool>(),
        any::<bool>(),
        proptest::bool::weighted(0.1),
    )
        .prop_map(|(text, mutation, crlf, final_newline, bom)| {
            let mut lines: Vec<String> = text.split('\n').map(ToString::to_string).collect();
            mutation.apply(&mut lines);
            assemble(&lines, crlf, final_newline, bom)
        })
        .boxed()
}

/// Mostly near-valid files of `line`s, sometimes any text at all.
pub fn file(line: impl Strategy<Value = String> + 'static) -> BoxedStrategy<String> {
    prop_oneof![1 => any_text(), 4 => near_valid(line)].boxed()
}

/// A table of a TOML file: its header and the `key = value` lines it may have.
pub type Table = (&'static str, &'static [&'static str]);

/// The tables of a project.toml that are not any buildpack's own: the descriptor's
/// (<https://buildpacks.io/docs/reference/config/project-descriptor/>), with awkward TOML.
pub const PROJECT_DESCRIPTOR_TABLES: &[Table] = &[
    (
        "[_]",
        &[
            "schema-version = \"0.2\"",
            "id = \"tool\"",
            "name = 'My tool'",
            "# a comment",
            "",
        ],
    ),
    (
        "[io.buildpacks]",
        &[
            "exclude = [\"/tests\", \"*.md\"]",
            "nested = { a = 1, b = [1, 2] }",
        ],
    ),
    (
        "[[io.buildpacks.build.env]]",
        &["name = \"DEBUG\"", "value = \"1\""],
    ),
    (
        "[project]",
        &[
            "date = 1979-05-27T07:32:00Z",
            "float = 1e10",
            "multi = \"\"\"\nline\n\"\"\"",
        ],
    ),
];

/// A TOML file of some of `tables` (each once, in any order) with some of their lines (each
/// once), then [`mangled`].
pub fn toml_file(tables: &'static [Table]) -> BoxedStrategy<String> {
    let table = |(header, lines): Table| {
        proptest::sample::subsequence(lines, 0..=lines.len())
            .prop_shuffle()
            .prop_map(move |lines| format!("{header}\n{}", lines.join("\n")))
    };
    let tables: Vec<BoxedStrategy<String>> = tables.iter().map(|t| table(*t).boxed()).collect();
    let count = tables.len();
    mangled(
        proptest::sample::subsequence(tables, 0..=count)
            .prop_flat_map(|chosen| chosen)
            .prop_shuffle()
            .prop_map(|tables| tables.join("\n\n")),
    )
}

/// A project.toml of the descriptor's tables and a buildpack's `own`; sometimes any text.
pub fn project_toml(own: &'static [Table]) -> BoxedStrategy<String> {
    prop_oneof![
        1 => any_text(),
        2 => toml_file(own),
        2 => (toml_file(PROJECT_DESCRIPTOR_TABLES), toml_file(own)).prop_map(|(a, b)| a + "\n" + &b),
    ]
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Location;
    use crate::project_toml::ProjectToml;
    use serde::Deserialize;

    fn rejection(location: Option<Location>) -> ErrorMessage {
        ErrorMessage {
            location,
            ..ErrorMessage::app("Invalid Procfile", "detail")
        }
    }

    #[test]
    fn rejections_need_a_file_and_a_line_of_it() {
        let inputs = [("Procfile", "web: x\nworker")];
        let check = |location, scope| located(&rejection(location), &inputs, scope).is_ok();
        assert!(check(Some(Location::line("Procfile", 2)), Scope::Line));
        assert!(check(Some(Location::file("Procfile")), Scope::File));
        assert!(!check(Some(Location::file("Procfile")), Scope::Line));
        assert!(!check(Some(Location::line("Procfile", 3)), Scope::Line));
        assert!(!check(Some(Location::line("Procfile", 0)), Scope::File));
        assert!(!check(Some(Location::line("Aptfile", 1)), Scope::Line));
        assert!(!check(None, Scope::File));
    }

    #[test]
    fn mutations_keep_files_text() {
        let mut runner = TestRunner::deterministic();
        for _ in 0..200 {
            let text = near_valid(Just("web: x".to_string()))
                .new_tree(&mut runner)
                .unwrap()
                .current();
            assert!(text.len() < 200_000, "{}", text.len());
        }
    }

    /// A table of some buildpack, as its config.rs would declare it.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    #[allow(dead_code)] // Read by serde only.
    struct Settings {
        packages: Option<Vec<String>>,
        launch: Option<bool>,
        web_server: Option<String>,
    }

    const OWN_TABLES: &[Table] = &[(
        "[org.toolforge.example]",
        &[
            "packages = [\"ffmpeg\", \"graphviz\"]",
            "launch = true",
            "web-server = \"nginx\"",
        ],
    )];

    /// project.toml's tables, for any buildpack's settings: syntax errors and shape errors.
    #[test]
    fn fuzz_project_toml() {
        run("project.toml tables", project_toml(OWN_TABLES), |text| {
            let table = ProjectToml::parse(text.clone())
                .and_then(|project| project.table::<Settings>(&["org", "toolforge", "example"]));
            match table {
                Ok(_) => Ok(Outcome::Accepted),
                Err(error) => located(&error.message(), &[("project.toml", text)], Scope::Line),
            }
        });
    }
}
