//! Everything that can stop this buildpack, and the one function that explains it.

use crate::composer::{
    COMPILE_SCRIPT, COMPOSER_JSON, COMPOSER_LOCK, ComposerError, ExtensionRequirement, PhpRequest,
    locked_package,
};
use libtoolforge::command::CommandError;
use libtoolforge::debian_layer::{ChosenBy, Described, PackagesError};
use libtoolforge::error::{ErrorMessage, IoError, Location};
use libtoolforge::toml_file::TomlError;
use libtoolforge::version_request::Origin;

#[derive(Debug)]
pub(crate) enum PhpBuildpackError {
    Config(TomlError),
    /// composer.json or composer.lock cannot be read, or says what cannot be (an invalid
    /// `require.php`).
    Composer(ComposerError),
    /// No PHP the stack has satisfies `require.php`.
    PhpVersion {
        /// Boxed: the largest variant otherwise.
        request: Box<PhpRequest>,
        provided: String,
    },
    /// `ext-<name>` (or an entry of `[org.toolforge.php] extensions`) that Debian does not have.
    UnknownExtension {
        name: String,
        /// `None`: project.toml's list. Boxed: the largest variant otherwise.
        requirement: Option<Box<ExtensionRequirement>>,
        known: Vec<&'static str>,
    },
    /// The stack's repositories have no PHP CLI package (a broken stack).
    NoPhpPackage,
    /// Resolving, downloading or unpacking PHP's packages ([`libtoolforge::debian_layer`]).
    Packages(PackagesError),
    /// An extension asked for is installed but PHP does not load it.
    ExtensionsNotLoaded {
        missing: Vec<String>,
        output: String,
    },
    /// composer.lock was written for another composer.json.
    LockOutOfDate {
        missing_from_lock: Vec<String>,
    },
    ComposerCommand {
        step: ComposerStep,
        error: CommandError,
    },
    /// `document-root` of `[org.toolforge.php]` names no directory.
    MissingDocumentRoot {
        document_root: String,
    },
    Io(IoError),
}

/// What a failed Composer run was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ComposerStep {
    ContentHash,
    Install,
    /// `composer compile`: composer.json's `compile` script, after the install.
    CompileScript,
}

impl From<PhpBuildpackError> for libcnb::Error<PhpBuildpackError> {
    fn from(error: PhpBuildpackError) -> Self {
        Self::BuildpackError(error)
    }
}

impl From<PackagesError> for PhpBuildpackError {
    fn from(error: PackagesError) -> Self {
        Self::Packages(error)
    }
}

/// The buildpack chooses the packages (from the extensions): a failure is the platform's.
const PACKAGES: Described = Described {
    name: "PHP's Debian packages",
    chosen_by: ChosenBy::Buildpack(
        "apt could not find a consistent set of packages for PHP, its extensions and the web servers.",
    ),
};

/// Who requires `"<key>": "<constraint>"`: composer.json, or a package in composer.lock.
fn described(key: &str, constraint: &str, origin: &Origin) -> String {
    match locked_package(origin) {
        None => format!("composer.json requires `\"{key}\": \"{constraint}\"`"),
        Some(package) => {
            format!("the package {package} (in composer.lock) requires `\"{key}\": \"{constraint}\"`")
        }
    }
}

fn described_extension(requirement: &ExtensionRequirement) -> String {
    let key = format!("ext-{}", requirement.name);
    described(&key, &requirement.constraint, &requirement.origin)
}

