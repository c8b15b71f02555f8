//! Which languages the builder builds, and which an app is written in.
//!
//! The registry is open: a language buildpack declares its language in its own `buildpack.toml`,
//! and nothing else lists languages by name:
//!
//! ```toml
//! [metadata.toolforge.language]
//! name = "python"                            # the name [org.toolforge.languages] uses
//! display-name = "Python"                    # for messages (default: the name)
//! files = ["requirements.txt", "uv.lock"]    # any of these at the app's root makes it such an app
//! ```
//!
//! The buildpack reads its declaration from its descriptor ([`LanguageMetadata`] is its
//! `Buildpack::Metadata`), detects with [`detects`] and answers with [`detect_result`], which
//! puts the language in the build plan. Other buildpacks find every declaration in the builder
//! with [`Registry::of_builder`]: the builder keeps each buildpack's `buildpack.toml` at
//! `/cnb/buildpacks/<id>/<version>/`, beside their own.
//!
//! A tool can state its languages instead, which overrides detection for every language
//! buildpack:
//!
//! ```toml
//! [org.toolforge.languages]
//! python = true
//! nodejs = true
//! ```
//!
//! A language not listed (or `false`) is not used, whatever files the app has.

use crate::project_toml::ProjectToml;
use crate::toml_file::TomlError;
use libcnb::Buildpack;
use libcnb::build::BuildContext;
use libcnb::data::build_plan::{BuildPlanBuilder, Require};
use libcnb::data::buildpack_plan::BuildpackPlan;
use libcnb::detect::{DetectResult, DetectResultBuilder};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const TABLE: [&str; 3] = ["org", "toolforge", "languages"];

/// The build plan entry by which language buildpacks tell the buildpack that checks the build
/// (toolforge/toolforge, last in every group) which languages this build builds.
pub const PLAN_ENTRY: &str = "toolforge/language";

/// A language, as its buildpack declares it in `[metadata.toolforge.language]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Language {
    /// The name `[org.toolforge.languages]` uses: `python`.
    pub name: String,
    /// For messages: `Node.js`. The name when not given.
    #[serde(default)]
    display_name: Option<String>,
    /// Files at the app's root (or paths below it) that make an app one of this language.
    pub files: Vec<String>,
}

impl Language {
    #[must_use]
    pub fn new(name: &str, display_name: &str, files: &[&str]) -> Self {
        Self {
            name: name.to_string(),
            display_name: Some(display_name.to_string()),
            files: files.iter().map(ToString::to_string).collect(),
        }
    }

    #[must_use]
    pub fn display_name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.name)
    }

    /// The language's files the app has.
    #[must_use]
    pub fn files_in(&self, app_dir: &Path) -> Vec<&str> {
        self.files
            .iter()
            .map(String::as_str)
            .filter(|file| app_dir.join(file).is_file())
            .collect()
    }

    /// Whether the app has any of the language's files.
    #[must_use]
    pub fn has_files(&self, app_dir: &Path) -> bool {
        !self.files_in(app_dir).is_empty()
    }
}

/// `[metadata]` of a language buildpack's `buildpack.toml`: its `Buildpack::Metadata`.
#[derive(Debug, Clone, Deserialize)]
pub struct LanguageMetadata {
    toolforge: ToolforgeMetadata,
}

#[derive(Debug, Clone, Deserialize)]
struct ToolforgeMetadata {
    language: Language,
}

/// The language a `buildpack.toml`'s text declares, if any: for a buildpack's unit tests, which
/// detect with their own descriptor (`include_str!("../buildpack.toml")`).
#[must_use]
pub fn declared_in(buildpack_toml: &str) -> Option<Language> {
    toml::from_str::<DescriptorWithLanguage>(buildpack_toml)
        .ok()?
        .metadata
        .map(|metadata| metadata.toolforge.language)
}

impl LanguageMetadata {
    /// The language the buildpack builds.
    #[must_use]
    pub fn language(&self) -> &Language {
        &self.toolforge.language
    }
}

