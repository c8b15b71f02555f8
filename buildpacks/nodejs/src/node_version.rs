//! Which Node.js the app gets: `engines.node` in package.json, else `.node-version`, else `.nvmrc`
//! (npm's semver ranges in each), else the newest major in active LTS on the day of the build,
//! as Node.js's release schedule has it.

use libtoolforge::inventory::{Inventory, Release};
use libtoolforge::version_request::{Origin, VersionMatcher, VersionRequest};
use node_semver::{Range, Version};
use serde::Deserialize;
use std::path::Path;

const SCHEDULE: &str = include_str!("../release-schedule.toml");

pub(crate) const PACKAGE_JSON_FIELD: &str = "engines.node";
/// The version files, in the order read when package.json has no `engines.node`.
const VERSION_FILES: [&str; 2] = [".node-version", ".nvmrc"];

/// What the app asked for, and where.
pub(crate) type Request = VersionRequest<NodeVersion>;

/// npm's rules for a request, and the LTS default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NodeVersion {
    Range(Range),
    /// Nothing, or `lts/*`: the majors supported as LTS on the day of the build, preferred first.
    Lts {
        majors: Vec<u64>,
    },
}

impl VersionMatcher for NodeVersion {
    fn matches(&self, version: &semver::Version) -> bool {
        match self {
            Self::Range(range) => {
                Version::parse(version.to_string()).is_ok_and(|version| range.satisfies(&version))
            }
            Self::Lts { majors } => majors.contains(&version.major),
        }
    }

    fn choose<'a>(&self, inventory: &'a Inventory) -> Option<&'a Release> {
        match self {
            Self::Range(_) => inventory.newest_matching(|version| self.matches(version)),
            Self::Lts { majors } => majors
                .iter()
                .find_map(|major| inventory.newest_matching(|version| version.major == *major))
                .or_else(|| inventory.releases().first()),
        }
    }
}

/// A version file or `engines.node` that is not a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidRange {
    pub(crate) origin: Origin,
    pub(crate) text: String,
    pub(crate) message: String,
}

/// Reads the request: `engines_node` is package.json's `engines.node` and its line; `today` is
/// `YYYY-MM-DD`.
pub(crate) fn read(
    app_dir: &Path,
    engines_node: Option<(&str, Option<usize>)>,
    today: &str,
) -> Result<Request, InvalidRange> {
    if let Some((text, line)) = engines_node {
        let origin = Origin::file(crate::package_json::PACKAGE_JSON)
            .field(PACKAGE_JSON_FIELD)
            .at_line(line);
        return parse(text, origin, today);
    }
    for file in VERSION_FILES {
        if let Ok(contents) = std::fs::read_to_string(app_dir.join(file)) {
            let (line, text) = contents
                .lines()
                .map(str::trim)
                .enumerate()
                .find(|(_, line)| !line.is_empty() && !line.starts_with('#'))
                .unwrap_or((0, ""));
            return parse(text, Origin::line(file, line + 1), today);
        }
    }
    Ok(lts(None, today))
}

fn lts(origin: Option<Origin>, today: &str) -> Request {
    let majors = schedule().lts_majors(today);
    VersionRequest::new("the newest LTS", origin, NodeVersion::Lts { majors })
}

fn parse(text: &str, origin: Origin, today: &str) -> Result<Request, InvalidRange> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    if lower == "lts/*" || lower == "lts" {
        return Ok(lts(Some(origin), today));
    }
    let invalid = |origin: Origin, message: String| InvalidRange {
        origin,
        text: trimmed.to_string(),
        message,
    };
    // nvm's spellings: `node` (the newest release), `lts/iron` (a codename), `v22`.
    let range_text = if lower == "node" || lower == "latest" || lower == "current" {
        "*".to_string()
    } else if let Some(codename) = lower.strip_prefix("lts/") {
        let Some(major) = schedule().major_of_codename(codename) else {
            let message = format!("`{codename}` is not the codename of a Node.js LTS line");
            return Err(invalid(origin, message));
        };
        format!("{major}.x")
    } else {
        trimmed.trim_start_matches(['v', 'V']).to_string()
    };
    if range_text.is_empty() {
        return Err(invalid(origin, "it is empty".to_string()));
    }
    match parse_range(&range_text) {
        Ok(range) => Ok(VersionRequest::new(
            trimmed,
            Some(origin),
            NodeVersion::Range(range),
        )),
        Err(reason) => Err(invalid(origin, format!("it is not a version range ({reason})"))),
    }
}

/// `Range::parse`, which panics on some input (node-semver 2.2 reaches an `unreachable!` on `~X`):
/// such a range is invalid, not a crashed build. The panic's own message, meant for
/// node-semver's maintainers, is kept out of the build log.
fn parse_range(text: &str) -> Result<Range, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let parsed = std::panic::catch_unwind(|| Range::parse(text));
    std::panic::set_hook(hook);
    match parsed {
        Ok(Ok(range)) => Ok(range),
        Ok(Err(error)) => Err(error.kind().to_string()),
        Err(_) => Err("a wildcard where the range parser expects a version".to_string()),
    }
}

/// Node.js's release schedule, as shipped with the buildpack.
#[derive(Debug, Deserialize)]
pub(crate) struct Schedule {
    releases: Vec<Line>,
}

#[derive(Debug, Deserialize)]
struct Line {
    major: u64,
    lts: Option<String>,
    maintenance: Option<String>,
    end_of_life: String,
    codename: Option<String>,
}

/// The shipped schedule. It is parsed by a unit test, so it cannot fail here.
pub(crate) fn schedule() -> Schedule {
    toml::from_str(SCHEDULE).unwrap_or(Schedule { releases: Vec::new() })
}