#[allow(clippy::too_many_lines)] // One arm per variant, each a message.
pub(crate) fn error_message(error: &PhpBuildpackError) -> ErrorMessage {
    match error {
        PhpBuildpackError::Config(error) => error.message().fix(
            "`[org.toolforge.php]` takes `extensions = [\"gd\", …]`, `web-server = \"apache\"` or \
             `\"nginx\"`, and `document-root = \"<directory>\"`.",
        ),

        PhpBuildpackError::Composer(error) => composer_message(error),

        PhpBuildpackError::PhpVersion { request, provided } => {
            let origin = request.origin.clone().unwrap_or_else(|| Origin::file(COMPOSER_JSON));
            let message = ErrorMessage::app(
                "PHP version not available",
                format!(
                    "{}, but this builder provides PHP {provided}: Debian 13 (trixie)'s PHP, the only \
                     one it installs, with Debian's security updates.",
                    described("php", &request.text, &origin)
                ),
            )
            .at(origin.location());
            match locked_package(&origin) {
                None => message.fix(format!(
                    "allow PHP {provided} in composer.json (for example `\"php\": \">=8.2\"`), test the \
                     tool with it, then run `composer update --lock` and commit both files."
                )),
                Some(package) => message.fix(format!(
                    "update {package} to a release that supports PHP {provided} (`composer update \
                     {package}` with PHP {provided}) and commit composer.lock."
                )),
            }
        }

        PhpBuildpackError::UnknownExtension { name, requirement, known } => {
            let detail = format!(
                "{}, and Debian 13 (trixie) packages no PHP extension `{name}` for PHP 8.4.",
                requirement.as_deref().map_or_else(
                    || format!("project.toml's `[org.toolforge.php] extensions` lists `{name}`"),
                    described_extension
                )
            );
            let message = ErrorMessage::app("Unknown PHP extension", detail)
                .excerpt(format!("The extensions available are:\n{}", wrap(known, 90)))
                .fix("use the extension's name as `php -m` prints it (for example `ext-pdo_mysql`), or \
                      remove the requirement.");
            match requirement {
                Some(requirement) => message.at(requirement.origin.location()),
                None => message.at(Location::file("project.toml")),
            }
        }

        PhpBuildpackError::NoPhpPackage => ErrorMessage::platform(
            "No PHP in the stack's repositories",
            "apt did not resolve php8.4-cli: the stack's Debian sources do not have PHP 8.4.",
        ),

        PhpBuildpackError::Packages(error) => error.message(&PACKAGES),

        PhpBuildpackError::ExtensionsNotLoaded { missing, output } => ErrorMessage::platform(
            "PHP extensions do not load",
            format!(
                "The packages of {} are installed, but `php -m` does not list {}: a bug of this buildpack.",
                missing.join(", "),
                if missing.len() == 1 { "it" } else { "them" }
            ),
        )
        .excerpt(output.clone()),

        PhpBuildpackError::LockOutOfDate { missing_from_lock } => ErrorMessage::app(
            "composer.lock is out of date",
            if missing_from_lock.is_empty() {
                "composer.lock was written for another version of composer.json (its `content-hash` \
                 differs): the packages it pins may not be what composer.json asks for."
                    .to_string()
            } else {
                format!(
                    "composer.json requires {}, which composer.lock does not have: the lock was written \
                     before composer.json last changed.",
                    missing_from_lock.join(", ")
                )
            },
        )
        .at(Location::file(COMPOSER_LOCK))
        .fix("run `composer update --lock` (or `composer update <package>`) and commit composer.lock with composer.json."),

        PhpBuildpackError::ComposerCommand { step, error } => match step {
            ComposerStep::ContentHash => error.message(
                "Cannot check composer.lock",
                "Composer could not compute composer.json's content hash.",
                false,
            ),
            ComposerStep::Install => error
                .message(
                    "Installing dependencies with Composer failed",
                    "`composer install` could not install the app's dependencies; its own message is at \
                     the end of its output, quoted here.",
                    true,
                )
                .at(Location::file(COMPOSER_JSON))
                .fix("run `composer install --no-dev` from a clean checkout and fix what it reports (a \
                      package, a repository, a script in composer.json)."),
            ComposerStep::CompileScript => error
                .message(
                    format!("The `{COMPILE_SCRIPT}` script failed"),
                    &format!(
                        "composer.json's `{COMPILE_SCRIPT}` script (run after the dependencies are installed, \
                         as on Heroku) exits with an error; its output is above and its end is quoted here."
                    ),
                    true,
                )
                .at(Location::file(COMPOSER_JSON))
                .fix(format!(
                    "run `composer install --no-dev` then `composer {COMPILE_SCRIPT} --no-dev` from a clean \
                     checkout and fix what it reports."
                )),
        },

        PhpBuildpackError::MissingDocumentRoot { document_root } => ErrorMessage::app(
            "Document root not found",
            format!(
                "project.toml sets `document-root = \"{document_root}\"` under `[org.toolforge.php]`, \
                 and the app has no directory {document_root}."
            ),
        )
        .at(Location::file("project.toml"))
        .fix("name a directory of the app relative to its root (for example `public_html`), or remove \
              the setting to serve public_html/, else public/, else the app's root."),

        PhpBuildpackError::Io(error) => error.message(),
    }
}

