//! The image size budget: from project.toml (`[org.toolforge.build] image-size-budget`), else the
//! platform (`TOOLFORGE_IMAGE_SIZE_BUDGET`), else Toolforge's image quota.

use libcnb::Env;
use serde::de::{Deserializer, Error, Visitor};

/// Toolforge's image quota: the default budget.
pub(crate) const DEFAULT_BYTES: u64 = 1 << 30;
/// The platform's budget for every build of a builder, in project.toml's syntax.
pub(crate) const BUDGET_ENV: &str = "TOOLFORGE_IMAGE_SIZE_BUDGET";
/// The apt buildpack's older quota setting (a number of MiB), honoured when [`BUDGET_ENV`] is not
/// set so that a platform that raised one quota does not get warnings from the other.
pub(crate) const QUOTA_MIB_ENV: &str = "TOOLFORGE_IMAGE_QUOTA_MIB";

/// What the setting accepts, for errors.
const ACCEPTED: &str = "a size such as \"1.5 GiB\" or \"800 MB\" (units B, kB, MB, GB, KiB, MiB, \
                        GiB), a whole number of bytes, or \"none\" for no budget";

const UNITS: [(&str, u64); 9] = [
    ("B", 1),
    ("kB", 1000),
    ("KB", 1000),
    ("MB", 1000 * 1000),
    ("GB", 1000 * 1000 * 1000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("", 1),
];

/// A size the image should stay within, as it was written; `Unlimited` turns the warning off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Budget {
    Bytes { bytes: u64, written: String },
    Unlimited,
}

impl Budget {
    /// Parses `"1.5 GiB"`, `"800MB"`, `"1073741824"` or `"none"`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "none" {
            return Ok(Self::Unlimited);
        }
        let digits_end = text
            .find(|character: char| !(character.is_ascii_digit() || character == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(digits_end);
        let multiplier = UNITS
            .iter()
            .find(|(name, _)| *name == unit.trim_start())
            .map(|(_, multiplier)| *multiplier);
        let value = (number.matches('.').count() <= 1 && number.chars().any(|c| c.is_ascii_digit()))
            .then(|| number.parse::<f64>().ok())
            .flatten();
        let (Some(value), Some(multiplier)) = (value, multiplier) else {
            return Err(format!("`{text}` is not a size: give {ACCEPTED}"));
        };
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let bytes = (value * multiplier as f64).round() as u64;
        if bytes == 0 {
            return Err(format!(
                "`{text}` is no room at all: give a size above 0, or \"none\" for no budget"
            ));
        }
        Ok(Self::Bytes {
            bytes,
            written: text.to_string(),
        })
    }

    fn default_quota() -> Self {
        Self::Bytes {
            bytes: DEFAULT_BYTES,
            written: "1 GiB".to_string(),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Budget {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BudgetVisitor)
    }
}

struct BudgetVisitor;

impl Visitor<'_> for BudgetVisitor {
    type Value = Budget;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str(ACCEPTED)
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<Budget, E> {
        Budget::parse(text).map_err(E::custom)
    }

    fn visit_u64<E: Error>(self, bytes: u64) -> Result<Budget, E> {
        self.visit_str(&bytes.to_string())
    }

    fn visit_i64<E: Error>(self, bytes: i64) -> Result<Budget, E> {
        self.visit_str(&bytes.to_string())
    }
}

/// Where the budget in force came from, for the warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    ProjectToml,
    Platform(&'static str),
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ProjectToml => f.write_str("set in project.toml"),
            Self::Platform(name) => write!(f, "set by the platform's {name}"),
            Self::Default => f.write_str("Toolforge's image quota, the default"),
        }
    }
}

