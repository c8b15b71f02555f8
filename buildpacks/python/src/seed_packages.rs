//! What `python -m venv` gives every environment besides pip ("seed packages", as uv and
//! virtualenv call them): on Python 3.11 and older, the setuptools that the runtime's ensurepip
//! bundles; on 3.12 and later nothing, since ensurepip bundles pip only. Apps that worked in such
//! environments import `pkg_resources` (gunicorn 20 does) without naming setuptools. pip itself is
//! left out of the environment on every version: see the README.

use libtoolforge::build_env::BuildEnv;
use libtoolforge::output::BuildOutput;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The setuptools `python -m venv` would give an environment of the chosen Python.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BundledSetuptools {
    /// Python 3.12 or later: `python -m venv` gives no setuptools.
    NotBundled,
    /// ensurepip's wheels: setuptools, and the pip that installs it offline, as ensurepip does.
    Found {
        version: String,
        python_minor: String,
        wheel: PathBuf,
        pip_wheel: PathBuf,
    },
    /// Python 3.11 or older whose ensurepip has no bundled wheels (a runtime built without them).
    Missing {
        python_version: String,
        bundled_dir: PathBuf,
    },
}

impl BundledSetuptools {
    /// What ensurepip bundles in the Python layer `python_layer` of `python_version` (`3.11.2`).
    pub(crate) fn find(python_layer: &Path, python_version: &str) -> Self {
        let mut parts = python_version.split('.').map(str::parse::<u64>);
        let (Some(Ok(major)), Some(Ok(minor))) = (parts.next(), parts.next()) else {
            return Self::NotBundled;
        };
        if (major, minor) >= (3, 12) {
            return Self::NotBundled;
        }
        let python_minor = format!("{major}.{minor}");
        let bundled_dir = python_layer.join(format!("lib/python{python_minor}/ensurepip/_bundled"));
        match (
            bundled_wheel(&bundled_dir, "setuptools"),
            bundled_wheel(&bundled_dir, "pip"),
        ) {
            (Some((version, wheel)), Some((_, pip_wheel))) => Self::Found {
                version,
                python_minor,
                wheel,
                pip_wheel,
            },
            _ => Self::Missing {
                python_version: python_version.to_string(),
                bundled_dir,
            },
        }
    }

    /// For the `venv` layer's key: what the environment starts with before the app's install.
    pub(crate) fn seed_packages(&self) -> Vec<String> {
        match self {
            Self::Found { version, .. } => vec![format!("setuptools {version}")],
            Self::NotBundled | Self::Missing { .. } => Vec::new(),
        }
    }

    /// One line in the build log: what the environment gets, or that it lacks what
    /// `python -m venv` would give; nothing on Python 3.12 and later.
    pub(crate) fn announce(&self, output: &mut BuildOutput) {
        match self {
            Self::NotBundled => {}
            Self::Found {
                version,
                python_minor,
                ..
            } => output.detail(&format!(
                "setuptools {version} (bundled with Python {python_minor}, as python -m venv gives it)"
            )),
            Self::Missing {
                python_version,
                bundled_dir,
            } => output.warning(&format!(
                "Python {python_version} has no bundled setuptools and pip wheels in {}: unlike python -m venv's, \
                 the environment has no setuptools (add it to the dependencies if the app imports pkg_resources).",
                bundled_dir.display()
            )),
        }
    }

    /// The command that installs the bundled setuptools into the new environment `venv`, before
    /// the app's dependencies (which replace it when they name another setuptools): ensurepip's
    /// own way, the bundled pip run from its wheel, offline.
    pub(crate) fn install_command(&self, venv: &Path, env: &BuildEnv) -> Option<Command> {
        let Self::Found { wheel, pip_wheel, .. } = self else {
            return None;
        };
        let mut command = env.command(venv.join("bin/python"));
        command
            .arg(pip_wheel.join("pip"))
            // --isolated: the user's PIP_* settings are for the app's install, not for this
            // copy of a local wheel. --no-compile: the buildpack compiles the whole environment.
            .args([
                "install",
                "--isolated",
                "--no-index",
                "--no-deps",
                "--no-compile",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--quiet",
            ])
            .arg(wheel);
        Some(command)
    }
}