/// Whether a language buildpack takes part: when the app states its languages, whether `own` is
/// one of them; otherwise what `by_files` says (the buildpack's own rule, usually
/// [`Language::has_files`]).
#[must_use]
pub fn detects(app_dir: &Path, own: &Language, by_files: impl FnOnce() -> bool) -> bool {
    match stated_for_detection(app_dir) {
        Some(stated) => stated.uses(&own.name),
        None => by_files(),
    }
}

/// A language buildpack's detect result: it passes with `own` in the build plan (provided and
/// required, so that any group may hold it), or fails.
///
/// # Errors
///
/// Never: the result is made without I/O.
pub fn detect_result<B: Buildpack + ?Sized>(
    own: &Language,
    detected: bool,
) -> libcnb::Result<DetectResult, B::Error> {
    if !detected {
        return DetectResultBuilder::fail().build();
    }
    let mut require = Require::new(PLAN_ENTRY);
    require
        .metadata
        .insert(PLAN_ENTRY_NAME.to_string(), own.name.clone().into());
    DetectResultBuilder::pass()
        .build_plan(
            BuildPlanBuilder::new()
                .provides(PLAN_ENTRY)
                .requires(require)
                .build(),
        )
        .build()
}

/// `build.toml`'s `[[unmet]]`: plan entries the lifecycle passes on to later buildpacks.
#[derive(Serialize)]
struct BuildToml {
    unmet: Vec<Unmet>,
}

#[derive(Serialize)]
struct Unmet {
    name: &'static str,
}

/// Passes the [`PLAN_ENTRY`] entries on to the buildpacks after this one: the lifecycle gives a
/// later buildpack only the entries an earlier one declares unmet in its `build.toml`, and
/// toolforge/toolforge, last, must receive every language's ([`built`]). Every language
/// buildpack calls it in its build.
///
/// # Errors
///
/// When `build.toml` cannot be written.
pub fn pass_on_plan_entries<B: Buildpack + ?Sized>(
    context: &BuildContext<B>,
) -> libcnb::Result<(), B::Error> {
    libcnb::write_toml_file(
        &BuildToml {
            unmet: vec![Unmet { name: PLAN_ENTRY }],
        },
        context.layers_dir.join("build.toml"),
    )
    .map_err(libcnb::Error::CannotWriteBuildPlan)
}

/// The detect result of the buildpack that checks every build (it passes always): it provides
/// and requires [`PLAN_ENTRY`] too, so that its build receives every language buildpack's entry
/// ([`built`]).
///
/// # Errors
///
/// Never: the result is made without I/O.
pub fn observing_detect_result<B: Buildpack + ?Sized>() -> libcnb::Result<DetectResult, B::Error> {
    DetectResultBuilder::pass()
        .build_plan(
            BuildPlanBuilder::new()
                .provides(PLAN_ENTRY)
                .requires(Require::new(PLAN_ENTRY))
                .build(),
        )
        .build()
}

/// The key of the language's name in a [`PLAN_ENTRY`]'s metadata.
const PLAN_ENTRY_NAME: &str = "name";

#[derive(Debug, Default, Deserialize)]
struct PlanEntry {
    name: Option<String>,
}

/// The languages this build builds, from the buildpack plan of a buildpack that detected with
/// [`observing_detect_result`].
#[must_use]
pub fn built(plan: &BuildpackPlan) -> Vec<String> {
    let mut names: Vec<String> = plan
        .entries
        .iter()
        .filter(|entry| entry.name == PLAN_ENTRY)
        .filter_map(|entry| entry.metadata::<PlanEntry>().ok()?.name)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The languages the builder's buildpacks declare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    /// By name.
    languages: BTreeMap<String, Language>,
}

/// Just enough of a `buildpack.toml` to find a language declaration in it.
#[derive(Deserialize)]
struct DescriptorWithLanguage {
    metadata: Option<LanguageMetadata>,
}

