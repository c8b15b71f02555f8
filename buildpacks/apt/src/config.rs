//! Which Debian packages the app asks for. The first of these that exists decides:
//! project.toml's `[org.toolforge.apt]`, then `[com.heroku.buildpacks.deb-packages]`, then an
//! `Aptfile`. Only packages of the stack's own signed Debian repositories can be installed: custom
//! repositories and .deb URLs are refused, never silently dropped.

use crate::errors::AptBuildpackError;
use libtoolforge::debian::PackageSpec;
use libtoolforge::error::Location;
use libtoolforge::project_toml::{self, ProjectToml};
use libtoolforge::toml_file::read_text;
use serde::Deserialize;
use std::path::Path;

pub(crate) const APTFILE: &str = "Aptfile";
const TOOLFORGE_TABLE: [&str; 3] = ["org", "toolforge", "apt"];
const HEROKU_TABLE: [&str; 4] = ["com", "heroku", "buildpacks", "deb-packages"];

/// Where the package list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Toolforge,
    Heroku,
    Aptfile,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Toolforge => "project.toml [org.toolforge.apt]",
            Self::Heroku => "project.toml [com.heroku.buildpacks.deb-packages]",
            Self::Aptfile => "Aptfile",
        })
    }
}

/// One requested package and where it was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Requested {
    pub(crate) spec: PackageSpec,
    pub(crate) location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Config {
    pub(crate) source: Source,
    pub(crate) packages: Vec<Requested>,
    /// Other sources present, which the first one overrides.
    pub(crate) ignored: Vec<Source>,
}

impl Config {
    pub(crate) fn specs(&self) -> Vec<PackageSpec> {
        self.packages.iter().map(|package| package.spec.clone()).collect()
    }

    pub(crate) fn location_of(&self, name: &str) -> Option<Location> {
        self.packages
            .iter()
            .find(|package| package.spec.name == name)
            .map(|package| package.location.clone())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolforgeTable {
    #[serde(default)]
    packages: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct HerokuTable {
    #[serde(default)]
    install: Vec<Entry>,
    /// Custom repositories: refused (see the module's documentation).
    sources: Option<toml::Value>,
}

/// `"name"`, `"name=version"` or `{ name = "…", version = "…" }` (Heroku's tables may carry
/// `skip_dependencies` and `force`, which do not apply here: dependencies are resolved against
/// the run image, so nothing it lacks may be skipped).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Entry {
    Name(String),
    Table { name: String, version: Option<String> },
}

/// Whether the app asks for packages in any of the places this buildpack reads. A project.toml
/// that is not TOML passes, so that the build can say what is wrong with it.
pub(crate) fn detects(app_dir: &Path) -> bool {
    if app_dir.join(APTFILE).is_file() {
        return true;
    }
    match ProjectToml::read(app_dir) {
        Ok(Some(file)) => file.has_table(&TOOLFORGE_TABLE) || file.has_table(&HEROKU_TABLE),
        Ok(None) => false,
        Err(_) => std::fs::read_to_string(app_dir.join(project_toml::FILE))
            .is_ok_and(|text| text.contains("org.toolforge.apt") || text.contains("deb-packages")),
    }
}

/// Reads the package list; `Ok(None)` when the app has none.
pub(crate) fn read(app_dir: &Path) -> Result<Option<Config>, AptBuildpackError> {
    let project_text = read_text(app_dir, project_toml::FILE).map_err(AptBuildpackError::Toml)?;
    let aptfile = match std::fs::read_to_string(app_dir.join(APTFILE)) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(AptBuildpackError::Io {
                what: "read Aptfile".to_string(),
                error,
            });
        }
    };
    parse(project_text, aptfile.as_deref())
}

