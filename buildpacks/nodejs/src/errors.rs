//! Everything that can stop this buildpack, and the one function that explains it.

use crate::node_version::InvalidRange;
use crate::package_json::{HEROKU_CLEANUP, HEROKU_PREBUILD, PACKAGE_JSON, PackageJsonError};
use crate::package_manager::{ChoiceError, Manager};
use libtoolforge::command::CommandError;
use libtoolforge::error::{ErrorMessage, IoError, Location};
use libtoolforge::runtime::RuntimeError;
use libtoolforge::toml_file::TomlError;

#[derive(Debug)]
pub(crate) enum NodejsBuildpackError {
    PackageJson(PackageJsonError),
    Config(TomlError),
    InvalidRange(InvalidRange),
    Choice { error: ChoiceError, line: Option<usize> },
    Runtime(RuntimeError),
    Command { step: Step, error: CommandError },
    Io(IoError),
}

/// What a failed command was doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    InstallManager {
        manager: Manager,
        version: String,
    },
    Install {
        manager: Manager,
        has_lockfile: bool,
    },
    /// `heroku-prebuild`, before the install.
    Prebuild,
    /// `toolforge-build`, `heroku-postbuild` or `build`.
    BuildScript {
        script: &'static str,
    },
    Prune {
        manager: Manager,
    },
    /// `heroku-cleanup`, after the pruning.
    Cleanup,
}

impl From<RuntimeError> for NodejsBuildpackError {
    fn from(error: RuntimeError) -> Self {
        Self::Runtime(error)
    }
}

impl From<NodejsBuildpackError> for libcnb::Error<NodejsBuildpackError> {
    fn from(error: NodejsBuildpackError) -> Self {
        Self::BuildpackError(error)
    }
}

fn at_package_json(line: Option<usize>) -> Location {
    line.map_or_else(
        || Location::file(PACKAGE_JSON),
        |line| Location::line(PACKAGE_JSON, line),
    )
}

pub(crate) fn error_message(error: &NodejsBuildpackError) -> ErrorMessage {
    match error {
        NodejsBuildpackError::PackageJson(error) => ErrorMessage::app(
            "Invalid package.json",
            format!("package.json cannot be read: {}.", error.message),
        )
        .at(at_package_json(error.line))
        .fix("correct package.json (it must be JSON, with `engines.node` and `packageManager` as strings) and commit it."),

        NodejsBuildpackError::Config(error) => error.message().fix(
            "`[org.toolforge.nodejs]` takes `prune-dev-dependencies = true|false` and `launch = true|false`.",
        ),

        NodejsBuildpackError::InvalidRange(error) => ErrorMessage::app(
            "Invalid Node.js version",
            format!("The Node.js version `{}` in {} cannot be used: {}.", error.text, error.origin, error.message),
        )
        .at(error.origin.location())
        .fix("write an npm version range such as `24.x`, `>=22 <25` or `^24.11`, or an exact version such as `24.11.1`."),

        NodejsBuildpackError::Choice { error, line } => choice_message(error, *line),

        NodejsBuildpackError::Runtime(error) => error.message(),

        NodejsBuildpackError::Command { step, error } => command_message(step, error),

        NodejsBuildpackError::Io(error) => error.message(),
    }
}

fn choice_message(error: &ChoiceError, line: Option<usize>) -> ErrorMessage {
    match error {
        ChoiceError::UnknownManager { field } => ErrorMessage::app(
            "Unknown package manager",
            format!(
                "package.json asks for the package manager `{field}`; this buildpack installs \
                 dependencies with npm, pnpm or Yarn."
            ),
        )
        .at(at_package_json(line))
        .fix("set `packageManager` to `npm@<version>`, `pnpm@<version>` or `yarn@<version>`, or remove it to use npm."),

        ChoiceError::NoExactVersion { field } => ErrorMessage::app(
            "Package manager without an exact version",
            format!("package.json asks for the package manager `{field}`, without an exact version."),
        )
        .at(at_package_json(line))
        .fix("name an exact version, as corepack requires too: for example `pnpm@10.34.8`."),

        ChoiceError::SeveralLockfiles { lockfiles } => ErrorMessage::app(
            "Lockfiles of several package managers",
            format!(
                "This app has {}: each belongs to another package manager, so which one installs the \
                 dependencies is ambiguous.",
                lockfiles.join(" and ")
            ),
        )
        .at(Location::file(lockfiles.last().copied().unwrap_or_default()))
        .fix(
            "delete the lockfiles of the managers you do not use (`git rm`), or name the one you use in \
             package.json's `packageManager` field (for example `\"packageManager\": \"npm@11.6.2\"`).",
        ),
    }
}