impl Schedule {
    /// LTS majors supported on `today`: those in active LTS first, then those in maintenance,
    /// newest first within each.
    fn lts_majors(&self, today: &str) -> Vec<u64> {
        let supported = |line: &&Line| {
            line.lts.as_deref().is_some_and(|lts| lts <= today) && today < line.end_of_life.as_str()
        };
        let active = |line: &&Line| line.maintenance.as_deref().is_none_or(|start| today < start);
        let mut lines: Vec<&Line> = self.releases.iter().filter(supported).collect();
        lines.sort_by_key(|line| (!active(line), std::cmp::Reverse(line.major)));
        lines.into_iter().map(|line| line.major).collect()
    }

    fn major_of_codename(&self, codename: &str) -> Option<u64> {
        self.releases
            .iter()
            .find(|line| {
                line.codename
                    .as_deref()
                    .is_some_and(|name| name.eq_ignore_ascii_case(codename))
            })
            .map(|line| line.major)
    }

    /// The end of life of `major` when it is on or before `today`.
    pub(crate) fn ended(&self, major: u64, today: &str) -> Option<&str> {
        self.releases
            .iter()
            .find(|line| line.major == major)
            .map(|line| line.end_of_life.as_str())
            .filter(|end| *end <= today)
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`.
pub(crate) fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() / 86_400);
    civil_date(i64::try_from(days).unwrap_or(0))
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm,
/// <https://howardhinnant.github.io/date_algorithms.html#civil_from_days>).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory() -> Inventory {
        let release = |version: &str| {
            format!(
                "[[releases]]\nversion = \"{version}\"\nurl = \"https://example.org/node-v{version}.tar.gz\"\n\
                 sha256 = \"{}\"\n",
                "a".repeat(64)
            )
        };
        let text: String = ["26.5.0", "26.4.0", "24.11.0", "22.20.0", "20.19.5"]
            .iter()
            .map(|version| release(version))
            .collect();
        Inventory::parse(&text, "test", None).unwrap()
    }

    const TODAY: &str = "2026-11-24";

    fn resolved(text: &str) -> String {
        parse(text, Origin::file("package.json"), TODAY)
            .unwrap()
            .resolve(&inventory())
            .map_or("none".to_string(), |release| release.version.to_string())
    }

    #[test]
    fn npm_ranges() {
        assert_eq!(resolved("24.x"), "24.11.0");
        assert_eq!(resolved(">=20 <23"), "22.20.0");
        assert_eq!(resolved("^20.1"), "20.19.5");
        assert_eq!(resolved("20 || 22"), "22.20.0");
        assert_eq!(resolved("v26.4.0"), "26.4.0");
        assert_eq!(resolved("node"), "26.5.0");
        assert_eq!(resolved(">=99"), "none");
        assert_eq!(resolved("lts/*"), "26.5.0");
    }

    #[test]
    fn invalid_ranges() {
        let error = parse("twenty", Origin::line(".nvmrc", 1), TODAY).unwrap_err();
        assert!(
            error.message.starts_with("it is not a version range"),
            "{error:?}"
        );
        assert!(parse("lts/nosuch", Origin::line(".nvmrc", 1), TODAY).is_err());
        assert!(parse("  ", Origin::line(".node-version", 1), TODAY).is_err());
    }

    #[test]
    fn ranges_the_parser_panics_on_are_invalid() {
        // Found by fuzz_package_json_engines_and_package_manager: node-semver 2.2 reaches an
        // `unreachable!` on a tilde before a wildcard.
        for text in ["~X", "~*", "~ x"] {
            let error = parse(text, Origin::file("package.json"), TODAY).unwrap_err();
            assert!(
                error.message.starts_with("it is not a version range"),
                "{error:?}"
            );
        }
    }

    #[test]
    fn default_is_the_newest_active_lts() {
        let newest_lts = |today| {
            lts(None, today)
                .resolve(&inventory())
                .unwrap()
                .version
                .to_string()
        };
        assert_eq!(newest_lts(TODAY), "26.5.0");
        // Before 26 became LTS (2026-10-28), 24 was the newest in active LTS.
        assert_eq!(newest_lts("2026-06-01"), "24.11.0");
    }

    #[test]
    fn schedule_parses_and_knows_ends_and_codenames() {
        let schedule: Schedule = toml::from_str(SCHEDULE).unwrap();
        assert!(schedule.releases.len() > 10);
        assert_eq!(schedule.ended(20, TODAY), Some("2026-04-30"));
        assert_eq!(schedule.ended(24, TODAY), None);
        assert_eq!(schedule.major_of_codename("iron"), Some(20));
        assert_eq!(resolved("lts/jod"), "22.20.0");
    }

    #[test]
    fn reads_engines_then_version_files_with_their_lines() {
        let app = tempfile::tempdir().unwrap();
        std::fs::write(app.path().join(".nvmrc"), "# pinned\nlts/*\n").unwrap();
        let request = read(app.path(), None, TODAY).unwrap();
        assert_eq!(request.origin, Some(Origin::line(".nvmrc", 2)));
        assert_eq!(request.to_string(), "the newest LTS");
        let request = read(app.path(), Some((">=22", Some(4))), TODAY).unwrap();
        assert_eq!(
            request.origin.unwrap().to_string(),
            "engines.node in package.json"
        );
        let error = read(app.path(), Some(("twenty", Some(4))), TODAY).unwrap_err();
        assert_eq!(error.origin.line, Some(4));
        assert_eq!(
            read(tempfile::tempdir().unwrap().path(), None, TODAY)
                .unwrap()
                .origin,
            None
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(20_781), "2026-11-24");
        assert_eq!(civil_date(11_016), "2000-02-29");
    }
}
