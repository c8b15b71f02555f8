//! `cargo packaging fuzz`: the property-based tests of the parsers of the app's files (each
//! crate's `fuzz_*` tests, see `libtoolforge::fuzz`) with many inputs each, in release mode with
//! overflow checks and debug assertions kept (so that an overflow panics, as in the unit tests),
//! and a table of what they did.

use anyhow::Context;
use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Inputs per parser unless asked otherwise.
pub const DEFAULT_CASES: u32 = 100_000;

/// The test targets with `fuzz_*` tests: a crate and `--lib` or `--bins`.
pub const TARGETS: &[(&str, &str)] = &[
    ("libtoolforge", "--lib"),
    ("toolforge-procfile", "--bins"),
    ("toolforge-apt", "--bins"),
    ("toolforge-python", "--bins"),
    ("toolforge-nodejs", "--bins"),
    ("toolforge-php", "--bins"),
    ("toolforge-toolforge", "--bins"),
    ("toolforge-toolforge", "--lib"),
];

/// What one property did, from the line it prints.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub parser: String,
    pub cases: u64,
    pub rejected: u64,
    pub accepted: u64,
    pub panics: u64,
    pub seconds: f64,
}

/// Reads `fuzz: NAME cases=… rejected=… accepted=… panics=… seconds=…`, wherever it is on the
/// line (with `--nocapture`, after libtest's `test fuzz::fuzz_procfile ... `).
#[must_use]
pub fn parse_line(line: &str) -> Option<Row> {
    let (_, rest) = line.split_once("fuzz: ")?;
    let (parser, counts) = rest.split_once(" cases=")?;
    let mut fields = std::iter::once(("cases", counts.split(' ').next()?)).chain(
        counts
            .split(' ')
            .skip(1)
            .filter_map(|field| field.split_once('=')),
    );
    let mut number = |name: &str| fields.find(|(key, _)| *key == name).map(|(_, value)| value);
    Some(Row {
        parser: parser.to_string(),
        cases: number("cases")?.parse().ok()?,
        rejected: number("rejected")?.parse().ok()?,
        accepted: number("accepted")?.parse().ok()?,
        panics: number("panics")?.parse().ok()?,
        seconds: number("seconds")?.parse().ok()?,
    })
}

/// The rows as a Markdown table.
#[must_use]
pub fn table(rows: &[Row]) -> String {
    let mut table = String::from(
        "| parser | cases | rejected | accepted | panics | time (s) |\n|---|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        // Infallible: writing to a String.
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} | {:.1} |",
            row.parser, row.cases, row.rejected, row.accepted, row.panics, row.seconds
        );
    }
    table
}

fn cargo_test(package: &str, target: &str, cases: u32) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["test", "--release", "--locked", "-p", package, target, "fuzz_"])
        .current_dir(crate::paths::workspace_root())
        .env("TOOLFORGE_FUZZ_CASES", cases.to_string())
        .env("CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS", "true")
        .env("CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS", "true")
        .env("RUST_BACKTRACE", "0");
    command
}

/// Builds the tests, then runs each target's properties with `cases` inputs each, one at a time
/// (so that each time is its own); returns the rows, also when a property failed.
///
/// # Errors
///
/// When the tests do not build, or cargo cannot be started; a failed property is a row with
/// panics or fewer cases, and its output is printed.
pub fn run(cases: u32) -> anyhow::Result<(Vec<Row>, Vec<String>)> {
    let started = Instant::now();
    for (package, target) in TARGETS {
        crate::command::run(cargo_test(package, target, cases).arg("--no-run"))
            .with_context(|| format!("building the tests of {package}"))?;
    }
    eprintln!("==> fuzz: tests built in {:.0}s", started.elapsed().as_secs_f64());
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for (package, target) in TARGETS {
        let output = cargo_test(package, target, cases)
            .args(["--", "--nocapture", "--test-threads=1"])
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run the tests of {package}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        for row in stdout.lines().filter_map(parse_line) {
            eprintln!(
                "==> fuzz: {} ({package}): {} cases in {:.1}s",
                row.parser, row.cases, row.seconds
            );
            rows.push(row);
        }
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            failures.push(format!("{package} {target}:\n{stdout}\n{stderr}"));
        }
    }
    Ok((rows, failures))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_lines_the_properties_print() {
        let row = parse_line(
            "fuzz: project.toml [org.toolforge.php] cases=100000 rejected=61234 accepted=38766 panics=0 seconds=12.34",
        )
        .unwrap();
        assert_eq!(
            row,
            Row {
                parser: "project.toml [org.toolforge.php]".into(),
                cases: 100_000,
                rejected: 61_234,
                accepted: 38_766,
                panics: 0,
                seconds: 12.34,
            }
        );
        assert_eq!(parse_line("test fuzz::fuzz_procfile ... ok"), None);
        let after_libtest =
            "test fuzz::fuzz_procfile ... fuzz: Procfile cases=5 rejected=2 accepted=3 panics=0 seconds=0.01";
        assert_eq!(parse_line(after_libtest).unwrap().parser, "Procfile");
        assert!(
            table(&[row])
                .contains("| project.toml [org.toolforge.php] | 100000 | 61234 | 38766 | 0 | 12.3 |")
        );
    }
}
