//! Everything that can stop this buildpack, and the one function that explains it.

use crate::built_languages::LanguagesError;
use crate::config::Table;
use crate::steps::StepsError;
use libtoolforge::build_step::StepError;
use libtoolforge::error::{ErrorMessage, Location};
use libtoolforge::project_toml;
use libtoolforge::toml_file::TomlError;
use std::path::PathBuf;

#[derive(Debug)]
pub(crate) enum ToolforgeBuildpackError {
    /// project.toml or one of the tables this buildpack reads is not valid. For
    /// `[org.toolforge.languages]`, detection ignored the error, so it is reported here, in the one
    /// buildpack of every group.
    Config(Table, TomlError),
    /// The languages built do not fit the app.
    Languages(LanguagesError),
    /// The stack's build image lacks libnss-wrapper, which the layer copies.
    NssWrapperMissing(PathBuf),
    WriteLayer(std::io::Error),
    /// A path a buildpack declared build-time only could not be removed from the app.
    RemoveBuildOnly(std::io::Error),
    /// `[[org.toolforge.build.steps]]` as written.
    Steps(StepsError),
    /// A build step failed.
    Step(StepError),
}

impl From<StepError> for ToolforgeBuildpackError {
    fn from(error: StepError) -> Self {
        Self::Step(error)
    }
}

impl From<ToolforgeBuildpackError> for libcnb::Error<ToolforgeBuildpackError> {
    fn from(error: ToolforgeBuildpackError) -> Self {
        Self::BuildpackError(error)
    }
}

pub(crate) fn error_message(error: &ToolforgeBuildpackError) -> ErrorMessage {
    match error {
        ToolforgeBuildpackError::Config(table, error) => error.message().fix(match table {
            Table::Env => "`[org.toolforge.env]` takes one setting, `keep-home = true` or `false`.",
            Table::Build => {
                "`[org.toolforge.build]` takes `allow-unbuilt-languages` and `start-check`, each \
                 `true` or `false`, `image-size-budget = \"1.5 GiB\"` (a size, a whole number of \
                 bytes, or \"none\"), and `[[org.toolforge.build.steps]]` tables with `name`, `run`, \
                 `after`, `inputs`, `env`, `outputs` and `launch`."
            }
            Table::Languages => {
                "`[org.toolforge.languages]` lists languages as `python = true`, `nodejs = true` or \
                 `php = true`; remove the table to let the app's files decide."
            }
        }),

        ToolforgeBuildpackError::Languages(error) => languages_message(error),

        ToolforgeBuildpackError::NssWrapperMissing(path) => ErrorMessage::platform(
            "libnss-wrapper is missing from the build image",
            format!(
                "The Toolforge runtime environment serves the tool's account with libnss-wrapper, \
                 copied from the build image's Debian package, but {} does not exist.",
                path.display()
            ),
        )
        .fix("build with the Toolforge builder, whose build image has the Debian package libnss-wrapper."),

        ToolforgeBuildpackError::WriteLayer(error) => ErrorMessage::platform(
            "Cannot write the runtime environment layer",
            format!("Writing the exec.d program and its files failed: {error}."),
        ),

        ToolforgeBuildpackError::RemoveBuildOnly(error) => ErrorMessage::platform(
            "Cannot leave build-time-only files out of the image",
            format!(
                "A buildpack declared files of the app build-time only (in {}), and removing them \
                 from the app directory failed: {error}.",
                libtoolforge::build_only::BUILD_ONLY_APP_PATHS
            ),
        ),

        ToolforgeBuildpackError::Steps(error) => steps_message(error),
        ToolforgeBuildpackError::Step(error) => error.message(),
    }
}

fn steps_message(error: &StepsError) -> ErrorMessage {
    let at = |line: &Option<usize>| match line {
        Some(line) => Location::line(project_toml::FILE, *line),
        None => Location::file(project_toml::FILE),
    };
    match error {
        StepsError::Duplicate { name, line } => ErrorMessage::app(
            "Two build steps with the same name",
            format!("More than one `[[org.toolforge.build.steps]]` is named `{name}`; the name keys the step's cache."),
        )
        .at(at(line))
        .fix("give each step its own name."),
        StepsError::NotBuilt {
            step,
            language,
            line,
            built,
        } => ErrorMessage::app(
            "A build step needs a language the build did not build",
            format!(
                "The build step `{step}` says `after = \"{language}\"`, but the build built {}.",
                if built.is_empty() {
                    "no language".to_string()
                } else {
                    built.join(", ")
                }
            ),
        )
        .at(at(line))
        .fix("name a language the app uses, or leave `after` out: steps run after every language."),
    }
}

