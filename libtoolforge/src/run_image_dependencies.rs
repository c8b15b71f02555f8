//! What a layer of Debian packages takes from the run image, recorded when the layer is installed
//! and checked before every process start. The layer's packages were resolved against the run
//! image's dpkg status: whatever it had (the C library above all) was not installed into the
//! layer. `pack rebase` swaps the run image without a build; when the new one lacks such a
//! package, or has a version that no longer satisfies a `Depends` of the layer's packages, the
//! layer's programs would fail with a loader error. The exec.d program ([`CHECK_PROGRAM`]) stops
//! the start instead, with a message that says to rebuild. A package that changed but still
//! satisfies every recorded constraint (a security update of the run image: what rebases are for)
//! passes.

use crate::command;
use crate::debian::{self, AptError};
use crate::error::ErrorMessage;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// In the layer: the [`Record`].
pub const RECORD: &str = ".toolforge/run-image-dependencies.toml";

/// The exec.d program's name in the layer. Its binary is a target of each buildpack whose launch
/// layers hold Debian packages, `toolforge-<buildpack>-run-image-check` (unique names: the
/// workspace's targets share one directory), whose `main` is [`exec_d_main`].
pub const CHECK_PROGRAM: &str = "toolforge-run-image-check";

/// The dpkg status of the image a process starts in.
const DPKG_STATUS: &str = "/var/lib/dpkg/status";

/// Every run-image package the layer's packages depend on, by name: sorted, so the file is the
/// same for the same packages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Record(pub BTreeMap<String, RunImagePackage>);

/// A package of the run image that the layer's packages depend on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RunImagePackage {
    /// The version the run image had when the layer was resolved against it.
    pub version: String,
    /// Which packages of the layer need it, and which versions, sorted.
    pub needed_by: BTreeSet<Need>,
}

/// One package of the layer's dependency on a run-image package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Need {
    pub package: String,
    /// As the package declares it: `>= 2.38`; empty for any version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
}

/// What a layer's package declares, from its control file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Control {
    pub package: String,
    /// `Pre-Depends` and `Depends`, in dpkg's syntax.
    pub depends: Vec<String>,
    /// The virtual packages it provides (which the layer then satisfies itself).
    pub provides: Vec<String>,
}

impl Control {
    /// The control fields of the package file `deb`.
    ///
    /// # Errors
    ///
    /// When dpkg-deb fails.
    pub fn of_deb(deb: &Path) -> Result<Self, AptError> {
        let text = command::output(Command::new("dpkg-deb").arg("--field").arg(deb).args([
            "Package",
            "Pre-Depends",
            "Depends",
            "Provides",
        ]))
        .map_err(AptError::Command)?;
        Ok(Self::parse(&text))
    }

    /// `Field: value` lines, continuation lines indented, as dpkg-deb prints several fields.
    fn parse(text: &str) -> Self {
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = fields.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                fields.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        let mut control = Self::default();
        for (name, value) in fields {
            match name.as_str() {
                "Package" => control.package = value,
                "Pre-Depends" | "Depends" => control.depends.push(value),
                "Provides" => control.provides.extend(
                    alternatives(&value)
                        .into_iter()
                        .flatten()
                        .map(|relation| relation.name),
                ),
                _ => {}
            }
        }
        control
    }
}

/// One alternative of a dependency: `libc6 (>= 2.38)`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Relation {
    name: String,
    /// `>= 2.38`, empty for any version.
    version: String,
}

/// A `Depends` field: its comma-separated dependencies, each its `|`-separated alternatives.
/// Architecture qualifiers (`:any`) are dropped: the run image has one architecture.
fn alternatives(field: &str) -> Vec<Vec<Relation>> {
    field
        .split(',')
        .map(|dependency| {
            dependency
                .split('|')
                .filter_map(|alternative| {
                    let alternative = alternative.trim();
                    let (name, rest) = alternative
                        .split_once('(')
                        .map_or((alternative, ""), |(name, rest)| (name, rest));
                    let name = name.trim().split(':').next()?.trim();
                    let constraint = rest.split(')').next().unwrap_or_default().trim();
                    let (operator, version) = constraint
                        .find(|c: char| !"<>=".contains(c))
                        .map_or((constraint, ""), |at| constraint.split_at(at));
                    (!name.is_empty()).then(|| Relation {
                        name: name.to_string(),
                        version: if operator.is_empty() {
                            String::new()
                        } else {
                            format!("{operator} {}", version.trim())
                        },
                    })
                })
                .collect::<Vec<_>>()
        })
        .filter(|alternatives| !alternatives.is_empty())
        .collect()
}

