//! Keeps docs/bad-input.md true at the cost of reading files: every test its table names exists,
//! and every snapshot of an error in the app's files (an insta snapshot whose message ends with
//! "fix the files above") has its title in the table, so a new error message or a renamed test
//! fails here until the table says so.

use crate::paths::workspace_root;
use std::collections::BTreeSet;
use std::path::Path;

const TABLE: &str = "docs/bad-input.md";
const SNAPSHOT_DIRS: &[&str] = &["buildpacks/*/src/snapshots", "libtoolforge/src/snapshots"];

/// The table's rows: (title, tests as `path::function`).
fn rows(markdown: &str) -> Vec<(String, Vec<String>)> {
    markdown
        .lines()
        .filter(|line| line.starts_with('|') && !line.starts_with("|---") && !line.starts_with("| Input"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            let tests = cells
                .last()
                .unwrap_or(&"")
                .split(", ")
                .map(|test| test.trim_matches('`').to_string())
                .collect();
            (cells.get(2).copied().unwrap_or_default().to_string(), tests)
        })
        .collect()
}

/// The title of a rendered error of the app's files, without its location.
fn app_error_title(snapshot: &str) -> Option<String> {
    if !snapshot.contains("! The build stopped here; fix the files above") {
        return None;
    }
    let heading = snapshot.lines().find_map(|line| line.strip_prefix("! ERROR: "))?;
    let title = match heading.strip_suffix(')') {
        Some(located) => located.rsplit_once(" (").map_or(heading, |(title, _)| title),
        None => heading,
    };
    Some(title.to_string())
}

fn snapshots(root: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for pattern in SNAPSHOT_DIRS {
        let (parent, rest) = pattern.split_once('*').unwrap_or((pattern, ""));
        let dirs: Vec<_> = if rest.is_empty() {
            vec![root.join(parent)]
        } else {
            std::fs::read_dir(root.join(parent))
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .map(|entry| entry.path().join(rest.trim_start_matches('/')))
                .collect()
        };
        for dir in dirs {
            for entry in std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
            {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                found.push((entry.path().display().to_string(), text));
            }
        }
    }
    found
}

#[test]
fn every_row_names_tests_that_exist() {
    let root = workspace_root();
    let rows = rows(&std::fs::read_to_string(root.join(TABLE)).unwrap());
    assert!(rows.len() >= 40, "{} rows", rows.len());
    for (title, tests) in &rows {
        assert!(!title.is_empty() && !tests.is_empty(), "{title:?} {tests:?}");
        for test in tests {
            let (file, function) = test
                .rsplit_once("::")
                .unwrap_or_else(|| panic!("{test}: not path::function"));
            let source =
                std::fs::read_to_string(root.join(file)).unwrap_or_else(|error| panic!("{test}: {error}"));
            assert!(
                source.contains(&format!("fn {function}()")),
                "{TABLE}: the test {test} does not exist"
            );
        }
    }
}

#[test]
fn every_snapshot_of_an_app_error_is_in_the_table() {
    let root = workspace_root();
    let titles: BTreeSet<String> = rows(&std::fs::read_to_string(root.join(TABLE)).unwrap())
        .into_iter()
        .map(|(title, _)| title)
        .collect();
    let snapshots = snapshots(&root);
    assert!(snapshots.len() > 20, "{} snapshots", snapshots.len());
    let missing: Vec<String> = snapshots
        .iter()
        .filter_map(|(path, text)| Some((path, app_error_title(text)?)))
        .filter(|(_, title)| !titles.contains(title))
        .map(|(path, title)| format!("{title} ({path})"))
        .collect();
    assert!(
        missing.is_empty(),
        "add these errors to {TABLE}:\n{}",
        missing.join("\n")
    );
}

#[test]
fn titles_lose_their_location() {
    let snapshot = "! ERROR: Unknown language in [org.toolforge.languages] (project.toml, line 3)\n\
                    ! The build stopped here; fix the files above and build again.\n";
    assert_eq!(
        app_error_title(snapshot).as_deref(),
        Some("Unknown language in [org.toolforge.languages]")
    );
    assert_eq!(
        app_error_title("! ERROR: Download failed\n! This is not a problem"),
        None
    );
}