fn at_line(line: Option<usize>) -> Location {
    line.map_or_else(
        || Location::file(project_toml::FILE),
        |line| Location::line(project_toml::FILE, line),
    )
}

fn languages_message(error: &LanguagesError) -> ErrorMessage {
    match error {
        LanguagesError::Unbuilt {
            found,
            builder_languages,
        } => {
            let mut languages: Vec<&str> = found.iter().map(|file| file.language).collect();
            languages.dedup();
            let languages = languages.join(" or ");
            let first = &found[0].file;
            let has = if let [only] = found.as_slice() {
                format!("{}, which makes it a {} app", only.file, only.language)
            } else {
                found
                    .iter()
                    .map(|file| format!("{} ({})", file.file, file.language))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            ErrorMessage::app(
                format!("{languages} apps are not built by this builder yet"),
                format!(
                    "This app has {has}, but this builder has no buildpack for {languages}: it builds \
                     {builder_languages} apps. Without one, nothing of the app would be built and its \
                     processes could not start."
                ),
            )
            .at(Location::file(first))
            .fix(format!(
                "if the app is written in a language this builder builds, state it in project.toml:\n\n\
                 [org.toolforge.languages]\npython = true\n\n\
                 If {first} is not needed in the image (a helper, a file for another tool), say so in \
                 project.toml and the image is built from the Procfile alone:\n\n\
                 [org.toolforge.build]\nallow-unbuilt-languages = true"
            ))
        }
        LanguagesError::Unknown { name, line, known } => ErrorMessage::app(
            "Unknown language in [org.toolforge.languages]",
            format!("`{name}` is not a language this builder builds. Its languages are: {known}."),
        )
        .at(at_line(*line))
        .fix(format!(
            "correct the name, or remove the `{name}` line: a language the table does not list is not used."
        )),
        LanguagesError::StatedUnbuilt {
            display_name,
            name,
            line,
            builder_languages,
        } => ErrorMessage::app(
            format!("{display_name} apps are not built by this builder yet"),
            format!(
                "project.toml states `{name} = true`, but this builder has no buildpack for \
                 {display_name}: it builds {builder_languages} apps."
            ),
        )
        .at(at_line(*line))
        .fix(format!(
            "state the language the app is written in instead, or remove the `{name}` line if its files \
             are not needed in the image."
        )),
        LanguagesError::NotCombined {
            display_name,
            line,
            built,
        } => ErrorMessage::app(
            format!("{display_name} was not built"),
            format!(
                "project.toml states {display_name} among the app's languages, but this build built {}: \
                 no group of this builder combines them.",
                if built.is_empty() { "none" } else { built.as_str() }
            ),
        )
        .at(at_line(*line))
        .fix(
            "state the one language the app runs in; Node.js can join a Python or PHP app to build its \
             front end (see the builder's README for the groups).",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rendered error of a project.toml with `text`.
    fn config_error(text: &str) -> String {
        let app = tempfile::tempdir().unwrap();
        std::fs::write(app.path().join("project.toml"), text).unwrap();
        let (table, error) = crate::config::read(app.path()).unwrap_err();
        error_message(&ToolforgeBuildpackError::Config(table, error)).render()
    }

    #[test]
    fn invalid_config() {
        insta::assert_snapshot!(config_error("[org.toolforge.env]\nkeep-home = \"yes\"\n"));
    }

    #[test]
    fn invalid_image_size_budget() {
        insta::assert_snapshot!(config_error(
            "[org.toolforge.build]\nimage-size-budget = \"1.5 gigabytes\"\n"
        ));
    }

    #[test]
    fn unbuilt_language() {
        insta::assert_snapshot!(
            error_message(&ToolforgeBuildpackError::Languages(LanguagesError::Unbuilt {
                found: vec![crate::built_languages::UnbuiltFile {
                    file: "Gemfile".into(),
                    language: "Ruby",
                }],
                builder_languages: "Go, Java, Node.js, PHP, Python".into(),
            }))
            .render()
        );
    }

    #[test]
    fn unknown_language() {
        insta::assert_snapshot!(
            error_message(&ToolforgeBuildpackError::Languages(LanguagesError::Unknown {
                name: "nodjs".into(),
                line: Some(3),
                known: "nodejs, php, python".into(),
            }))
            .render()
        );
    }

    #[test]
    fn build_only_files_not_removed() {
        insta::assert_snapshot!(
            error_message(&ToolforgeBuildpackError::RemoveBuildOnly(std::io::Error::from(
                std::io::ErrorKind::PermissionDenied
            )))
            .render()
        );
    }

    #[test]
    fn nss_wrapper_missing() {
        insta::assert_snapshot!(
            error_message(&ToolforgeBuildpackError::NssWrapperMissing(PathBuf::from(
                "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"
            )))
            .render()
        );
    }
}