/// The package list of a project.toml's and an Aptfile's text, either of which may be absent.
pub(crate) fn parse(
    project_text: Option<String>,
    aptfile: Option<&str>,
) -> Result<Option<Config>, AptBuildpackError> {
    let project = project_text
        .clone()
        .map(ProjectToml::parse)
        .transpose()
        .map_err(AptBuildpackError::Toml)?;
    let project_text = project_text.unwrap_or_default();
    let toolforge = match &project {
        Some(file) => file
            .table::<ToolforgeTable>(&TOOLFORGE_TABLE)
            .map_err(AptBuildpackError::Toml)?,
        None => None,
    };
    let heroku = match &project {
        Some(file) => file
            .table::<HerokuTable>(&HEROKU_TABLE)
            .map_err(AptBuildpackError::Toml)?,
        None => None,
    };

    let mut present = Vec::new();
    if toolforge.is_some() {
        present.push(Source::Toolforge);
    }
    if heroku.is_some() {
        present.push(Source::Heroku);
    }
    if aptfile.is_some() {
        present.push(Source::Aptfile);
    }
    let Some(&source) = present.first() else {
        return Ok(None);
    };
    let ignored = present[1..].to_vec();
    let packages = match source {
        Source::Toolforge => entries(
            toolforge.map(|table| table.packages).unwrap_or_default(),
            &project_text,
        )?,
        Source::Heroku => {
            let table = heroku.unwrap_or(HerokuTable {
                install: Vec::new(),
                sources: None,
            });
            if table.sources.is_some() {
                return Err(AptBuildpackError::CustomRepository {
                    location: line_of(&project_text, &["sources"]),
                    text: "sources = [...]".to_string(),
                });
            }
            entries(table.install, &project_text)?
        }
        Source::Aptfile => aptfile_packages(aptfile.unwrap_or_default())?,
    };
    Ok(Some(Config {
        source,
        packages,
        ignored,
    }))
}

/// project.toml entries, checked; located by the first line that mentions them.
fn entries(entries: Vec<Entry>, text: &str) -> Result<Vec<Requested>, AptBuildpackError> {
    entries
        .into_iter()
        .map(|entry| {
            let (name, version) = match entry {
                Entry::Name(name) => (name, None),
                Entry::Table { name, version } => (name, version),
            };
            let written = match &version {
                Some(version) => format!("{name}={version}"),
                None => name.clone(),
            };
            // A TOML string in either quotes: basic (`"ffmpeg"`) or literal (`'ffmpeg'`).
            let location = line_of(text, &[&format!("\"{name}"), &format!("'{name}")]);
            check(&written, location)
        })
        .collect()
}

/// An `Aptfile`: a package per line (several, separated by spaces, are accepted), `#` comments
/// and blank lines.
fn aptfile_packages(text: &str) -> Result<Vec<Requested>, AptBuildpackError> {
    let mut packages = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let location = Location::line(APTFILE, index + 1);
        if line.starts_with(":repo:") {
            return Err(AptBuildpackError::CustomRepository {
                location,
                text: line.to_string(),
            });
        }
        for word in line.split_whitespace() {
            packages.push(check(word, location.clone())?);
        }
    }
    Ok(packages)
}

fn check(text: &str, location: Location) -> Result<Requested, AptBuildpackError> {
    let deb_file = Path::new(text)
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("deb"));
    if text.contains("://") || deb_file {
        return Err(AptBuildpackError::DebUrl {
            location,
            text: text.to_string(),
        });
    }
    match PackageSpec::parse(text) {
        Some(spec) => Ok(Requested { spec, location }),
        None => Err(AptBuildpackError::InvalidPackage {
            location,
            text: text.to_string(),
        }),
    }
}

