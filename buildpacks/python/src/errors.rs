//! Everything that can stop this buildpack, and the one function that explains it.

use crate::package_manager::{ChoiceError, PackageManager};
use crate::python_version::{RUNTIME_TXT, UnpinnedChoice, VersionFileError};
use libtoolforge::build_step::StepError;
use libtoolforge::command::CommandError;
use libtoolforge::error::{ErrorMessage, IoError, Location};
use libtoolforge::runtime::RuntimeError;
use libtoolforge::toml_file::TomlError;
use libtoolforge::version_request::Origin;
use std::fmt::Write as _;

#[derive(Debug)]
pub(crate) enum PythonBuildpackError {
    /// A file whose name is almost one we read (`requirement.txt`).
    Misnamed {
        found: String,
        expected: &'static str,
    },
    Toml(TomlError),
    VersionFile(VersionFileError),
    PackageManager(ChoiceError),
    Runtime(RuntimeError),
    Command {
        step: Step,
        error: CommandError,
    },
    SourceBuildFailed(Box<SourceBuildFailure>),
    Io(IoError),
    /// A build step ([`libtoolforge::build_step`]): Heroku's hooks, collectstatic.
    BuildStep(StepError),
}

impl From<StepError> for PythonBuildpackError {
    fn from(error: StepError) -> Self {
        match error {
            // Django's own message and fix.
            StepError::Failed { step, error } if step == crate::django::COLLECTSTATIC_STEP => Self::Command {
                step: Step::Collectstatic,
                error,
            },
            other => Self::BuildStep(other),
        }
    }
}

/// Installing the dependencies failed building packages from source, on a Python the app did
/// not pin exactly: perhaps newer than its pinned versions support.
#[derive(Debug)]
pub(crate) struct SourceBuildFailure {
    pub(crate) manager: PackageManager,
    pub(crate) error: CommandError,
    /// As the installer names them.
    pub(crate) packages: Vec<String>,
    pub(crate) python: UnpinnedChoice,
}

/// What a failed command was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    CreateVirtualEnvironment,
    InstallTool(PackageManager),
    InstallDependencies(PackageManager),
    Collectstatic,
    CompileBytecode,
}

impl From<RuntimeError> for PythonBuildpackError {
    fn from(error: RuntimeError) -> Self {
        Self::Runtime(error)
    }
}

impl From<PythonBuildpackError> for libcnb::Error<PythonBuildpackError> {
    fn from(error: PythonBuildpackError) -> Self {
        Self::BuildpackError(error)
    }
}

pub(crate) fn error_message(error: &PythonBuildpackError) -> ErrorMessage {
    match error {
        PythonBuildpackError::Misnamed { found, expected } => ErrorMessage::app(
            format!("Misnamed {expected}"),
            format!("This app has a file named `{found}`, but the Python buildpack reads `{expected}`."),
        )
        .at(Location::file(found))
        .fix(format!("rename it: `git mv {found} {expected}`.")),

        PythonBuildpackError::Toml(error) => error.message(),

        PythonBuildpackError::VersionFile(error) => version_file_message(error),

        PythonBuildpackError::PackageManager(error) => package_manager_message(error),

        PythonBuildpackError::Runtime(error) => error.message(),

        PythonBuildpackError::Command { step, error } => command_message(*step, error),

        PythonBuildpackError::BuildStep(error) => error.message(),

        PythonBuildpackError::SourceBuildFailed(failure) => source_build_message(failure),

        PythonBuildpackError::Io(error) => error.message(),
    }
}

fn version_file_message(error: &VersionFileError) -> ErrorMessage {
    match error {
        VersionFileError::Empty { origin } => ErrorMessage::app(
            format!("Empty {}", origin.file),
            format!("{} names no Python version.", origin.file),
        )
        .at(Location::file(&origin.file))
        .fix(version_fix(origin)),
        VersionFileError::Invalid { origin, text } => ErrorMessage::app(
            format!("Invalid {}", origin.file),
            format!("`{text}` is not a Python version this buildpack understands."),
        )
        .at(origin.location())
        .excerpt(text.clone())
        .fix(version_fix(origin)),
        VersionFileError::InvalidSpecifiers {
            origin,
            text,
            message,
        } => ErrorMessage::app(
            format!("Invalid Python requirement in {}", origin.file),
            format!("`{text}` is not a valid version specifier (PEP 440): {message}"),
        )
        .at(origin.location())
        .fix("write it as PEP 440 specifiers, for example `>=3.12` or `>=3.12,<3.15`."),
        VersionFileError::InvalidPoetryConstraint {
            origin,
            text,
            message,
        } => ErrorMessage::app(
            format!("Invalid Python requirement in {}", origin.file),
            format!("`{text}` ({origin}) is not a version constraint as Poetry writes them: {message}."),
        )
        .at(origin.location())
        .fix("write it as Poetry does, for example `^3.12`, `~3.12` or `>=3.12,<3.15`."),
    }
}

