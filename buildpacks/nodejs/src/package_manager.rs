//! Which package manager installs the app's dependencies: the `packageManager` field of
//! package.json (`pnpm@10.34.8`), else the lockfile. Each manager's exact version is installed
//! from the npm registry; npm without a `packageManager` pin is the one bundled with Node.js.

use std::fmt;
use std::path::Path;

/// Versions used when the app pins none (`packageManager` is the way to pin one).
pub(crate) const DEFAULT_PNPM: &str = "10.34.8";
pub(crate) const DEFAULT_YARN_CLASSIC: &str = "1.22.22";
pub(crate) const DEFAULT_YARN_BERRY: &str = "4.18.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Manager {
    Npm,
    Pnpm,
    YarnClassic,
    YarnBerry,
}

impl Manager {
    /// The command.
    pub(crate) fn command(self) -> &'static str {
        match self {
            Self::Npm => "npm",
            Self::Pnpm => "pnpm",
            Self::YarnClassic | Self::YarnBerry => "yarn",
        }
    }

    /// The npm registry package that provides it.
    pub(crate) fn package(self) -> &'static str {
        match self {
            Self::Npm => "npm",
            Self::Pnpm => "pnpm",
            Self::YarnClassic => "yarn",
            Self::YarnBerry => "@yarnpkg/cli-dist",
        }
    }

    pub(crate) fn lockfile(self) -> &'static str {
        match self {
            Self::Npm => "package-lock.json",
            Self::Pnpm => "pnpm-lock.yaml",
            Self::YarnClassic | Self::YarnBerry => "yarn.lock",
        }
    }

    /// The install command's arguments: exactly the lockfile, or fail.
    pub(crate) fn install_args(self, has_lockfile: bool) -> Vec<&'static str> {
        match (self, has_lockfile) {
            (Self::Npm, true) => vec!["ci", "--no-audit", "--no-fund"],
            (Self::Npm, false) => vec!["install", "--no-audit", "--no-fund"],
            (Self::Pnpm, true) => vec!["install", "--frozen-lockfile"],
            (Self::Pnpm | Self::YarnBerry, false) => vec!["install"],
            (Self::YarnClassic, true) => vec!["install", "--frozen-lockfile", "--non-interactive"],
            (Self::YarnClassic, false) => vec!["install", "--non-interactive"],
            (Self::YarnBerry, true) => vec!["install", "--immutable"],
        }
    }

    /// The arguments that remove development dependencies after the build script.
    pub(crate) fn prune_args(self) -> Vec<&'static str> {
        match self {
            Self::Npm => vec!["prune", "--omit=dev", "--no-audit", "--no-fund"],
            Self::Pnpm => vec!["prune", "--prod"],
            Self::YarnClassic => vec![
                "install",
                "--production",
                "--frozen-lockfile",
                "--ignore-scripts",
                "--prefer-offline",
                "--non-interactive",
            ],
            Self::YarnBerry => vec!["workspaces", "focus", "--all", "--production"],
        }
    }
}

impl fmt::Display for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Npm => "npm",
            Self::Pnpm => "pnpm",
            Self::YarnClassic => "Yarn classic",
            Self::YarnBerry => "Yarn",
        })
    }
}

