//! The app's `project.toml` (the Cloud Native Buildpacks project descriptor): buildpacks read their
//! own tables from it, `[org.toolforge.<name>]`, and for migrations other buildpacks' tables
//! (`[com.heroku.buildpacks.deb-packages]`). The tables are read wherever they are, whatever the
//! descriptor's schema version (`[_]` or none), and errors name the file, the line and the table.

use crate::toml_file::TomlError;
use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use std::marker::PhantomData;
use std::path::Path;

pub const FILE: &str = "project.toml";

/// The text of `project.toml`, if the app has one.
#[derive(Debug, Clone)]
pub struct ProjectToml {
    text: String,
}

impl ProjectToml {
    /// Reads `dir/project.toml`; `Ok(None)` when there is none.
    ///
    /// # Errors
    ///
    /// When it exists but cannot be read or is not TOML.
    pub fn read(dir: &Path) -> Result<Option<Self>, TomlError> {
        crate::toml_file::read_text(dir, FILE)?
            .map(Self::parse)
            .transpose()
    }

    /// # Errors
    ///
    /// When `text` is not TOML.
    pub fn parse(text: String) -> Result<Self, TomlError> {
        crate::toml_file::parse::<toml::Table>(&text, FILE)?;
        Ok(Self { text })
    }

    /// The table at `path` (`["org", "toolforge", "apt"]`) as `T`; `Ok(None)` when it is absent.
    ///
    /// # Errors
    ///
    /// When it does not have `T`'s shape; the error names the line and the table.
    pub fn table<T: DeserializeOwned>(&self, path: &[&str]) -> Result<Option<T>, TomlError> {
        let deserializer =
            toml::de::Deserializer::parse(&self.text).map_err(|error| self.error(&error, path))?;
        PathSeed::<T> {
            path,
            marker: PhantomData,
        }
        .deserialize(deserializer)
        .map_err(|error| self.error(&error, path))
    }

    /// A buildpack's own settings: the table at `path` of `dir/project.toml`, or `T`'s defaults
    /// when there is no file or no table.
    ///
    /// # Errors
    ///
    /// As [`Self::read`] and [`Self::table`].
    pub fn settings<T: DeserializeOwned + Default>(dir: &Path, path: &[&str]) -> Result<T, TomlError> {
        Ok(Self::read(dir)?
            .map(|project| project.settings_or_default::<T>(path))
            .transpose()?
            .unwrap_or_default())
    }

    /// The table at `path` as `T`, or `T`'s defaults when it is absent: a buildpack's settings
    /// from a project.toml read once.
    ///
    /// # Errors
    ///
    /// As [`Self::table`].
    pub fn settings_or_default<T: DeserializeOwned + Default>(&self, path: &[&str]) -> Result<T, TomlError> {
        Ok(self.table::<T>(path)?.unwrap_or_default())
    }

    /// Whether the file has a table at `path`, whatever its contents.
    #[must_use]
    pub fn has_table(&self, path: &[&str]) -> bool {
        self.table::<IgnoredAny>(path)
            .map_or(true, |found| found.is_some())
    }

    /// The 1-based line of the byte `offset` (a span's start): where a key is, for messages about
    /// its value.
    #[must_use]
    pub fn line_at(&self, offset: usize) -> Option<usize> {
        let text = &self.text;
        (offset <= text.len()).then(|| text[..offset].matches('\n').count() + 1)
    }

    fn error(&self, error: &toml::de::Error, path: &[&str]) -> TomlError {
        let line = error
            .span()
            .and_then(|span| self.line_at(span.start.min(self.text.len())));
        let excerpt = line.and_then(|line| self.text.lines().nth(line - 1));
        // The key on the offending line, when it is a `key = value` line of the table.
        let key = excerpt
            .and_then(|excerpt| excerpt.split_once('='))
            .map(|(key, _)| key.trim())
            .filter(|key| !key.is_empty() && !key.starts_with(['[', '#', '{', '"']));
        let mut table = path.join(".");
        if let Some(key) = key {
            table = format!("{table}.{key}");
        }
        TomlError {
            file: FILE.to_string(),
            line,
            message: format!("`{table}`: {}", error.message().trim_end()),
            excerpt: excerpt.map(ToString::to_string),
        }
    }
}

/// Deserializes the value at `path` of a map, ignoring everything else, so that the deserializer
/// (and its spans, for line numbers) is toml's own all the way down.
struct PathSeed<'a, T> {
    path: &'a [&'a str],
    marker: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for PathSeed<'_, T> {
    type Value = Option<T>;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        match self.path.split_first() {
            None => T::deserialize(deserializer).map(Some),
            Some(_) => deserializer.deserialize_map(self),
        }
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for PathSeed<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(formatter, "a table containing `{}`", self.path.join("."))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some((first, rest)) = self.path.split_first() else {
            return Ok(None);
        };
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == *first {
                found = map.next_value_seed(PathSeed::<T> {
                    path: rest,
                    marker: PhantomData,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Apt {
        packages: Vec<String>,
    }

    const APT: [&str; 3] = ["org", "toolforge", "apt"];

    #[test]
    fn reads_a_table_wherever_it_is() {
        let file = ProjectToml::parse(
            "[_]\nschema-version = \"0.2\"\n\n[io.buildpacks]\nexclude = [\"x\"]\n\n\
             [org.toolforge.apt]\npackages = [\"ffmpeg\"]\n"
                .to_string(),
        )
        .unwrap();
        assert_eq!(
            file.table::<Apt>(&APT).unwrap(),
            Some(Apt {
                packages: vec!["ffmpeg".into()]
            })
        );
        assert!(file.has_table(&APT));
        assert_eq!(file.table::<Apt>(&["org", "toolforge", "php"]).unwrap(), None);
        assert!(!file.has_table(&["com", "heroku"]));
    }

    #[test]
    fn shape_errors_name_line_and_table() {
        let file =
            ProjectToml::parse("# tool\n[org.toolforge.apt]\npackages = \"ffmpeg\"\n".to_string()).unwrap();
        let error = file.table::<Apt>(&APT).unwrap_err();
        assert_eq!(error.line, Some(3));
        assert_eq!(error.excerpt.as_deref(), Some("packages = \"ffmpeg\""));
        assert!(
            error
                .message
                .starts_with("`org.toolforge.apt.packages`: invalid type"),
            "{}",
            error.message
        );
        insta::assert_snapshot!(error.message().render());
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let error =
            ProjectToml::parse("[org.toolforge.apt]\npackages = [\"ffmpeg\"\n".to_string()).unwrap_err();
        assert_eq!(error.file, "project.toml");
        assert!(error.line.is_some());
    }
}
