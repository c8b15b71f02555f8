//! What this buildpack reads from composer.json and composer.lock
//! (<https://getcomposer.org/doc/04-schema.md>): the platform requirements (`php`, `ext-*`) of the
//! app and of every locked package, whether there is anything to install, and the vendor
//! directory.

use crate::constraint::Constraint;
use libtoolforge::error::line_of;
use libtoolforge::version_request::{Origin, VersionRequest};
use serde_json::{Map, Value};
use std::path::Path;

pub(crate) const COMPOSER_JSON: &str = "composer.json";
pub(crate) const COMPOSER_LOCK: &str = "composer.lock";

/// composer.json's script that Heroku's PHP buildpack runs after `composer install`
/// (`composer compile --no-dev`): the app's own build step, which this buildpack runs likewise.
pub(crate) const COMPILE_SCRIPT: &str = "compile";

/// A `"php": "…"` of composer.json's `require` or of a locked package's, with Composer's
/// constraint parsed.
pub(crate) type PhpRequest = VersionRequest<Constraint>;

/// One `"ext-…": "…"` requirement: an extension, not a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExtensionRequirement {
    /// The extension's name without `ext-`, lowercase.
    pub(crate) name: String,
    pub(crate) constraint: String,
    pub(crate) origin: Origin,
}

/// The `php` and `ext-*` requirements of the app and of its locked packages.
#[derive(Debug, Default)]
pub(crate) struct PlatformRequirements {
    pub(crate) php: Vec<PhpRequest>,
    pub(crate) extensions: Vec<ExtensionRequirement>,
}

/// composer.json's `require.<key>`.
fn app_origin(key: &str, line: Option<usize>) -> Origin {
    Origin::file(COMPOSER_JSON)
        .field(format!("require.{key}"))
        .at_line(line)
}

/// composer.lock's `packages[<package>].require.<key>`, at the package's `name`.
fn locked_origin(package: &str, key: &str, line: Option<usize>) -> Origin {
    Origin::file(COMPOSER_LOCK)
        .field(format!("packages[{package}].require.{key}"))
        .at_line(line)
}

/// The locked package that a requirement's origin names; `None` for composer.json's own.
pub(crate) fn locked_package(origin: &Origin) -> Option<&str> {
    if origin.file != COMPOSER_LOCK {
        return None;
    }
    // Composer's package names have no `]`.
    let (package, _) = origin
        .field
        .as_deref()?
        .strip_prefix("packages[")?
        .split_once("].require.")?;
    Some(package)
}

#[derive(Debug)]
pub(crate) enum ComposerError {
    Read {
        file: &'static str,
        error: std::io::Error,
    },
    /// Not JSON, or not an object where the schema has one.
    Malformed {
        file: &'static str,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// composer.lock without composer.json: Composer cannot install from it.
    LockWithoutJson,
    /// A `require.php` that is not a Composer version constraint.
    InvalidPhpConstraint { origin: Origin, text: String },
}

/// A parsed JSON file with its text (for line numbers).
#[derive(Debug)]
struct JsonFile {
    text: String,
    value: Map<String, Value>,
}

impl JsonFile {
    /// The text of `app_dir/file`; `None` when there is no such file.
    fn read_text(app_dir: &Path, file: &'static str) -> Result<Option<String>, ComposerError> {
        match std::fs::read_to_string(app_dir.join(file)) {
            Ok(text) => Ok(Some(text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(ComposerError::Read { file, error }),
        }
    }

    fn parse(file: &'static str, text: String) -> Result<Self, ComposerError> {
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(value)) => Ok(Self { text, value }),
            Ok(_) => Err(ComposerError::Malformed {
                file,
                line: Some(1),
                column: None,
                message: "the file must hold one JSON object (`{ … }`)".to_string(),
            }),
            Err(error) => Err(ComposerError::Malformed {
                file,
                line: (error.line() > 0).then_some(error.line()),
                column: (error.column() > 0).then_some(error.column()),
                message: error.to_string(),
            }),
        }
    }

