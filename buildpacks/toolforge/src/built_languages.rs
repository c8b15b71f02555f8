//! The languages this build built, checked against the app: an app in a language the builder
//! does not build fails here, with the file that makes it one, instead of becoming an image
//! whose processes cannot start (the Procfile-only group would otherwise take it).

use libtoolforge::languages::{Registry, Stated};
use std::path::Path;

/// A language of Toolforge's previous builder (Heroku's) that this one may have no buildpack for,
/// by the files that mark it at the app's root. A language is skipped as soon as a buildpack of
/// the builder declares its name, so this list needs no change when one lands.
struct Unbuilt {
    name: &'static str,
    display_name: &'static str,
    files: &'static [&'static str],
    /// File name endings, for project files named after the project (`*.csproj`).
    extensions: &'static [&'static str],
}

const UNBUILT: [Unbuilt; 9] = [
    Unbuilt {
        name: "go",
        display_name: "Go",
        files: &["go.mod"],
        extensions: &[],
    },
    Unbuilt {
        name: "java",
        display_name: "Java",
        files: &["pom.xml", "mvnw", "build.gradle", "build.gradle.kts", "gradlew"],
        extensions: &[],
    },
    Unbuilt {
        name: "ruby",
        display_name: "Ruby",
        files: &["Gemfile", "Gemfile.lock"],
        extensions: &[],
    },
    Unbuilt {
        name: "dotnet",
        display_name: ".NET",
        files: &[],
        extensions: &[".csproj", ".fsproj", ".vbproj"],
    },
    Unbuilt {
        name: "rust",
        display_name: "Rust",
        files: &["Cargo.toml"],
        extensions: &[],
    },
    Unbuilt {
        name: "elixir",
        display_name: "Elixir",
        files: &["mix.exs"],
        extensions: &[],
    },
    Unbuilt {
        name: "clojure",
        display_name: "Clojure",
        files: &["project.clj"],
        extensions: &[],
    },
    Unbuilt {
        name: "scala",
        display_name: "Scala",
        files: &["build.sbt"],
        extensions: &[],
    },
    Unbuilt {
        name: "deno",
        display_name: "Deno",
        files: &["deno.json", "deno.jsonc"],
        extensions: &[],
    },
];

/// A file that marks the app as one of a language the builder does not build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnbuiltFile {
    pub(crate) file: String,
    /// `Go`.
    pub(crate) language: &'static str,
}

/// Why the languages built do not fit the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LanguagesError {
    /// No language was built, and the app has files of languages the builder does not build.
    Unbuilt {
        found: Vec<UnbuiltFile>,
        /// The builder's languages, by display name: `Node.js, PHP, Python`.
        builder_languages: String,
    },
    /// `[org.toolforge.languages]` names a language no buildpack of the builder declares.
    Unknown {
        name: String,
        line: Option<usize>,
        known: String,
    },
    /// `[org.toolforge.languages]` states a language (`go = true`) the builder has no buildpack for.
    StatedUnbuilt {
        display_name: &'static str,
        name: String,
        line: Option<usize>,
        builder_languages: String,
    },
    /// `[org.toolforge.languages]` states a language the builder has but did not build with the
    /// others: no order group combines them.
    NotCombined {
        display_name: String,
        line: Option<usize>,
        built: String,
    },
}

/// What the check found when the build may go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checked {
    /// The languages built, by display name.
    pub(crate) built: Vec<String>,
    /// Files of languages the builder does not build, which `allow-unbuilt-languages` lets be.
    pub(crate) allowed_unbuilt: Vec<UnbuiltFile>,
}