fn command_message(step: &Step, error: &CommandError) -> ErrorMessage {
    let error = &without_npm_usage(error);
    match step {
        Step::InstallManager { manager, version } => error.message(
            format!("Cannot install {manager} {version}"),
            &format!("Installing {}@{version} from the npm registry failed.", manager.package()),
            false,
        ),
        Step::Install { manager, has_lockfile } => {
            let message = error.message(
                format!("Installing dependencies with {manager} failed"),
                &format!(
                    "{manager} could not install the app's dependencies; its own message is at the end \
                     of its output, quoted here."
                ),
                true,
            );
            if *has_lockfile {
                message.at(Location::file(manager.lockfile())).fix(format!(
                    "if {manager} says the lockfile does not match package.json, run `{} install` and \
                     commit {}; otherwise correct the dependency it names in package.json.",
                    manager.command(),
                    manager.lockfile()
                ))
            } else {
                message.at(Location::file(PACKAGE_JSON)).fix(
                    "correct the dependency it names in package.json, and commit a lockfile so that every \
                     build installs the same versions.",
                )
            }
        }
        Step::Prebuild => script_failed(
            error,
            HEROKU_PREBUILD,
            " (run before the dependencies are installed, as on Heroku)",
            format!(
                "run the `{HEROKU_PREBUILD}` script locally from a clean checkout, before installing the \
                 dependencies, and fix what it reports."
            ),
        ),
        Step::BuildScript { script } => script_failed(
            error,
            script,
            "",
            format!("run the `{script}` script locally from a clean checkout and fix what it reports."),
        ),
        Step::Cleanup => script_failed(
            error,
            HEROKU_CLEANUP,
            " (run last, after the development dependencies are removed, as on Heroku)",
            format!(
                "run the `{HEROKU_CLEANUP}` script locally after a production install (without the \
                 development dependencies) and fix what it reports; what it uses must be in `dependencies`."
            ),
        ),
        Step::Prune { manager } => error
            .message(
                format!("Removing development dependencies with {manager} failed"),
                "After the build script, the development dependencies are removed from node_modules.",
                true,
            )
            .fix("keep them with `prune-dev-dependencies = false` under `[org.toolforge.nodejs]` in project.toml."),
    }
}

/// A package.json script that exits with an error: `when` it runs, unless its name says, and
/// how to reproduce the failure.
fn script_failed(error: &CommandError, script: &str, when: &str, fix: String) -> ErrorMessage {
    error
        .message(
            format!("The `{script}` script failed"),
            &format!(
                "package.json's `{script}` script{when} exits with an error; its output is above and \
                 its end is quoted here."
            ),
            true,
        )
        .at(Location::file(PACKAGE_JSON))
        .fix(fix)
}

/// npm prints the command's usage after the reason it failed (`npm error`, a one-line
/// description, `npm error`, `npm error Usage:`, …), which would push the reason out of the quote.
fn without_npm_usage(error: &CommandError) -> CommandError {
    let lines: Vec<&str> = error.output_tail.lines().collect();
    match lines.iter().position(|line| line.starts_with("npm error Usage:")) {
        Some(usage) => CommandError {
            output_tail: lines[..usage.saturating_sub(3)].join("\n"),
            ..error.clone()
        },
        None => error.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(error: &NodejsBuildpackError) -> String {
        error_message(error).render()
    }

    #[test]
    fn several_lockfiles() {
        insta::assert_snapshot!(render(&NodejsBuildpackError::Choice {
            error: ChoiceError::SeveralLockfiles {
                lockfiles: vec!["package-lock.json", "yarn.lock"]
            },
            line: None,
        }));
    }

    #[test]
    fn unknown_manager() {
        insta::assert_snapshot!(render(&NodejsBuildpackError::Choice {
            error: ChoiceError::UnknownManager {
                field: "bun@1.1.0".into()
            },
            line: Some(5),
        }));
    }

    #[test]
    fn lockfile_out_of_sync() {
        insta::assert_snapshot!(render(&NodejsBuildpackError::Command {
            step: Step::Install {
                manager: Manager::Npm,
                has_lockfile: true
            },
            error: CommandError {
                command: "npm ci --no-audit --no-fund".into(),
                exit_code: Some(1),
                spawn_error: None,
                output_tail: "npm error `npm ci` can only install packages when your package.json and \
                              package-lock.json are in sync.\nnpm error Missing: is-number@7.0.0 from lock file\n\
                              npm error\nnpm error Clean install a project\nnpm error\nnpm error Usage:\n\
                              npm error npm ci"
                    .into(),
            },
        }));
    }

    #[test]
    fn build_script_failed() {
        insta::assert_snapshot!(render(&NodejsBuildpackError::Command {
            step: Step::BuildScript { script: "build" },
            error: CommandError {
                command: "npm run build".into(),
                exit_code: Some(1),
                spawn_error: None,
                output_tail: "vite: could not resolve ./missing.js".into(),
            },
        }));
    }

    fn script_error(script: &str, output_tail: &str) -> CommandError {
        CommandError {
            command: format!("npm run {script}"),
            exit_code: Some(1),
            spawn_error: None,
            output_tail: output_tail.into(),
        }
    }

    #[test]
    fn heroku_prebuild_failed() {
        insta::assert_snapshot!(render(&NodejsBuildpackError::Command {
            step: Step::Prebuild,
            error: script_error("heroku-prebuild", "sh: 1: ./scripts/fetch-assets.sh: not found"),
        }));
    }

    #[test]
    fn heroku_postbuild_failed() {
        insta::assert_snapshot!(render(&NodejsBuildpackError::Command {
            step: Step::BuildScript {
                script: "heroku-postbuild"
            },
            error: script_error("heroku-postbuild", "webpack: Module not found: ./src/missing.js"),
        }));
    }

    #[test]
    fn heroku_cleanup_failed() {
        insta::assert_snapshot!(render(&NodejsBuildpackError::Command {
            step: Step::Cleanup,
            error: script_error("heroku-cleanup", "sh: 1: rimraf: not found"),
        }));
    }

    #[test]
    fn invalid_nvmrc() {
        insta::assert_snapshot!(render(&NodejsBuildpackError::InvalidRange(InvalidRange {
            origin: libtoolforge::version_request::Origin::line(".nvmrc", 1),
            text: "twenty".into(),
            message: "it is not a version range (invalid version)".into(),
        })));
    }
}