fn version_fix(origin: &Origin) -> &'static str {
    if origin.file == RUNTIME_TXT {
        "write `python-3.13` (or an exact `python-3.13.5`); better, replace runtime.txt with a \
             .python-version file containing `3.13`."
    } else {
        "write the major and minor version on the first line, for example `3.13` (or an exact `3.13.5`)."
    }
}

fn package_manager_message(error: &ChoiceError) -> ErrorMessage {
    match error {
        ChoiceError::PipfileWithoutLock => ErrorMessage::app(
            "Pipfile.lock is missing",
            "This app has a Pipfile but no Pipfile.lock. Installing from a Pipfile alone would \
             resolve different versions at every build.",
        )
        .at(Location::file("Pipfile"))
        .fix("run `pipenv lock` and commit Pipfile.lock."),
        ChoiceError::PyprojectWithoutDependencies => ErrorMessage::app(
            "No dependencies to install",
            "pyproject.toml has no `[project]` table and there is no lockfile (uv.lock, poetry.lock) \
             and no requirements.txt, so nothing says which packages the app needs.",
        )
        .at(Location::file("pyproject.toml"))
        .fix(
            "add the lockfile of your package manager (`uv lock`, `poetry lock`), or a requirements.txt, \
             or a `[project]` table with `name`, `version` and `dependencies = [...]` (PEP 621), which \
             is installed with pip.",
        ),
        ChoiceError::NoDependencyFile => ErrorMessage::app(
            "No dependency file",
            "This app has Python files but none that lists its dependencies.",
        )
        .fix(
            "add a requirements.txt (an empty one if the app needs only the standard library), or a \
             pyproject.toml with a lockfile (uv.lock, poetry.lock), or a Pipfile with its Pipfile.lock.",
        ),
    }
}

fn command_message(step: Step, error: &CommandError) -> ErrorMessage {
    let (title, detail, fix, cause_is_app) = match step {
        Step::CreateVirtualEnvironment => (
            "Cannot create the virtual environment".to_string(),
            "Python could not create the virtual environment for the dependencies.".to_string(),
            None,
            false,
        ),
        Step::InstallTool(manager) => (
            format!("Cannot install {} {}", manager.tool(), manager.version()),
            format!(
                "Installing {} from PyPI failed.",
                manager.requirements().join(" ")
            ),
            None,
            false,
        ),
        Step::InstallDependencies(manager) => (
            format!("Installing dependencies with {} failed", manager.tool()),
            format!(
                "{} could not install the app's dependencies; its own message is at the end of its \
                 output, above and quoted here.",
                manager.tool()
            ),
            Some(install_fix(manager)),
            true,
        ),
        Step::Collectstatic => (
            "Django's collectstatic failed".to_string(),
            "`python manage.py collectstatic --noinput` failed; Django's message is quoted here.".to_string(),
            Some(
                "fix the static files settings (STATIC_ROOT must be set for collectstatic), or turn this \
                 step off with the build environment variable DISABLE_COLLECTSTATIC=1.",
            ),
            true,
        ),
        Step::CompileBytecode => (
            "Cannot compile the app's Python files".to_string(),
            "`python -m compileall` failed: a .py file of the app does not compile.".to_string(),
            Some("fix the syntax error it names."),
            true,
        ),
    };
    let mut message = error.message(title, &detail, cause_is_app);
    if let Some(fix) = fix {
        message = message.fix(fix);
    }
    message
}

/// The installer's message, then why this Python and which older one to pin.
fn source_build_message(failure: &SourceBuildFailure) -> ErrorMessage {
    let SourceBuildFailure {
        manager,
        error,
        packages,
        python,
    } = failure;
    let mut message = command_message(Step::InstallDependencies(*manager), error);
    let packages = match packages.as_slice() {
        [first @ .., last] if !first.is_empty() => format!("{} and {last}", first.join(", ")),
        _ => packages.join(""),
    };
    let minor = python
        .chosen
        .rsplit_once('.')
        .map_or(python.chosen.as_str(), |(minor, _)| minor);
    let why = match &python.origin {
        None => {
            "no file of the app asks for a version, and it is the newest release this builder has".to_string()
        }
        Some(origin) => {
            let line = origin
                .line
                .map(|line| format!(", line {line}"))
                .unwrap_or_default();
            format!(
                "it is the newest release that `{}` allows ({origin}{line})",
                python.requested
            )
        }
    };
    let _ = write!(
        message.detail,
        "\n\nBuilding {packages} from source failed, which usually means that no ready-built wheel of \
         the pinned version exists for Python {minor}. The build uses Python {} because {why}; the \
         app's pinned versions may predate Python {minor}.",
        python.chosen,
    );
    message.fix(format!(
        "pin the newest older Python that the app allows: add the line `{older}` to a file named \
         `.python-version` at the top of the app (`echo {older} > .python-version`), commit it and \
         build again. Or upgrade {packages} to versions that support Python {minor}.",
        older = python.older
    ))
}