impl Registry {
    /// Every language declared by the buildpacks beside `own_buildpack_dir` (a buildpack's
    /// `CNB_BUILDPACK_DIR`, `/cnb/buildpacks/<id>/<version>`): the builder's.
    #[must_use]
    pub fn of_builder(own_buildpack_dir: &Path) -> Self {
        own_buildpack_dir
            .parent()
            .and_then(Path::parent)
            .map(Self::read)
            .unwrap_or_default()
    }

    /// Every language declared in `buildpacks_dir/<id>/<version>/buildpack.toml`; a descriptor
    /// that cannot be read or declares no language is skipped.
    #[must_use]
    pub fn read(buildpacks_dir: &Path) -> Self {
        let descriptors = std::fs::read_dir(buildpacks_dir)
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|buildpack| {
                std::fs::read_dir(buildpack.path())
                    .into_iter()
                    .flatten()
                    .flatten()
            })
            .filter_map(|version| std::fs::read_to_string(version.path().join("buildpack.toml")).ok());
        Self::new(descriptors.filter_map(|text| declared_in(&text)))
    }

    #[must_use]
    pub fn new(languages: impl IntoIterator<Item = Language>) -> Self {
        Self {
            languages: languages
                .into_iter()
                .map(|language| (language.name.clone(), language))
                .collect(),
        }
    }

    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Language> {
        self.languages.get(name)
    }

    /// Every language, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Language> {
        self.languages.values()
    }

    /// `nodejs, php, python`.
    #[must_use]
    pub fn names(&self) -> String {
        self.languages.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// One line of `[org.toolforge.languages]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatedLanguage {
    pub name: String,
    pub used: bool,
    /// Where it is in project.toml.
    pub line: Option<usize>,
}

/// `[org.toolforge.languages]`: the languages the tool states, overriding detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stated {
    pub languages: Vec<StatedLanguage>,
}

impl Stated {
    /// Whether the app states `name = true`.
    #[must_use]
    pub fn uses(&self, name: &str) -> bool {
        self.languages
            .iter()
            .any(|language| language.used && language.name == name)
    }
}

/// The languages the app states, if it has the table.
///
/// # Errors
///
/// When project.toml is not TOML or the table has another shape (a value that is not a boolean);
/// the error names the line.
pub fn stated(app_dir: &Path) -> Result<Option<Stated>, TomlError> {
    ProjectToml::read(app_dir)?
        .map(|project| stated_in(&project))
        .transpose()
        .map(Option::flatten)
}

/// The languages `project` states, if it has the table.
///
/// # Errors
///
/// As [`stated`].
pub fn stated_in(project: &ProjectToml) -> Result<Option<Stated>, TomlError> {
    let table = project.table::<BTreeMap<toml::Spanned<String>, bool>>(&TABLE)?;
    Ok(table.map(|table| Stated {
        languages: table
            .into_iter()
            .map(|(name, used)| StatedLanguage {
                line: project.line_at(name.span().start),
                name: name.into_inner(),
                used,
            })
            .collect(),
    }))
}

/// For detection, which cannot explain anything: the table when it is valid, else `None` (the
/// files decide, and the build of `toolforge/toolforge`, in every group, reports the error).
#[must_use]
pub fn stated_for_detection(app_dir: &Path) -> Option<Stated> {
    stated(app_dir).ok().flatten()
}