/// The wheel of `project` in ensurepip's `_bundled` directory, with its version
/// (`setuptools-65.5.0-py3-none-any.whl` → `65.5.0`).
fn bundled_wheel(bundled_dir: &Path, project: &str) -> Option<(String, PathBuf)> {
    let prefix = format!("{project}-");
    let mut wheels: Vec<(String, PathBuf)> = std::fs::read_dir(bundled_dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version = name
                .strip_suffix(".whl")?
                .strip_prefix(&prefix)?
                .split('-')
                .next()?;
            Some((version.to_string(), entry.path()))
        })
        .collect();
    // ensurepip bundles one of each; should a runtime hold more, the choice is still stable.
    wheels.sort();
    wheels.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Python layer whose ensurepip bundles `wheels`.
    fn python_layer(minor: &str, wheels: &[&str]) -> tempfile::TempDir {
        let layer = tempfile::tempdir().unwrap();
        let bundled = layer.path().join(format!("lib/python{minor}/ensurepip/_bundled"));
        std::fs::create_dir_all(&bundled).unwrap();
        for wheel in wheels {
            std::fs::write(bundled.join(wheel), "").unwrap();
        }
        layer
    }

    #[test]
    fn python_3_11_and_older_get_the_bundled_setuptools() {
        for (minor, version, setuptools, pip) in [
            (
                "3.11",
                "3.11.2",
                "setuptools-65.5.0-py3-none-any.whl",
                "pip-22.3.1-py3-none-any.whl",
            ),
            (
                "3.10",
                "3.10.18",
                "setuptools-65.5.0-py3-none-any.whl",
                "pip-23.0.1-py3-none-any.whl",
            ),
        ] {
            let layer = python_layer(minor, &[pip, setuptools]);
            let bundled = layer.path().join(format!("lib/python{minor}/ensurepip/_bundled"));
            assert_eq!(
                BundledSetuptools::find(layer.path(), version),
                BundledSetuptools::Found {
                    version: "65.5.0".into(),
                    python_minor: minor.into(),
                    wheel: bundled.join(setuptools),
                    pip_wheel: bundled.join(pip),
                }
            );
        }
    }

    #[test]
    fn python_3_12_and_later_get_nothing() {
        // 3.12's ensurepip bundles pip only; a setuptools wheel there would still not be what
        // `python -m venv` gives.
        for (minor, version) in [("3.12", "3.12.11"), ("3.13", "3.13.5"), ("3.14", "3.14.0")] {
            let layer = python_layer(
                minor,
                &[
                    "pip-25.1.1-py3-none-any.whl",
                    "setuptools-80.9.0-py3-none-any.whl",
                ],
            );
            assert_eq!(
                BundledSetuptools::find(layer.path(), version),
                BundledSetuptools::NotBundled
            );
        }
    }

    #[test]
    fn a_runtime_without_the_wheels_is_missing_them() {
        for wheels in [
            &[][..],
            &["pip-22.3.1-py3-none-any.whl"][..],
            &["setuptools-65.5.0-py3-none-any.whl"][..],
        ] {
            let layer = python_layer("3.11", wheels);
            assert_eq!(
                BundledSetuptools::find(layer.path(), "3.11.2"),
                BundledSetuptools::Missing {
                    python_version: "3.11.2".into(),
                    bundled_dir: layer.path().join("lib/python3.11/ensurepip/_bundled"),
                }
            );
        }
        // Not even the directory.
        let layer = tempfile::tempdir().unwrap();
        assert!(matches!(
            BundledSetuptools::find(layer.path(), "3.11.2"),
            BundledSetuptools::Missing { .. }
        ));
    }

    /// What [`BundledSetuptools::announce`] prints.
    fn announced(setuptools: &BundledSetuptools) -> String {
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut output =
            BuildOutput::start_with(Box::new(log.reopen().unwrap()), "Python", "toolforge/python");
        setuptools.announce(&mut output);
        drop(output);
        let text = std::fs::read_to_string(log.path()).unwrap();
        text.trim_start_matches("\n## Python (toolforge/python)\n")
            .to_string()
    }

    #[test]
    fn one_line_in_the_build_log() {
        let layer = python_layer(
            "3.11",
            &[
                "pip-22.3.1-py3-none-any.whl",
                "setuptools-65.5.0-py3-none-any.whl",
            ],
        );
        let found = BundledSetuptools::find(layer.path(), "3.11.2");
        assert_eq!(
            announced(&found),
            "  - setuptools 65.5.0 (bundled with Python 3.11, as python -m venv gives it)\n"
        );
        assert_eq!(announced(&BundledSetuptools::NotBundled), "");
        let missing = BundledSetuptools::Missing {
            python_version: "3.11.2".into(),
            bundled_dir: "/layers/python/lib/python3.11/ensurepip/_bundled".into(),
        };
        let warning = announced(&missing);
        assert_eq!(warning.lines().count(), 1, "{warning}");
        assert!(
            warning.starts_with(
                "! WARNING: Python 3.11.2 has no bundled setuptools and pip wheels in \
                 /layers/python/lib/python3.11/ensurepip/_bundled"
            ),
            "{warning}"
        );
    }

    #[test]
    fn installed_offline_by_the_bundled_pip() {
        let layer = python_layer(
            "3.11",
            &[
                "pip-22.3.1-py3-none-any.whl",
                "setuptools-65.5.0-py3-none-any.whl",
            ],
        );
        let bundled = layer.path().join("lib/python3.11/ensurepip/_bundled");
        let env = BuildEnv::new(&libcnb::Env::new(), Path::new("/workspace"));
        let venv = Path::new("/layers/venv");
        let command = BundledSetuptools::find(layer.path(), "3.11.2")
            .install_command(venv, &env)
            .unwrap();
        assert_eq!(command.get_program(), "/layers/venv/bin/python");
        let args: Vec<_> = command.get_args().collect();
        assert_eq!(
            args.first().unwrap(),
            &bundled.join("pip-22.3.1-py3-none-any.whl/pip")
        );
        assert_eq!(
            args.last().unwrap(),
            &bundled.join("setuptools-65.5.0-py3-none-any.whl")
        );
        assert!(args.contains(&"--no-index".as_ref()), "{args:?}");
        assert!(
            BundledSetuptools::NotBundled
                .install_command(venv, &env)
                .is_none()
        );
    }
}