/// What the layer of `controls` takes from a run image of `run_image` (package → version): for
/// each dependency the layer does not satisfy itself, the first alternative the run image
/// satisfies. Dependencies the run image satisfies only virtually, or only with stubs, are not
/// recorded: the check cannot judge them.
#[must_use]
pub fn record(controls: &[Control], run_image: &BTreeMap<String, String>) -> Record {
    let in_layer: BTreeSet<&str> = controls
        .iter()
        .flat_map(|control| std::iter::once(&control.package).chain(&control.provides))
        .map(String::as_str)
        .collect();
    let mut record = Record::default();
    for control in controls {
        for dependency in control.depends.iter().flat_map(|field| alternatives(field)) {
            if dependency
                .iter()
                .any(|relation| in_layer.contains(relation.name.as_str()))
            {
                continue;
            }
            let satisfied = dependency.into_iter().find_map(|relation| {
                let version = run_image.get(&relation.name)?;
                satisfies(version, &relation.version).then_some((relation, version))
            });
            if let Some((relation, version)) = satisfied {
                record
                    .0
                    .entry(relation.name)
                    .or_insert_with(|| RunImagePackage {
                        version: version.clone(),
                        needed_by: BTreeSet::new(),
                    })
                    .needed_by
                    .insert(Need {
                        package: control.package.clone(),
                        version: relation.version,
                    });
            }
        }
    }
    record
}

/// Writes the [`Record`] of the package files `debs` against the run image's dpkg status `status`
/// into `layer`.
///
/// # Errors
///
/// When dpkg-deb fails, or a file cannot be read or written.
pub fn write_record(layer: &Path, debs: &[PathBuf], status: &Path) -> Result<(), AptError> {
    let io = |what: String| move |error| AptError::Io { what, error };
    let status = std::fs::read_to_string(status).map_err(io(format!("read {}", status.display())))?;
    let controls = debs
        .iter()
        .map(|deb| Control::of_deb(deb))
        .collect::<Result<Vec<_>, _>>()?;
    let record = record(&controls, &debian::installed_versions(&status));
    let path = layer.join(RECORD);
    let text = toml::to_string(&record).map_err(|error| AptError::Io {
        what: "record the run image's packages".into(),
        error: std::io::Error::other(error),
    })?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(format!("create {}", parent.display())))?;
    }
    std::fs::write(&path, text).map_err(io(format!("write {}", path.display())))
}

/// A recorded package the current run image no longer satisfies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    pub name: String,
    /// The version the layer was resolved against.
    pub was: String,
    /// The current run image's version; `None` when it lacks the package.
    pub now: Option<String>,
    /// What the layer's packages need of it that `now` does not satisfy.
    pub needs: Vec<Need>,
}

/// The recorded packages that `installed` (package → version) lacks or no longer satisfies.
#[must_use]
pub fn check(record: &Record, installed: &BTreeMap<String, String>) -> Vec<Unmet> {
    record
        .0
        .iter()
        .filter_map(|(name, recorded)| {
            let now = installed.get(name);
            let needs: Vec<Need> = recorded
                .needed_by
                .iter()
                .filter(|need| now.is_none_or(|version| !satisfies(version, &need.version)))
                .cloned()
                .collect();
            (!needs.is_empty()).then(|| Unmet {
                name: name.clone(),
                was: recorded.version.clone(),
                now: now.cloned(),
                needs,
            })
        })
        .collect()
}

/// The message that stops the start: which layer, which packages, what it needs, what the run
/// image has now.
#[must_use]
pub fn unmet_message(layer: &str, unmet: &[Unmet]) -> ErrorMessage {
    let lines: Vec<String> = unmet
        .iter()
        .map(|package| {
            let needs: Vec<String> = package
                .needs
                .iter()
                .map(|need| {
                    if need.version.is_empty() {
                        format!("`{}` needs it", need.package)
                    } else {
                        format!("`{}` needs {}", need.package, need.version)
                    }
                })
                .collect();
            let now = package.now.as_ref().map_or_else(
                || "the run image no longer has it".to_string(),
                |version| format!("the run image now has {version}"),
            );
            format!(
                "- `{}`: {}; it was {} when the layer was built, {now}",
                package.name,
                needs.join(", "),
                package.was
            )
        })
        .collect();
    ErrorMessage::platform(
        format!("The layer {layer} does not work on this run image"),
        format!(
            "The Debian packages of the layer {layer} were installed against the run image's \
             packages, and this run image no longer has what they need:\n{}\nThis image was \
             rebased onto a run image whose packages no longer match; its programs would fail \
             to load, so no process was started.",
            lines.join("\n")
        ),
    )
    .fix(
        "rebuild the image (on Toolforge: `toolforge build start <your tool's repository>`), \
         which installs the packages against the current run image.",
    )
}