    /// The object under `key`, which must be one when present.
    fn object(&self, file: &'static str, key: &str) -> Result<Option<&Map<String, Value>>, ComposerError> {
        match self.value.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(object)) => Ok(Some(object)),
            // An empty `require: []` is how PHP's json_encode writes an empty object.
            Some(Value::Array(array)) if array.is_empty() => Ok(None),
            Some(_) => Err(ComposerError::Malformed {
                file,
                line: line_of(&self.text, &format!("\"{key}\"")),
                column: None,
                message: format!("`{key}` must be an object"),
            }),
        }
    }
}

/// The app's composer.json and composer.lock, either of which may be absent.
#[derive(Debug, Default)]
pub(crate) struct Composer {
    json: Option<JsonFile>,
    lock: Option<JsonFile>,
}

impl Composer {
    pub(crate) fn read(app_dir: &Path) -> Result<Self, ComposerError> {
        let json = JsonFile::read_text(app_dir, COMPOSER_JSON)?;
        let lock = JsonFile::read_text(app_dir, COMPOSER_LOCK)?;
        Self::parse(json, lock)
    }

    /// composer.json's and composer.lock's texts, either of which may be absent.
    pub(crate) fn parse(json: Option<String>, lock: Option<String>) -> Result<Self, ComposerError> {
        let json = json
            .map(|text| JsonFile::parse(COMPOSER_JSON, text))
            .transpose()?;
        let lock = lock
            .map(|text| JsonFile::parse(COMPOSER_LOCK, text))
            .transpose()?;
        if json.is_none() && lock.is_some() {
            return Err(ComposerError::LockWithoutJson);
        }
        let composer = Self { json, lock };
        // Shape errors and invalid `require.php` constraints surface now, once, rather than
        // wherever a field is first used.
        composer.requirements()?;
        Ok(composer)
    }

    /// composer.json's sha256, for cache keys; empty without one.
    pub(crate) fn json_sha256(&self) -> String {
        self.json
            .as_ref()
            .map(|file| libtoolforge::download::sha256(file.text.as_bytes()))
            .unwrap_or_default()
    }

    /// composer.lock's sha256, for cache keys; empty without one.
    pub(crate) fn lock_sha256(&self) -> String {
        self.lock
            .as_ref()
            .map(|file| libtoolforge::download::sha256(file.text.as_bytes()))
            .unwrap_or_default()
    }

    pub(crate) fn has_json(&self) -> bool {
        self.json.is_some()
    }

    pub(crate) fn has_lock(&self) -> bool {
        self.lock.is_some()
    }

    /// `php` and `ext-*` requirements of composer.json's `require` and of every package in
    /// composer.lock's `packages` (not `packages-dev`: those are not installed).
    pub(crate) fn requirements(&self) -> Result<PlatformRequirements, ComposerError> {
        let mut found = PlatformRequirements::default();
        if let Some(json) = &self.json
            && let Some(require) = json.object(COMPOSER_JSON, "require")?
        {
            found.add(require, |key| {
                app_origin(key, line_of(&json.text, &format!("\"{key}\"")))
            })?;
        }
        if let Some(lock) = &self.lock {
            for package in self.locked_packages()? {
                let name = package.get("name").and_then(Value::as_str).unwrap_or("a package");
                if let Some(Value::Object(require)) = package.get("require") {
                    let line = line_of(&lock.text, &format!("\"name\": \"{name}\""));
                    // Without the name's line (a package without a name, a minified lock), the
                    // first line with the key.
                    found.add(require, |key| {
                        let line = line.or_else(|| line_of(&lock.text, &format!("\"{key}\"")));
                        locked_origin(name, key, line)
                    })?;
                }
            }
        }
        Ok(found)
    }