/// Whether another language than `own` is the app's (stated, or by the files `registry`'s other
/// languages declare): for a language that only serves another one's build (a front end).
#[must_use]
pub fn another_language_detected(app_dir: &Path, own: &Language, registry: &Registry) -> bool {
    match stated_for_detection(app_dir) {
        Some(stated) => stated
            .languages
            .iter()
            .any(|language| language.used && language.name != own.name),
        None => registry
            .iter()
            .any(|language| language.name != own.name && language.has_files(app_dir)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn registry() -> Registry {
        Registry::new([
            Language::new("python", "Python", &["requirements.txt"]),
            Language::new("php", "PHP", &["composer.json", "public_html/index.php"]),
            Language::new("nodejs", "Node.js", &["package.json"]),
        ])
    }

    #[test]
    fn stated_languages_with_their_lines() {
        let dir = app(&[(
            "project.toml",
            "[_]\nschema-version = \"0.2\"\n\n[org.toolforge.languages]\npython = true\nnodejs = false\n",
        )]);
        let stated = stated(dir.path()).unwrap().unwrap();
        assert_eq!(
            stated.languages,
            [
                StatedLanguage {
                    name: "nodejs".into(),
                    used: false,
                    line: Some(6)
                },
                StatedLanguage {
                    name: "python".into(),
                    used: true,
                    line: Some(5)
                },
            ]
        );
        assert!(stated.uses("python") && !stated.uses("nodejs") && !stated.uses("php"));
        assert_eq!(
            super::stated(app(&[("project.toml", "[org.toolforge.apt]\npackages = []\n")]).path()).unwrap(),
            None
        );
        let not_a_boolean = app(&[("project.toml", "[org.toolforge.languages]\npython = \"yes\"\n")]);
        let error = super::stated(not_a_boolean.path()).unwrap_err();
        assert_eq!(error.line, Some(2));
        assert_eq!(stated_for_detection(not_a_boolean.path()), None);
    }

    #[test]
    fn detection_by_files_unless_stated() {
        let python = Language::new("python", "Python", &["requirements.txt"]);
        let plain = app(&[("requirements.txt", "")]);
        assert!(detects(plain.path(), &python, || python.has_files(plain.path())));
        let stated_otherwise = app(&[
            ("requirements.txt", ""),
            ("project.toml", "[org.toolforge.languages]\nnodejs = true\n"),
        ]);
        assert!(!detects(stated_otherwise.path(), &python, || true));
        let nodejs = registry().get("nodejs").unwrap().clone();
        assert!(another_language_detected(
            stated_otherwise.path(),
            &python,
            &registry()
        ));
        assert!(!another_language_detected(
            stated_otherwise.path(),
            &nodejs,
            &registry()
        ));
        let php = app(&[("package.json", "{}"), ("public_html/index.php", "")]);
        assert!(another_language_detected(php.path(), &nodejs, &registry()));
        let node_only = app(&[("package.json", "{}")]);
        assert!(!another_language_detected(node_only.path(), &nodejs, &registry()));
    }

    #[test]
    fn registry_reads_the_builders_buildpacks() {
        let buildpacks = tempfile::tempdir().unwrap();
        let write = |id: &str, text: &str| {
            let dir = buildpacks.path().join(id).join("0.1.0");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("buildpack.toml"), text).unwrap();
        };
        write(
            "toolforge_python",
            "api = \"0.10\"\n[buildpack]\nid = \"toolforge/python\"\nversion = \"0.1.0\"\n\n\
             [metadata.toolforge.language]\nname = \"python\"\ndisplay-name = \"Python\"\nfiles = [\"requirements.txt\"]\n",
        );
        write(
            "toolforge_procfile",
            "api = \"0.10\"\n[buildpack]\nid = \"toolforge/procfile\"\nversion = \"0.1.0\"\n",
        );
        write("broken", "not toml [");
        let registry = Registry::of_builder(&buildpacks.path().join("toolforge_procfile/0.1.0"));
        assert_eq!(registry.names(), "python");
        assert_eq!(registry.get("python").unwrap().display_name(), "Python");
        assert_eq!(Registry::read(Path::new("/nonexistent")), Registry::default());
    }

    #[test]
    fn build_toml_passes_the_entries_on() {
        let text = toml::to_string(&BuildToml {
            unmet: vec![Unmet { name: PLAN_ENTRY }],
        })
        .unwrap();
        assert_eq!(text, "[[unmet]]\nname = \"toolforge/language\"\n");
    }

    #[test]
    fn descriptor_metadata() {
        let metadata: LanguageMetadata =
            toml::from_str("[toolforge.language]\nname = \"go\"\nfiles = [\"go.mod\"]\n").unwrap();
        assert_eq!(metadata.language().display_name(), "go");
        assert_eq!(metadata.language().files, ["go.mod"]);
    }
}