/// Checks the layer `layer` against the dpkg status `status`: [`unmet_message`] when a recorded
/// package is missing or no longer satisfies the layer, `None` when it passes. A layer without a
/// record (made by an older buildpack) and an image without a dpkg status pass: they cannot be
/// judged.
#[must_use]
pub fn check_layer(layer: &Path, status: &Path) -> Option<ErrorMessage> {
    let record: Record = toml::from_str(&std::fs::read_to_string(layer.join(RECORD)).ok()?).ok()?;
    if record.0.is_empty() {
        return None;
    }
    let status = std::fs::read_to_string(status).ok()?;
    let unmet = check(&record, &debian::installed_versions(&status));
    if unmet.is_empty() {
        return None;
    }
    // `/layers/<buildpack id>/<layer>`: the buildpack's directory, its `/` as `_`, and the layer.
    let mut names = layer.iter().rev().take(2).map(|name| name.to_string_lossy());
    let name = names.next().unwrap_or_default();
    let layer_name = match names.next() {
        Some(buildpack) => format!("{buildpack}/{name}"),
        None => name.to_string(),
    };
    Some(unmet_message(&layer_name, &unmet))
}

/// The exec.d program: checks the layer it is in (`<layer>/exec.d/<program>`) against the running
/// image's dpkg status. Prints nothing and returns 0 when the layer is satisfied; the message on
/// stderr and 1 when not, so that the launcher starts no process. Its `main` is
/// `std::process::exit(exec_d_main())`.
#[must_use]
pub fn exec_d_main() -> i32 {
    let Some(layer) = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.to_path_buf()))
    else {
        return 0;
    };
    match check_layer(&layer, Path::new(DPKG_STATUS)) {
        None => 0,
        Some(message) => {
            eprint!("{}", message.render());
            1
        }
    }
}

/// Whether `version` satisfies `constraint` (`>= 2.38`, `<< 3`, `= 1.0-1`; empty: any version).
#[must_use]
pub fn satisfies(version: &str, constraint: &str) -> bool {
    let Some((operator, wanted)) = constraint.trim().split_once(' ') else {
        return true;
    };
    let order = compare_versions(version, wanted.trim());
    match operator {
        ">=" => order != Ordering::Less,
        "<=" => order != Ordering::Greater,
        ">>" | ">" => order == Ordering::Greater,
        "<<" | "<" => order == Ordering::Less,
        _ => order == Ordering::Equal,
    }
}

/// Debian's version order (`deb-version(7)`, dpkg's `verrevcmp`): epoch, then upstream version,
/// then revision, each compared in runs of non-digits (`~` before everything, even the end;
/// letters before other characters) and numbers.
#[must_use]
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let split = |version: &str| -> (u64, String, String) {
        let (epoch, rest) = match version.split_once(':') {
            Some((epoch, rest)) => (epoch.parse().unwrap_or(0), rest),
            None => (0, version),
        };
        let (upstream, revision) = rest.rsplit_once('-').unwrap_or((rest, ""));
        (epoch, upstream.to_string(), revision.to_string())
    };
    let (a_epoch, a_upstream, a_revision) = split(a);
    let (b_epoch, b_upstream, b_revision) = split(b);
    a_epoch
        .cmp(&b_epoch)
        .then_with(|| compare_part(&a_upstream, &b_upstream))
        .then_with(|| compare_part(&a_revision, &b_revision))
}