fn composer_message(error: &ComposerError) -> ErrorMessage {
    match error {
        ComposerError::Read { file, error } => ErrorMessage::app(
            format!("Cannot read {file}"),
            format!("{file} exists but cannot be read: {error}."),
        )
        .at(Location::file(file))
        .fix(format!("commit {file} as a readable UTF-8 file.")),
        ComposerError::Malformed {
            file,
            line,
            column,
            message,
        } => ErrorMessage::app(
            format!("Invalid {file}"),
            format!(
                "{file} is not valid: {message}{}.",
                column.map(|column| format!(" (column {column})")).unwrap_or_default()
            ),
        )
        .at(line.map_or_else(|| Location::file(file), |line| Location::line(file, line)))
        .fix(if *file == COMPOSER_LOCK {
            "regenerate composer.lock with `composer update --lock` and commit it.".to_string()
        } else {
            "correct composer.json (`composer validate` shows the problem) and commit it.".to_string()
        }),
        ComposerError::LockWithoutJson => ErrorMessage::app(
            "composer.lock without composer.json",
            "The app has a composer.lock but no composer.json, which Composer needs to install from the lock.",
        )
        .at(Location::file(COMPOSER_LOCK))
        .fix("commit the composer.json the lock was made from, or delete composer.lock."),
        ComposerError::InvalidPhpConstraint { origin, text } => ErrorMessage::app(
            "Invalid PHP version constraint",
            format!("{}, which is not a Composer version constraint.", described("php", text, origin)),
        )
        .at(origin.location())
        .fix("write a constraint such as `^8.2`, `>=8.1` or `8.4.*` (https://getcomposer.org/doc/articles/versions.md)."),
    }
}

/// `names` as comma-separated lines of at most `width` characters.
fn wrap(names: &[&str], width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for name in names {
        if !line.is_empty() && line.len() + name.len() + 2 > width {
            line.push(',');
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push_str(", ");
        }
        line.push_str(name);
    }
    lines.push(line);
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constraint::Constraint;
    use libtoolforge::version_request::VersionRequest;

    fn render(error: &PhpBuildpackError) -> String {
        error_message(error).render()
    }

    fn app(line: usize, key: &str) -> Origin {
        Origin::line(COMPOSER_JSON, line).field(format!("require.{key}"))
    }

    fn unavailable(constraint: &str, origin: Origin) -> PhpBuildpackError {
        PhpBuildpackError::PhpVersion {
            request: Box::new(VersionRequest::new(
                constraint,
                Some(origin),
                Constraint::parse(constraint).unwrap(),
            )),
            provided: "8.4.28".into(),
        }
    }

    #[test]
    fn php_version() {
        insta::assert_snapshot!(render(&unavailable("^7.4", app(3, "php"))));
    }

    #[test]
    fn php_version_of_a_locked_package() {
        let origin = Origin::line(COMPOSER_LOCK, 12).field("packages[old/library].require.php");
        insta::assert_snapshot!(render(&unavailable("<8.0", origin)));
    }

    #[test]
    fn invalid_php_constraint() {
        insta::assert_snapshot!(render(&PhpBuildpackError::Composer(
            ComposerError::InvalidPhpConstraint {
                origin: app(3, "php"),
                text: "latest".into(),
            }
        )));
    }

    #[test]
    fn unknown_extension() {
        insta::assert_snapshot!(render(&PhpBuildpackError::UnknownExtension {
            name: "mysql".into(),
            requirement: Some(Box::new(ExtensionRequirement {
                name: "mysql".into(),
                constraint: "*".into(),
                origin: app(5, "ext-mysql"),
            })),
            known: crate::extensions::known(),
        }));
    }

    #[test]
    fn malformed_composer_json() {
        insta::assert_snapshot!(render(&PhpBuildpackError::Composer(ComposerError::Malformed {
            file: COMPOSER_JSON,
            line: Some(4),
            column: Some(5),
            message: "trailing comma at line 4 column 5".into(),
        })));
    }

    #[test]
    fn compile_script_failed() {
        insta::assert_snapshot!(render(&PhpBuildpackError::ComposerCommand {
            step: ComposerStep::CompileScript,
            error: CommandError {
                command: "composer compile --no-dev --no-interaction".into(),
                exit_code: Some(1),
                spawn_error: None,
                output_tail: "> php bin/console cache:warmup\n\nIn FileLoader.php line 180:\n  \
                              The file \"config/services.yaml\" does not exist.\n\n\
                              Script php bin/console cache:warmup handling the compile event returned \
                              with error code 1"
                    .into(),
            },
        }));
    }

    #[test]
    fn lock_out_of_date() {
        insta::assert_snapshot!(render(&PhpBuildpackError::LockOutOfDate {
            missing_from_lock: vec!["toolforge-example/greeter".into()],
        }));
    }
}