/// The budget in force: the app's, else the platform's, else the default. A platform value that is
/// not a size is named in a note (the second value) and the default is used: the operator's
/// mistake must not fail the tool's build.
pub(crate) fn in_force(app: Option<&Budget>, platform: &Env) -> (Budget, Source, Option<String>) {
    if let Some(budget) = app {
        return (budget.clone(), Source::ProjectToml, None);
    }
    if let Some(text) = platform.get_string_lossy(BUDGET_ENV) {
        return match Budget::parse(&text) {
            Ok(budget) => (budget, Source::Platform(BUDGET_ENV), None),
            Err(error) => (
                Budget::default_quota(),
                Source::Default,
                Some(format!("{BUDGET_ENV} is ignored: {error}")),
            ),
        };
    }
    if let Some(mib) = platform
        .get_string_lossy(QUOTA_MIB_ENV)
        .and_then(|value| value.trim().parse::<u64>().ok())
        .filter(|mib| *mib > 0)
    {
        let budget = Budget::Bytes {
            bytes: mib << 20,
            written: format!("{mib} MiB"),
        };
        return (budget, Source::Platform(QUOTA_MIB_ENV), None);
    }
    (Budget::default_quota(), Source::Default, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(text: &str) -> u64 {
        match Budget::parse(text) {
            Ok(Budget::Bytes { bytes, .. }) => bytes,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn sizes_with_units_and_bare_bytes() {
        assert_eq!(bytes("1.5 GiB"), 1_610_612_736);
        assert_eq!(bytes("1GiB"), 1 << 30);
        assert_eq!(bytes("800 MB"), 800_000_000);
        assert_eq!(bytes("512MiB"), 512 << 20);
        assert_eq!(bytes("10 kB"), 10_000);
        assert_eq!(bytes("10 KB"), 10_000);
        assert_eq!(bytes("3 KiB"), 3072);
        assert_eq!(bytes(" 1073741824 "), 1 << 30);
        assert_eq!(bytes("100 B"), 100);
        assert_eq!(Budget::parse("none"), Ok(Budget::Unlimited));
    }

    #[test]
    fn what_is_not_a_size() {
        for text in [
            "", "GiB", "1.5 gib", "1 TB", "-1 GiB", "1e9", "inf", "NaN", "1..5 GiB", "1 GiB 2", "lots",
        ] {
            let error = Budget::parse(text).unwrap_err();
            assert!(
                error.contains("is not a size: give a size such as"),
                "{text}: {error}"
            );
        }
        assert!(Budget::parse("0").unwrap_err().contains("is no room at all"));
        assert!(
            Budget::parse("0.0001 B")
                .unwrap_err()
                .contains("is no room at all")
        );
    }

    #[test]
    fn deserialized_from_strings_and_integers() {
        #[derive(serde::Deserialize)]
        struct Table {
            budget: Budget,
        }
        let parse = |text: &str| toml::from_str::<Table>(text).map(|table| table.budget);
        assert_eq!(
            parse("budget = 2048").unwrap(),
            Budget::Bytes {
                bytes: 2048,
                written: "2048".into()
            }
        );
        assert_eq!(parse("budget = \"none\"").unwrap(), Budget::Unlimited);
        let error = parse("budget = true").unwrap_err().to_string();
        assert!(error.contains("expected a size such as \"1.5 GiB\""), "{error}");
        let error = parse("budget = -5").unwrap_err().to_string();
        assert!(error.contains("`-5` is not a size"), "{error}");
    }

    #[test]
    fn the_app_wins_then_the_platform_then_the_default() {
        let mut platform = Env::new();
        let app = Budget::parse("2 GiB").unwrap();
        assert_eq!(
            in_force(None, &platform),
            (Budget::default_quota(), Source::Default, None)
        );
        platform.insert(QUOTA_MIB_ENV, "2048");
        let (budget, source, _) = in_force(None, &platform);
        assert_eq!(
            (bytes_of(&budget), source),
            (2 << 30, Source::Platform(QUOTA_MIB_ENV))
        );
        platform.insert(BUDGET_ENV, "3 GiB");
        let (budget, source, _) = in_force(None, &platform);
        assert_eq!(
            (bytes_of(&budget), source),
            (3 << 30, Source::Platform(BUDGET_ENV))
        );
        assert_eq!(in_force(Some(&app), &platform), (app, Source::ProjectToml, None));
        platform.insert(BUDGET_ENV, "big");
        let (budget, source, note) = in_force(None, &platform);
        assert_eq!((budget, source), (Budget::default_quota(), Source::Default));
        assert!(
            note.unwrap()
                .starts_with("TOOLFORGE_IMAGE_SIZE_BUDGET is ignored: `big` is not a size")
        );
    }

    fn bytes_of(budget: &Budget) -> u64 {
        match budget {
            Budget::Bytes { bytes, .. } => *bytes,
            Budget::Unlimited => u64::MAX,
        }
    }
}