fn compare_part(a: &str, b: &str) -> Ordering {
    let weight = |c: Option<u8>| -> i32 {
        match c {
            Some(b'~') => -1,
            None => 0,
            Some(c) if c.is_ascii_alphabetic() => i32::from(c),
            Some(c) => i32::from(c) + 256,
        }
    };
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    while !a.is_empty() || !b.is_empty() {
        // The non-digit runs, character by character (the end weighs 0).
        loop {
            let (x, y) = (a.first().copied(), b.first().copied());
            let x_text = x.filter(|c| !c.is_ascii_digit());
            let y_text = y.filter(|c| !c.is_ascii_digit());
            if x_text.is_none() && y_text.is_none() {
                break;
            }
            let order = weight(x_text).cmp(&weight(y_text));
            if order != Ordering::Equal {
                return order;
            }
            a = &a[1..];
            b = &b[1..];
        }
        // The numbers, leading zeros ignored.
        let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
        let (a_len, b_len) = (digits(a), digits(b));
        let number = |s: &[u8]| {
            let trimmed: &[u8] = &s[s.iter().take_while(|c| **c == b'0').count()..];
            trimmed.to_vec()
        };
        let (x, y) = (number(&a[..a_len]), number(&b[..b_len]));
        let order = x.len().cmp(&y.len()).then_with(|| x.cmp(&y));
        if order != Ordering::Equal {
            return order;
        }
        a = &a[a_len..];
        b = &b[b_len..];
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_image(packages: &[(&str, &str)]) -> BTreeMap<String, String> {
        packages
            .iter()
            .map(|(name, version)| ((*name).to_string(), (*version).to_string()))
            .collect()
    }

    fn control(package: &str, depends: &str) -> Control {
        Control {
            package: package.into(),
            depends: vec![depends.into()],
            provides: Vec::new(),
        }
    }

    #[test]
    fn debian_version_order() {
        for (lower, higher) in [
            ("1.0", "1.1"),
            ("1.9", "1.10"),
            ("1.0~rc1", "1.0"),
            ("1.0", "1.0+deb13u1"),
            ("2.41-12", "2.41-12+deb13u1"),
            ("1:2.0", "9:1.0"),
            ("1.0-1", "1.0-1.1"),
            ("1.0a", "1.0+"),
            ("1.0", "1.0a"),
            ("1.0~~", "1.0~"),
            ("7:7.1.4-1", "7:7.1.5-0+deb13u1"),
        ] {
            assert_eq!(
                compare_versions(lower, higher),
                Ordering::Less,
                "{lower} < {higher}"
            );
            assert_eq!(
                compare_versions(higher, lower),
                Ordering::Greater,
                "{higher} > {lower}"
            );
        }
        assert_eq!(compare_versions("0:1.01", "1.1"), Ordering::Equal);
        assert!(satisfies("2.41-12+deb13u1", ">= 2.38"));
        assert!(!satisfies("2.36-9", ">= 2.38"));
        assert!(satisfies("3.0", "<< 3.1"));
        assert!(!satisfies("3.1", "<< 3.1"));
        assert!(satisfies("1.0-1", "= 1.0-1"));
        assert!(satisfies("anything", ""));
    }

    #[test]
    fn parses_dpkg_deb_fields() {
        let text = "Package: jq\nPre-Depends: libc6 (>= 2.38)\nDepends: libjq1 (= 1.7.1-6),\n libonig5 (>= 6.9.1) | libonig-dev:any\nProvides: jq-bin (= 1)\n";
        let control = Control::parse(text);
        assert_eq!(control.package, "jq");
        assert_eq!(
            control.depends,
            [
                "libc6 (>= 2.38)",
                "libjq1 (= 1.7.1-6), libonig5 (>= 6.9.1) | libonig-dev:any"
            ]
        );
        assert_eq!(control.provides, ["jq-bin"]);
        assert_eq!(
            alternatives(&control.depends[1]),
            [
                vec![Relation {
                    name: "libjq1".into(),
                    version: "= 1.7.1-6".into()
                }],
                vec![
                    Relation {
                        name: "libonig5".into(),
                        version: ">= 6.9.1".into()
                    },
                    Relation {
                        name: "libonig-dev".into(),
                        version: String::new()
                    },
                ],
            ]
        );
        assert_eq!(
            alternatives("libfoo(>=1.0)")[0][0],
            Relation {
                name: "libfoo".into(),
                version: ">= 1.0".into()
            }
        );
    }

    /// jq and libjq1 in the layer; the C library, libonig5 and an alternative from the run image.
    fn jq_record() -> Record {
        let controls = [
            control("jq", "libjq1 (= 1.7.1-6), libc6 (>= 2.34)"),
            control(
                "libjq1",
                "libc6 (>= 2.38), libonig5 (>= 6.9.1), mawk | gawk, systemd-stub, default-dbus",
            ),
        ];
        let run_image = run_image(&[
            ("libc6", "2.41-12"),
            ("libonig5", "6.9.9-1"),
            ("gawk", "1:5.2.1-2"),
            ("zlib1g", "1:1.3"),
        ]);
        record(&controls, &run_image)
    }

    #[test]
    fn records_what_the_run_image_satisfied() {
        let record = jq_record();
        insta::assert_snapshot!(toml::to_string(&record).unwrap(), @r#"
        [gawk]
        version = "1:5.2.1-2"

        [[gawk.needed-by]]
        package = "libjq1"

        [libc6]
        version = "2.41-12"

        [[libc6.needed-by]]
        package = "jq"
        version = ">= 2.34"

        [[libc6.needed-by]]
        package = "libjq1"
        version = ">= 2.38"

        [libonig5]
        version = "6.9.9-1"

        [[libonig5.needed-by]]
        package = "libjq1"
        version = ">= 6.9.1"
        "#);
        assert_eq!(
            toml::from_str::<Record>(&toml::to_string(&record).unwrap()).unwrap(),
            record
        );
    }

    #[test]
    fn a_run_image_that_still_satisfies_passes() {
        let record = jq_record();
        // Unchanged.
        let same = run_image(&[
            ("libc6", "2.41-12"),
            ("libonig5", "6.9.9-1"),
            ("gawk", "1:5.2.1-2"),
        ]);
        assert_eq!(check(&record, &same), []);
        // A security update of each: changed, still satisfying.
        let updated = run_image(&[
            ("libc6", "2.41-12+deb13u1"),
            ("libonig5", "6.9.9-1+deb13u1"),
            ("gawk", "1:5.2.1-2+b1"),
        ]);
        assert_eq!(check(&record, &updated), []);
    }

    #[test]
    fn a_missing_or_older_package_is_unmet() {
        let record = jq_record();
        let broken = run_image(&[("libc6", "2.36-9"), ("gawk", "1:5.2.1-2")]);
        let unmet = check(&record, &broken);
        assert_eq!(
            unmet,
            [
                Unmet {
                    name: "libc6".into(),
                    was: "2.41-12".into(),
                    now: Some("2.36-9".into()),
                    needs: vec![Need {
                        package: "libjq1".into(),
                        version: ">= 2.38".into()
                    }],
                },
                Unmet {
                    name: "libonig5".into(),
                    was: "6.9.9-1".into(),
                    now: None,
                    needs: vec![Need {
                        package: "libjq1".into(),
                        version: ">= 6.9.1".into()
                    }],
                },
            ]
        );
        insta::assert_snapshot!(unmet_message("toolforge_apt/packages", &unmet).render());
    }

    #[test]
    fn checks_the_layer_it_is_in() {
        let dir = tempfile::tempdir().unwrap();
        let layer = dir.path().join("toolforge_apt").join("packages");
        std::fs::create_dir_all(layer.join(".toolforge")).unwrap();
        let status = dir.path().join("status");
        // No record (a layer of an older buildpack): passes.
        std::fs::write(&status, "").unwrap();
        assert_eq!(check_layer(&layer, &status), None);
        std::fs::write(layer.join(RECORD), toml::to_string(&jq_record()).unwrap()).unwrap();
        let entry = |name: &str, version: &str| {
            format!("Package: {name}\nStatus: install ok installed\nVersion: {version}\n\n")
        };
        std::fs::write(
            &status,
            [
                entry("libc6", "2.41-12+deb13u1"),
                entry("libonig5", "6.9.9-1"),
                entry("gawk", "1:5.2.1-2"),
            ]
            .concat(),
        )
        .unwrap();
        assert_eq!(check_layer(&layer, &status), None);
        std::fs::write(
            &status,
            [entry("libc6", "2.41-12"), entry("gawk", "1:5.2.1-2")].concat(),
        )
        .unwrap();
        let message = check_layer(&layer, &status).unwrap();
        assert_eq!(
            message.title,
            "The layer toolforge_apt/packages does not work on this run image"
        );
        assert!(
            message.detail.contains("`libonig5`: `libjq1` needs >= 6.9.1"),
            "{}",
            message.detail
        );
        // No dpkg status at all: cannot judge, passes.
        assert_eq!(check_layer(&layer, &dir.path().join("absent")), None);
    }
}
