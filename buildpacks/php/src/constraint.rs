//! Composer's version constraints (<https://getcomposer.org/doc/articles/versions.md>), enough to
//! decide whether a PHP release satisfies `require.php`: `||` alternatives of `,`- or
//! space-separated conjunctions of exact versions, comparisons, wildcards (`8.*`), tilde and
//! caret ranges and hyphen ranges, with `v` prefixes and stability flags (`@dev`) tolerated.
//! Composer's own rules differ from npm's (`~8.1` is `>=8.1 <9.0` here), hence not node-semver.
//!
//! A [`Constraint`] is the [`VersionMatcher`] of a `require.php` version request.

use libtoolforge::version_request::VersionMatcher;
use std::cmp::Ordering;

/// A release as Composer normalizes it: four numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Version([u64; 4]);

/// A release's version for matching: `8.4.28`, `8.4`, `v8`, with a Debian revision or stability
/// suffix (`8.4.28-1~deb13u1`) ignored; `None` for anything else. PHP's releases have three
/// numbers: a fourth, which Composer allows, would be dropped.
pub(crate) fn release(text: &str) -> Option<semver::Version> {
    let [major, minor, patch, _] = Partial::parse(text)?.floor().0;
    Some(semver::Version::new(major, minor, patch))
}

/// A version as written, with how many of its numbers were given (`8.4` has 2).
#[derive(Debug, Clone, Copy)]
struct Partial {
    numbers: [u64; 4],
    given: usize,
}

impl Partial {
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
        // Stability suffixes (`-dev`, `-beta2`, `-p1`): the release they lead to.
        let text = text.split_once('-').map_or(text, |(release, _)| release);
        let mut numbers = [0; 4];
        let mut given = 0;
        for part in text.split('.') {
            if given == 4 || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            numbers[given] = part.parse().ok()?;
            given += 1;
        }
        Some(Self { numbers, given })
    }

    fn floor(self) -> Version {
        Version(self.numbers)
    }

    /// The first release past every release this partial version stands for at `position`:
    /// `8.4` bumped at 1 is `8.5.0.0`.
    fn bump(self, position: usize) -> Version {
        let mut numbers = [0; 4];
        numbers[..position].copy_from_slice(&self.numbers[..position]);
        // Saturating: no release is near u64::MAX, and a constraint that says so must not panic.
        numbers[position] = self.numbers[position].saturating_add(1);
        Version(numbers)
    }
}

/// A bound of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Any,
    AtLeast(Version),
    Above(Version),
    AtMost(Version),
    Below(Version),
    Exactly(Version),
    Not(Version),
}

impl Bound {
    fn admits(self, version: Version) -> bool {
        match self {
            Self::Any => true,
            Self::AtLeast(bound) => version >= bound,
            Self::Above(bound) => version > bound,
            Self::AtMost(bound) => version <= bound,
            Self::Below(bound) => version < bound,
            Self::Exactly(bound) => version.cmp(&bound) == Ordering::Equal,
            Self::Not(bound) => version != bound,
        }
    }
}

/// A parsed constraint: any of its alternatives, each all of its bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Constraint(Vec<Vec<Bound>>);

/// The text is not a constraint Composer would accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidConstraint(pub(crate) String);

impl Constraint {
    pub(crate) fn parse(text: &str) -> Result<Self, InvalidConstraint> {
        let invalid = || InvalidConstraint(text.to_string());
        let mut alternatives = Vec::new();
        for alternative in text.split('|').map(str::trim).filter(|part| !part.is_empty()) {
            let words = split_conjunction(alternative);
            let mut bounds = Vec::new();
            let mut index = 0;
            while index < words.len() {
                // A hyphen range: `8.1 - 8.4`.
                if words.get(index + 1) == Some(&"-") {
                    let low = Partial::parse(words[index]).ok_or_else(invalid)?;
                    let high = words
                        .get(index + 2)
                        .and_then(|word| Partial::parse(word))
                        .ok_or_else(invalid)?;
                    bounds.push(Bound::AtLeast(low.floor()));
                    bounds.push(if high.given >= 3 {
                        Bound::AtMost(high.floor())
                    } else {
                        Bound::Below(high.bump(high.given - 1))
                    });
                    index += 3;
                    continue;
                }
                bounds.extend(parse_atom(words[index]).ok_or_else(invalid)?);
                index += 1;
            }
            if bounds.is_empty() {
                return Err(invalid());
            }
            alternatives.push(bounds);
        }
        if alternatives.is_empty() {
            return Err(invalid());
        }
        Ok(Self(alternatives))
    }

    fn admits(&self, version: Version) -> bool {
        self.0
            .iter()
            .any(|bounds| bounds.iter().all(|bound| bound.admits(version)))
    }
}

impl VersionMatcher for Constraint {
    /// Pre-release labels are ignored, as Composer's constraints here ignore stability flags.
    fn matches(&self, version: &semver::Version) -> bool {
        self.admits(Version([version.major, version.minor, version.patch, 0]))
    }
}

/// The words of a conjunction: separated by commas or spaces, an operator kept with its version
/// (`>= 8.1` is one word).
fn split_conjunction(text: &str) -> Vec<&str> {
    let mut words: Vec<&str> = Vec::new();
    let mut pending_operator: Option<usize> = None;
    let mut start = None;
    for (index, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        let separator = c == ',' || c.is_whitespace();
        match (separator, start) {
            (false, None) => start = Some(index),
            (true, Some(begin)) => {
                let word = &text[begin..index];
                start = None;
                if word
                    .chars()
                    .all(|c| matches!(c, '<' | '>' | '=' | '!' | '^' | '~'))
                    && word != "-"
                {
                    pending_operator = Some(begin);
                    continue;
                }
                if let Some(operator_start) = pending_operator.take() {
                    words.push(&text[operator_start..index]);
                } else {
                    words.push(word);
                }
            }
            _ => {}
        }
    }
    words
}