/// Checks the languages `built` (from the build plan) against the app's stated languages, or
/// its files when it states none.
pub(crate) fn check(
    app_dir: &Path,
    registry: &Registry,
    built: &[String],
    stated: Option<&Stated>,
    allow_unbuilt: bool,
) -> Result<Checked, LanguagesError> {
    let display = |name: &str| {
        registry.get(name).map_or_else(
            || name.to_string(),
            |language| language.display_name().to_string(),
        )
    };
    let built_names: Vec<String> = built.iter().map(|name| display(name)).collect();
    let builder_languages = registry
        .iter()
        .map(|language| language.display_name().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(stated) = stated {
        for language in &stated.languages {
            let unbuilt = unbuilt_languages(registry).find(|unbuilt| unbuilt.name == language.name);
            if let Some(unbuilt) = unbuilt {
                if language.used {
                    return Err(LanguagesError::StatedUnbuilt {
                        display_name: unbuilt.display_name,
                        name: language.name.clone(),
                        line: language.line,
                        builder_languages,
                    });
                }
            } else if registry.get(&language.name).is_none() && !built.contains(&language.name) {
                // A language this build built is known even when the registry cannot be read (the
                // buildpacks run outside a builder, without /cnb/buildpacks).
                return Err(LanguagesError::Unknown {
                    name: language.name.clone(),
                    line: language.line,
                    known: registry
                        .iter()
                        .map(|known| known.name.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            } else if language.used && !built.contains(&language.name) {
                return Err(LanguagesError::NotCombined {
                    display_name: display(&language.name),
                    line: language.line,
                    built: built_names.join(", "),
                });
            }
        }
    }
    // A stated table decides the languages; only an app that states none is judged by its files.
    let found = if stated.is_none() && built.is_empty() {
        unbuilt_files(app_dir, registry)
    } else {
        Vec::new()
    };
    if found.is_empty() || allow_unbuilt {
        Ok(Checked {
            built: built_names,
            allowed_unbuilt: found,
        })
    } else {
        Err(LanguagesError::Unbuilt {
            found,
            builder_languages,
        })
    }
}

fn unbuilt_languages(registry: &Registry) -> impl Iterator<Item = &'static Unbuilt> + '_ {
    UNBUILT
        .iter()
        .filter(move |unbuilt| registry.get(unbuilt.name).is_none())
}

/// The app's files of languages the builder has no buildpack for, in [`UNBUILT`]'s order.
fn unbuilt_files(app_dir: &Path, registry: &Registry) -> Vec<UnbuiltFile> {
    let mut entries: Vec<String> = std::fs::read_dir(app_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    entries.sort();
    unbuilt_languages(registry)
        .flat_map(|unbuilt| {
            entries
                .iter()
                .filter(|entry| {
                    unbuilt.files.contains(&entry.as_str())
                        || unbuilt
                            .extensions
                            .iter()
                            .any(|extension| entry.len() > extension.len() && entry.ends_with(extension))
                })
                .map(|entry| UnbuiltFile {
                    file: entry.clone(),
                    language: unbuilt.display_name,
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use libtoolforge::languages::{Language, StatedLanguage};

    fn app(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            std::fs::write(dir.path().join(file), "").unwrap();
        }
        dir
    }

    fn registry() -> Registry {
        Registry::new([
            Language::new("python", "Python", &["requirements.txt"]),
            Language::new("nodejs", "Node.js", &["package.json"]),
        ])
    }

    fn stated(languages: &[(&str, bool)]) -> Stated {
        Stated {
            languages: languages
                .iter()
                .enumerate()
                .map(|(index, (name, used))| StatedLanguage {
                    name: (*name).to_string(),
                    used: *used,
                    line: Some(index + 2),
                })
                .collect(),
        }
    }

    #[test]
    fn an_app_of_an_unbuilt_language_fails_unless_allowed() {
        let go = app(&["go.mod", "main.go", "Procfile", "Tool.csproj"]);
        let error = check(go.path(), &registry(), &[], None, false).unwrap_err();
        assert_eq!(
            error,
            LanguagesError::Unbuilt {
                found: vec![
                    UnbuiltFile {
                        file: "go.mod".into(),
                        language: "Go"
                    },
                    UnbuiltFile {
                        file: "Tool.csproj".into(),
                        language: ".NET"
                    },
                ],
                builder_languages: "Node.js, Python".into(),
            }
        );
        let allowed = check(go.path(), &registry(), &[], None, true).unwrap();
        assert_eq!(allowed.allowed_unbuilt.len(), 2);
        // Built as another language, the files are the app's business.
        let checked = check(go.path(), &registry(), &["python".into()], None, false).unwrap();
        assert_eq!(checked.built, ["Python"]);
        assert!(checked.allowed_unbuilt.is_empty());
        // Stating the languages decides too.
        assert!(
            check(
                go.path(),
                &registry(),
                &[],
                Some(&stated(&[("go", false)])),
                false
            )
            .is_ok()
        );
        // A Procfile-only app is fine.
        assert!(check(app(&["Procfile", "run.sh"]).path(), &registry(), &[], None, false).is_ok());
    }

    #[test]
    fn a_language_with_a_buildpack_is_no_longer_unbuilt() {
        let mut languages: Vec<Language> = registry().iter().cloned().collect();
        languages.push(Language::new("go", "Go", &["go.mod"]));
        let go = app(&["go.mod"]);
        assert!(check(go.path(), &Registry::new(languages), &[], None, false).is_ok());
    }

    #[test]
    fn stated_languages_must_be_known_and_built() {
        let dir = app(&[]);
        let check_stated = |languages: &[(&str, bool)], built: &[&str]| {
            let built: Vec<String> = built.iter().map(ToString::to_string).collect();
            check(dir.path(), &registry(), &built, Some(&stated(languages)), false)
        };
        assert!(check_stated(&[("python", true), ("nodejs", false)], &["python"]).is_ok());
        let no_registry = check(
            dir.path(),
            &Registry::default(),
            &["python".to_string()],
            Some(&stated(&[("python", true)])),
            false,
        );
        assert!(no_registry.is_ok(), "{no_registry:?}");
        assert_eq!(
            check_stated(&[("python", true), ("nodjs", true)], &["python"]).unwrap_err(),
            LanguagesError::Unknown {
                name: "nodjs".into(),
                line: Some(3),
                known: "nodejs, python".into()
            }
        );
        assert!(matches!(
            check_stated(&[("go", true)], &[]).unwrap_err(),
            LanguagesError::StatedUnbuilt {
                display_name: "Go",
                line: Some(2),
                ..
            }
        ));
        assert_eq!(
            check_stated(&[("nodejs", true), ("python", true)], &["python"]).unwrap_err(),
            LanguagesError::NotCombined {
                display_name: "Node.js".into(),
                line: Some(2),
                built: "Python".into()
            }
        );
    }
}