/// The first line of project.toml with one of `needles`.
fn line_of(text: &str, needles: &[&str]) -> Location {
    match text
        .lines()
        .position(|line| needles.iter().any(|needle| line.contains(needle)))
    {
        Some(index) => Location::line(project_toml::FILE, index + 1),
        None => Location::file(project_toml::FILE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libtoolforge::error::Location;

    fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn names(config: &Config) -> Vec<String> {
        config.packages.iter().map(|p| p.spec.to_string()).collect()
    }

    #[test]
    fn project_toml_comes_first() {
        let dir = app(&[
            (
                "project.toml",
                "[_]\nschema-version = \"0.2\"\n\n[org.toolforge.apt]\npackages = [\n  \"ffmpeg\",\n  \
                 { name = \"graphviz\", version = \"2.42.4-3\" },\n  \"make=4.4.1-2\",\n]\n\n\
                 [com.heroku.buildpacks.deb-packages]\ninstall = [\"git\"]\n",
            ),
            ("Aptfile", "curl\n"),
        ]);
        assert!(detects(dir.path()));
        let config = read(dir.path()).unwrap().unwrap();
        assert_eq!(config.source, Source::Toolforge);
        assert_eq!(config.ignored, [Source::Heroku, Source::Aptfile]);
        assert_eq!(names(&config), ["ffmpeg", "graphviz=2.42.4-3", "make=4.4.1-2"]);
        assert_eq!(config.packages[1].location, Location::line("project.toml", 7));
    }

    #[test]
    fn heroku_table() {
        let dir = app(&[(
            "project.toml",
            "[com.heroku.buildpacks.deb-packages]\ninstall = [\"ffmpeg\", { name = \"graphviz\", skip_dependencies = true }]\n",
        )]);
        let config = read(dir.path()).unwrap().unwrap();
        assert_eq!(config.source, Source::Heroku);
        assert_eq!(names(&config), ["ffmpeg", "graphviz"]);
    }

    #[test]
    fn heroku_sources_are_refused() {
        let dir = app(&[(
            "project.toml",
            "[com.heroku.buildpacks.deb-packages]\ninstall = [\"x11\"]\n\n[[com.heroku.buildpacks.deb-packages.sources]]\nuris = [\"https://example.org\"]\n",
        )]);
        let error = read(dir.path()).unwrap_err();
        assert!(
            matches!(&error, AptBuildpackError::CustomRepository { location, .. } if location.line == Some(4)),
            "{error:?}"
        );
    }

    #[test]
    fn aptfile() {
        let dir = app(&[(
            "Aptfile",
            "# tools\nffmpeg\n\ngraphviz libgraphviz-dev # for pygraphviz\n",
        )]);
        assert!(detects(dir.path()));
        let config = read(dir.path()).unwrap().unwrap();
        assert_eq!(config.source, Source::Aptfile);
        assert_eq!(names(&config), ["ffmpeg", "graphviz", "libgraphviz-dev"]);
        assert_eq!(config.location_of("graphviz"), Some(Location::line("Aptfile", 4)));
    }

    #[test]
    fn aptfile_refusals() {
        let repo = app(&[(
            "Aptfile",
            "ffmpeg\n:repo:deb http://apt.example.org stable main\n",
        )]);
        assert!(matches!(
            read(repo.path()).unwrap_err(),
            AptBuildpackError::CustomRepository { location, .. } if location == Location::line("Aptfile", 2)
        ));
        let url = app(&[("Aptfile", "https://example.org/tool_1.0_amd64.deb\n")]);
        assert!(matches!(
            read(url.path()).unwrap_err(),
            AptBuildpackError::DebUrl { .. }
        ));
        let glob = app(&[("Aptfile", "libfoo*\n")]);
        assert!(matches!(
            read(glob.path()).unwrap_err(),
            AptBuildpackError::InvalidPackage { .. }
        ));
    }

    #[test]
    fn literal_string_entries_are_located() {
        // Found by fuzz_apt_project_toml: an entry in single quotes was located in the file only.
        let error = parse(
            Some("[com.heroku.buildpacks.deb-packages]\ninstall = [':curl']".to_string()),
            None,
        )
        .unwrap_err();
        assert!(
            matches!(&error, AptBuildpackError::InvalidPackage { location, .. } if *location == Location::line("project.toml", 2)),
            "{error:?}"
        );
    }

    #[test]
    fn nothing_to_do() {
        let dir = app(&[("project.toml", "[_]\nschema-version = \"0.2\"\n")]);
        assert!(!detects(dir.path()));
        assert_eq!(read(dir.path()).unwrap(), None);
        let broken = app(&[("project.toml", "[org.toolforge.apt]\npackages = [\n")]);
        assert!(detects(broken.path()));
        assert!(matches!(
            read(broken.path()).unwrap_err(),
            AptBuildpackError::Toml(_)
        ));
    }
}