fn install_fix(manager: PackageManager) -> &'static str {
    match manager {
        PackageManager::PipRequirements => {
            "correct the requirement it names in requirements.txt (or a file it includes): a name or \
             version that does not exist on PyPI, or a package that does not support this Python version."
        }
        PackageManager::PipProject => {
            "correct the dependency it names in pyproject.toml (or setup.py/setup.cfg)."
        }
        PackageManager::Uv => {
            "if uv says the lockfile needs to be updated, run `uv lock` and commit uv.lock; otherwise \
             correct the dependency it names in pyproject.toml."
        }
        PackageManager::Poetry => {
            "if Poetry says pyproject.toml changed significantly since poetry.lock was generated, run \
             `poetry lock` and commit poetry.lock; otherwise correct the dependency it names."
        }
        PackageManager::Pipenv => {
            "if Pipenv says Pipfile.lock is out of date, run `pipenv lock` and commit Pipfile.lock; \
             otherwise correct the dependency it names in the Pipfile."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(error: &PythonBuildpackError) -> String {
        error_message(error).render()
    }

    #[test]
    fn pyproject_without_dependencies() {
        insta::assert_snapshot!(render(&PythonBuildpackError::PackageManager(
            ChoiceError::PyprojectWithoutDependencies
        )));
    }

    #[test]
    fn invalid_python_version_file() {
        insta::assert_snapshot!(render(&PythonBuildpackError::VersionFile(
            VersionFileError::Invalid {
                origin: Origin::line(".python-version", 2),
                text: "python3.13".into(),
            }
        )));
    }

    #[test]
    fn pip_install_failure() {
        insta::assert_snapshot!(render(&PythonBuildpackError::Command {
            step: Step::InstallDependencies(PackageManager::PipRequirements),
            error: CommandError {
                command: "pip install --requirement requirements.txt".into(),
                exit_code: Some(1),
                spawn_error: None,
                output_tail: "ERROR: Could not find a version that satisfies the requirement flaskk==9.9\n\
                              ERROR: No matching distribution found for flaskk==9.9"
                    .into(),
            },
        }));
    }

    #[test]
    fn misnamed_requirements() {
        insta::assert_snapshot!(render(&PythonBuildpackError::Misnamed {
            found: "requirement.txt".into(),
            expected: "requirements.txt",
        }));
    }

    fn httptools_failed() -> CommandError {
        CommandError {
            command: "pip install --requirement requirements.txt".into(),
            exit_code: Some(1),
            spawn_error: None,
            output_tail: "  ERROR: Failed building wheel for httptools\n\
                          Failed to build httptools\n\
                          error: failed-wheel-build-for-install"
                .into(),
        }
    }

    #[test]
    fn source_build_failure_on_the_default_python() {
        insta::assert_snapshot!(render(&PythonBuildpackError::SourceBuildFailed(Box::new(
            SourceBuildFailure {
                manager: PackageManager::PipRequirements,
                error: httptools_failed(),
                packages: vec!["httptools".into(), "uvloop".into()],
                python: UnpinnedChoice {
                    chosen: "3.14.1".into(),
                    requested: "the newest release".into(),
                    origin: None,
                    older: "3.13".into(),
                },
            }
        ))));
    }

    #[test]
    fn source_build_failure_on_a_python_from_a_range() {
        insta::assert_snapshot!(render(&PythonBuildpackError::SourceBuildFailed(Box::new(
            SourceBuildFailure {
                manager: PackageManager::PipRequirements,
                error: httptools_failed(),
                packages: vec!["httptools".into()],
                python: UnpinnedChoice {
                    chosen: "3.13.5".into(),
                    requested: "^3.11".into(),
                    origin: Some(
                        Origin::file("pyproject.toml")
                            .field("tool.poetry.dependencies.python")
                            .at_line(Some(9))
                    ),
                    older: "3.11".into(),
                },
            }
        ))));
    }
}