fn parse_atom(word: &str) -> Option<Vec<Bound>> {
    // `@stable`, `@dev`: stability flags, irrelevant to a release's number.
    let word = word
        .split_once('@')
        .map_or(word, |(constraint, _)| constraint)
        .trim();
    if word.is_empty() {
        return None;
    }
    if matches!(word, "*" | "x" | "X") {
        return Some(vec![Bound::Any]);
    }
    let operators = ["<>", "!=", ">=", "<=", "==", ">", "<", "=", "^", "~"];
    let (operator, rest) = operators
        .iter()
        .find_map(|operator| word.strip_prefix(operator).map(|rest| (*operator, rest.trim())))
        .unwrap_or(("", word));
    if matches!(operator, "" | "=" | "==")
        && let Some(prefix) = rest.strip_suffix(".*").or_else(|| rest.strip_suffix(".x"))
    {
        let partial = Partial::parse(prefix)?;
        return Some(vec![
            Bound::AtLeast(partial.floor()),
            Bound::Below(partial.bump(partial.given - 1)),
        ]);
    }
    let partial = Partial::parse(rest)?;
    let version = partial.floor();
    Some(match operator {
        "" | "=" | "==" => vec![Bound::Exactly(version)],
        "!=" | "<>" => vec![Bound::Not(version)],
        ">=" => vec![Bound::AtLeast(version)],
        ">" => vec![Bound::Above(version)],
        "<=" => vec![Bound::AtMost(version)],
        "<" => vec![Bound::Below(version)],
        // ~8 and ~8.1: up to the next major; ~8.1.2: up to the next minor.
        "~" => vec![
            Bound::AtLeast(version),
            Bound::Below(partial.bump(partial.given.saturating_sub(2))),
        ],
        // ^8.1: up to the next major; below 1.0, the first non-zero number is the major.
        "^" => {
            let significant = partial.numbers[..partial.given]
                .iter()
                .position(|number| *number != 0)
                .unwrap_or(partial.given - 1);
            vec![Bound::AtLeast(version), Bound::Below(partial.bump(significant))]
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admits(constraint: &str, version: &str) -> bool {
        Constraint::parse(constraint)
            .unwrap_or_else(|error| panic!("{error:?}"))
            .matches(&release(version).unwrap())
    }

    #[test]
    fn composer_documentation_examples() {
        for (constraint, yes, no) in [
            (">=8.1", "8.4.28", "8.0.30"),
            (">=7.4 <8.5", "8.4.28", "8.5.0"),
            (">=7.4, <8.5", "8.4.0", "7.3.33"),
            ("^8.1", "8.4.28", "9.0.0"),
            ("^7.4 || ^8.0", "8.4.28", "7.3.0"),
            ("^7.4|^8.0", "7.4.0", "9.1.0"),
            ("~8.1", "8.4.28", "9.0.0"),
            ("~8.4.2", "8.4.28", "8.5.0"),
            ("8.4.*", "8.4.28", "8.3.9"),
            ("8.*", "8.4.28", "7.4.0"),
            ("*", "8.4.28", "0"),
            ("8.1 - 8.4", "8.4.28", "8.5.0"),
            ("8.1.0 - 8.4.0", "8.4.0", "8.4.1"),
            ("8.4.28", "8.4.28", "8.4.27"),
            (">= 8.2", "8.4.28", "8.1.0"),
            ("!=8.4.27", "8.4.28", "8.4.27"),
            ("^8.2@dev", "8.4.28", "8.1.0"),
            (">=8.2-dev", "8.4.28", "8.1.0"),
            ("v8.4.28", "8.4.28", "8.4.0"),
            ("^0.3", "0.3.9", "0.4.0"),
        ] {
            assert!(admits(constraint, yes), "{constraint} should admit {yes}");
            if no != "0" {
                assert!(!admits(constraint, no), "{constraint} should not admit {no}");
            }
        }
        assert!(admits("*", "0.0.1"));
    }

    #[test]
    fn rejects_what_is_not_a_constraint() {
        for text in ["", "latest", ">=", "8.4.28.1.2", "^eight", "8.1 -"] {
            assert!(Constraint::parse(text).is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn the_largest_numbers_do_not_overflow() {
        // Found by fuzz_composer_constraint: `^18446744073709551615` overflowed the next major.
        for text in [
            "^18446744073709551615",
            "18446744073709551615.*",
            "~1.18446744073709551615",
        ] {
            let constraint = Constraint::parse(text).unwrap();
            assert!(!constraint.matches(&release("8.4.28").unwrap()), "{text}");
        }
    }

    #[test]
    fn versions() {
        assert_eq!(release("8.4.28").unwrap().to_string(), "8.4.28");
        assert_eq!(release("8.4").unwrap().to_string(), "8.4.0");
        assert_eq!(release("8.4.28-1~deb13u1").unwrap().to_string(), "8.4.28");
        assert!(release("eight").is_none());
    }

    #[test]
    fn four_numbers_in_a_constraint() {
        // A release is x.y.z.0: a fourth number in a constraint still compares.
        assert!(admits(">=8.4.28.0", "8.4.28"));
        assert!(!admits(">=8.4.28.1", "8.4.28"));
    }
}