/// The manager, its version (`None`: npm as bundled with Node.js), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    pub(crate) manager: Manager,
    pub(crate) version: Option<String>,
    pub(crate) has_lockfile: bool,
    pub(crate) reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChoiceError {
    /// `packageManager` names something else than npm, pnpm or yarn.
    UnknownManager { field: String },
    /// `packageManager` without an exact version.
    NoExactVersion { field: String },
    /// Lockfiles of different managers and no `packageManager` to choose.
    SeveralLockfiles { lockfiles: Vec<&'static str> },
}

const LOCKFILES: [(&str, Manager); 4] = [
    ("package-lock.json", Manager::Npm),
    ("npm-shrinkwrap.json", Manager::Npm),
    ("pnpm-lock.yaml", Manager::Pnpm),
    ("yarn.lock", Manager::YarnClassic),
];

pub(crate) fn choose(app_dir: &Path, package_manager: Option<&str>) -> Result<Choice, ChoiceError> {
    let present: Vec<(&'static str, Manager)> = LOCKFILES
        .into_iter()
        .filter(|(file, _)| app_dir.join(file).is_file())
        .collect();
    if let Some(field) = package_manager {
        let (name, version) = field.split_once('@').unwrap_or((field, ""));
        // `pnpm@10.34.8+sha512.…`: corepack's hash is not ours to check.
        let version = version.split('+').next().unwrap_or_default();
        let exact = node_semver::Version::parse(version).map_err(|_| ChoiceError::NoExactVersion {
            field: field.to_string(),
        });
        let manager = match name {
            "npm" => Manager::Npm,
            "pnpm" => Manager::Pnpm,
            "yarn" if exact.as_ref().is_ok_and(|version| version.major < 2) => Manager::YarnClassic,
            "yarn" => Manager::YarnBerry,
            _ => {
                return Err(ChoiceError::UnknownManager {
                    field: field.to_string(),
                });
            }
        };
        exact?;
        return Ok(Choice {
            manager,
            version: Some(version.to_string()),
            has_lockfile: app_dir.join(manager.lockfile()).is_file()
                || (manager == Manager::Npm && app_dir.join("npm-shrinkwrap.json").is_file()),
            reason: format!("packageManager {field} in package.json"),
        });
    }
    let mut managers: Vec<Manager> = present.iter().map(|(_, manager)| *manager).collect();
    managers.dedup();
    match (present.first(), managers.len()) {
        (None, _) => Ok(Choice {
            manager: Manager::Npm,
            version: None,
            has_lockfile: false,
            reason: "default: no lockfile".to_string(),
        }),
        (Some((file, manager)), 1) => {
            let manager = if *manager == Manager::YarnClassic && is_yarn_berry(app_dir) {
                Manager::YarnBerry
            } else {
                *manager
            };
            Ok(Choice {
                manager,
                version: match manager {
                    Manager::Npm => None,
                    Manager::Pnpm => Some(DEFAULT_PNPM.to_string()),
                    Manager::YarnClassic => Some(DEFAULT_YARN_CLASSIC.to_string()),
                    Manager::YarnBerry => Some(DEFAULT_YARN_BERRY.to_string()),
                },
                has_lockfile: true,
                reason: (*file).to_string(),
            })
        }
        _ => Err(ChoiceError::SeveralLockfiles {
            lockfiles: present.iter().map(|(file, _)| *file).collect(),
        }),
    }
}

/// Yarn 2+ (Berry) writes `.yarnrc.yml` and a lockfile with a `__metadata` entry.
fn is_yarn_berry(app_dir: &Path) -> bool {
    app_dir.join(".yarnrc.yml").is_file()
        || std::fs::read_to_string(app_dir.join("yarn.lock")).is_ok_and(|text| text.contains("__metadata:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            std::fs::write(dir.path().join(file), "").unwrap();
        }
        dir
    }

    #[test]
    fn by_lockfile() {
        let choice = choose(app(&["package-lock.json"]).path(), None).unwrap();
        assert_eq!((choice.manager, choice.version), (Manager::Npm, None));
        let choice = choose(app(&["pnpm-lock.yaml"]).path(), None).unwrap();
        assert_eq!(choice.manager, Manager::Pnpm);
        assert_eq!(
            choose(app(&["yarn.lock"]).path(), None).unwrap().manager,
            Manager::YarnClassic
        );
        let choice = choose(app(&["yarn.lock", ".yarnrc.yml"]).path(), None).unwrap();
        assert_eq!(choice.manager, Manager::YarnBerry);
        let choice = choose(app(&[]).path(), None).unwrap();
        assert!(!choice.has_lockfile);
        assert_eq!(
            choose(app(&["package-lock.json", "yarn.lock"]).path(), None),
            Err(ChoiceError::SeveralLockfiles {
                lockfiles: vec!["package-lock.json", "yarn.lock"]
            })
        );
    }

    #[test]
    fn by_package_manager_field() {
        let dir = app(&["package-lock.json", "yarn.lock"]);
        let choice = choose(dir.path(), Some("yarn@4.18.1")).unwrap();
        assert_eq!(choice.manager, Manager::YarnBerry);
        assert_eq!(choice.version.as_deref(), Some("4.18.1"));
        assert!(choice.has_lockfile);
        let choice = choose(dir.path(), Some("yarn@1.22.22")).unwrap();
        assert_eq!(choice.manager, Manager::YarnClassic);
        let choice = choose(dir.path(), Some("pnpm@10.34.8+sha512.abc")).unwrap();
        assert_eq!((choice.manager, choice.has_lockfile), (Manager::Pnpm, false));
        assert_eq!(
            choose(dir.path(), Some("bun@1.1.0")),
            Err(ChoiceError::UnknownManager {
                field: "bun@1.1.0".into()
            })
        );
        assert_eq!(
            choose(dir.path(), Some("pnpm@latest")),
            Err(ChoiceError::NoExactVersion {
                field: "pnpm@latest".into()
            })
        );
    }
}