    fn locked_packages(&self) -> Result<Vec<&Map<String, Value>>, ComposerError> {
        let Some(lock) = &self.lock else {
            return Ok(Vec::new());
        };
        match lock.value.get("packages") {
            None => Ok(Vec::new()),
            Some(Value::Array(packages)) => Ok(packages.iter().filter_map(Value::as_object).collect()),
            Some(_) => Err(ComposerError::Malformed {
                file: COMPOSER_LOCK,
                line: line_of(&lock.text, "\"packages\""),
                column: None,
                message: "`packages` must be a list".to_string(),
            }),
        }
    }

    /// The packages (not platform requirements) composer.json requires.
    pub(crate) fn required_packages(&self) -> Vec<String> {
        self.json
            .as_ref()
            .and_then(|json| json.value.get("require"))
            .and_then(Value::as_object)
            .map(|require| {
                require
                    .keys()
                    .filter(|name| name.contains('/'))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Packages composer.json requires that composer.lock does not have: the lock is older than
    /// the last change to `require`.
    pub(crate) fn missing_from_lock(&self) -> Vec<String> {
        let locked: Vec<String> = self
            .locked_packages()
            .unwrap_or_default()
            .iter()
            .filter_map(|package| package.get("name").and_then(Value::as_str))
            .map(str::to_ascii_lowercase)
            .collect();
        self.required_packages()
            .into_iter()
            .filter(|name| !locked.contains(&name.to_ascii_lowercase()))
            .collect()
    }

    /// composer.lock's `content-hash`: the hash of composer.json's relevant parts when the lock
    /// was written.
    pub(crate) fn locked_content_hash(&self) -> Option<&str> {
        self.lock.as_ref()?.value.get("content-hash")?.as_str()
    }

    /// Whether `composer install` has anything to do: packages to install or an autoloader to
    /// generate.
    pub(crate) fn has_dependencies(&self) -> bool {
        !self.required_packages().is_empty()
            || !self.locked_packages().unwrap_or_default().is_empty()
            || self
                .json
                .as_ref()
                .is_some_and(|json| json.value.contains_key("autoload"))
    }

    /// Whether composer.json has a `compile` script (`scripts.compile`: a command or a list).
    pub(crate) fn has_compile_script(&self) -> bool {
        self.json
            .as_ref()
            .and_then(|json| json.value.get("scripts"))
            .and_then(Value::as_object)
            .is_some_and(|scripts| scripts.contains_key(COMPILE_SCRIPT))
    }

    /// Composer's vendor directory, relative to the app (`config.vendor-dir`, default `vendor`).
    pub(crate) fn vendor_dir(&self) -> String {
        self.json
            .as_ref()
            .and_then(|json| json.value.get("config"))
            .and_then(|config| config.get("vendor-dir"))
            .and_then(Value::as_str)
            .unwrap_or("vendor")
            .trim_end_matches('/')
            .to_string()
    }

    /// Where Composer links the packages' programs (`config.bin-dir`, default `<vendor-dir>/bin`).
    pub(crate) fn bin_dir(&self) -> String {
        self.json
            .as_ref()
            .and_then(|json| json.value.get("config"))
            .and_then(|config| config.get("bin-dir"))
            .and_then(Value::as_str)
            .map_or_else(
                || format!("{}/bin", self.vendor_dir()),
                |dir| dir.trim_end_matches('/').to_string(),
            )
    }
}

impl PlatformRequirements {
    /// The `php` and `ext-*` entries of a `require` object; `origin` of a key as written.
    fn add(
        &mut self,
        require: &Map<String, Value>,
        origin: impl Fn(&str) -> Origin,
    ) -> Result<(), ComposerError> {
        for (key, constraint) in require {
            let lower = key.to_ascii_lowercase();
            let constraint = constraint.as_str().unwrap_or("*").to_string();
            if lower == "php" {
                let origin = origin(key);
                let matcher =
                    Constraint::parse(&constraint).map_err(|_| ComposerError::InvalidPhpConstraint {
                        origin: origin.clone(),
                        text: constraint.clone(),
                    })?;
                self.php
                    .push(VersionRequest::new(constraint, Some(origin), matcher));
            } else if let Some(name) = lower.strip_prefix("ext-") {
                self.extensions.push(ExtensionRequirement {
                    name: name.to_string(),
                    constraint,
                    origin: origin(key),
                });
            }
        }
        Ok(())
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

    const JSON: &str = r#"{
    "name": "toolforge/example",
    "require": {
        "php": ">=8.2",
        "ext-intl": "*",
        "ext-PDO_MySQL": "*",
        "monolog/monolog": "^3.0"
    },
    "config": {"vendor-dir": "lib/vendor/"}
}"#;

    const LOCK: &str = r#"{
    "content-hash": "0123456789abcdef",
    "packages": [
        {
            "name": "monolog/monolog",
            "version": "3.8.1",
            "require": {"php": ">=8.1", "ext-json": "*", "psr/log": "^2.0 || ^3.0"}
        }
    ],
    "packages-dev": [
        {"name": "phpunit/phpunit", "require": {"ext-xdebug": "*"}}
    ]
}"#;

    #[test]
    fn hashes_are_the_files_hashes() {
        // The vendor layer's key had the files' hashes: the same values keep caches valid.
        let dir = app(&[(COMPOSER_JSON, JSON), (COMPOSER_LOCK, LOCK)]);
        let composer = Composer::read(dir.path()).unwrap();
        let file_sha256 = |name| libtoolforge::download::file_sha256(&dir.path().join(name)).unwrap();
        assert_eq!(composer.json_sha256(), file_sha256(COMPOSER_JSON));
        assert_eq!(composer.lock_sha256(), file_sha256(COMPOSER_LOCK));
        let without_lock = app(&[(COMPOSER_JSON, JSON)]);
        assert_eq!(Composer::read(without_lock.path()).unwrap().lock_sha256(), "");
    }

    #[test]
    fn platform_requirements_of_app_and_lock() {
        let dir = app(&[(COMPOSER_JSON, JSON), (COMPOSER_LOCK, LOCK)]);
        let composer = Composer::read(dir.path()).unwrap();
        let requirements = composer.requirements().unwrap();
        let php: Vec<String> = requirements
            .php
            .iter()
            .map(|request| format!("{request} {:?}", request.origin.as_ref().unwrap()))
            .collect();
        assert_eq!(
            php,
            [
                r#">=8.2 Origin { file: "composer.json", line: Some(4), field: Some("require.php") }"#,
                r#">=8.1 Origin { file: "composer.lock", line: Some(5), field: Some("packages[monolog/monolog].require.php") }"#,
            ]
        );
        let extensions: Vec<String> = requirements
            .extensions
            .iter()
            .map(|requirement| {
                format!(
                    "{} {} {}:{:?} {:?}",
                    requirement.name,
                    requirement.constraint,
                    requirement.origin.file,
                    requirement.origin.line,
                    locked_package(&requirement.origin),
                )
            })
            .collect();
        assert_eq!(
            extensions,
            [
                // serde_json's objects are sorted by key.
                "pdo_mysql * composer.json:Some(6) None",
                "intl * composer.json:Some(5) None",
                "json * composer.lock:Some(5) Some(\"monolog/monolog\")",
            ]
        );
        assert_eq!(composer.vendor_dir(), "lib/vendor");
        assert_eq!(composer.bin_dir(), "lib/vendor/bin");
        assert_eq!(composer.locked_content_hash(), Some("0123456789abcdef"));
        assert!(composer.missing_from_lock().is_empty());
        assert!(composer.has_dependencies());
    }

    #[test]
    fn lock_out_of_date() {
        let json = JSON.replace(
            "\"monolog/monolog\": \"^3.0\"",
            "\"monolog/monolog\": \"^3.0\", \"guzzlehttp/guzzle\": \"^7\"",
        );
        let dir = app(&[(COMPOSER_JSON, &json), (COMPOSER_LOCK, LOCK)]);
        let composer = Composer::read(dir.path()).unwrap();
        assert_eq!(composer.missing_from_lock(), ["guzzlehttp/guzzle"]);
    }

    #[test]
    fn malformed_files_name_the_line() {
        let dir = app(&[(
            COMPOSER_JSON,
            "{\n  \"require\": {\n    \"php\": \">=8.2\",\n  }\n}\n",
        )]);
        let Err(ComposerError::Malformed { file, line, .. }) = Composer::read(dir.path()) else {
            panic!("parsed");
        };
        assert_eq!((file, line), (COMPOSER_JSON, Some(4)));
        let dir = app(&[(COMPOSER_JSON, "{\n  \"require\": \"php\"\n}\n")]);
        let Err(ComposerError::Malformed { line, message, .. }) = Composer::read(dir.path()) else {
            panic!("parsed");
        };
        assert_eq!((line, message.as_str()), (Some(2), "`require` must be an object"));
        let dir = app(&[(COMPOSER_LOCK, "{}")]);
        assert!(matches!(
            Composer::read(dir.path()),
            Err(ComposerError::LockWithoutJson)
        ));
    }

    #[test]
    fn invalid_php_constraints_name_the_line() {
        let dir = app(&[(
            COMPOSER_JSON,
            "{\n  \"require\": {\n    \"php\": \"latest\"\n  }\n}\n",
        )]);
        let Err(ComposerError::InvalidPhpConstraint { origin, text }) = Composer::read(dir.path()) else {
            panic!("parsed");
        };
        assert_eq!(
            (origin.location(), text.as_str()),
            (Location::line(COMPOSER_JSON, 3), "latest")
        );
        let lock = LOCK.replace("\"php\": \">=8.1\"", "\"php\": \">=\"");
        let dir = app(&[(COMPOSER_JSON, JSON), (COMPOSER_LOCK, &lock)]);
        let Err(ComposerError::InvalidPhpConstraint { origin, .. }) = Composer::read(dir.path()) else {
            panic!("parsed");
        };
        assert_eq!(locked_package(&origin), Some("monolog/monolog"));
    }

    #[test]
    fn locked_requirements_are_located_without_the_name_line() {
        // Found by fuzz_composer_json_and_lock: a package without a name, or a minified lock
        // (`"name":"a/b"`), left the requirement without a line.
        let lock = "{\"packages\":[{\"name\":\"a/b\",\"require\":{\"ext-mysql\":\"*\"}}]}";
        let composer = Composer::parse(Some("{}".into()), Some(lock.into())).unwrap();
        let requirements = composer.requirements().unwrap();
        assert_eq!(
            requirements.extensions[0].origin.location(),
            Location::line(COMPOSER_LOCK, 1)
        );
    }

    #[test]
    fn compile_script() {
        let has_compile_script = |json: &str| {
            Composer::parse(Some(json.into()), None)
                .unwrap()
                .has_compile_script()
        };
        assert!(has_compile_script(
            r#"{"scripts": {"compile": ["php bin/console assets:install"]}}"#
        ));
        assert!(has_compile_script(
            r#"{"scripts": {"compile": "@php artisan optimize"}}"#
        ));
        assert!(!has_compile_script(
            r#"{"scripts": {"post-install-cmd": ["@compile"]}}"#
        ));
        assert!(!has_compile_script(r#"{"compile": []}"#));
        assert!(!has_compile_script("{}"));
        assert!(!Composer::default().has_compile_script());
    }

    #[test]
    fn apps_without_composer_files() {
        let dir = app(&[]);
        let composer = Composer::read(dir.path()).unwrap();
        assert!(!composer.has_json());
        let requirements = composer.requirements().unwrap();
        assert!(requirements.php.is_empty() && requirements.extensions.is_empty());
        assert!(!composer.has_dependencies());
        assert_eq!(composer.vendor_dir(), "vendor");
        // Platform requirements only, and an empty `require: []` as PHP writes it.
        let dir = app(&[(
            COMPOSER_JSON,
            r#"{"require": {"php": "^8.2", "ext-gd": "*"}, "require-dev": []}"#,
        )]);
        assert!(!Composer::read(dir.path()).unwrap().has_dependencies());
    }
}
