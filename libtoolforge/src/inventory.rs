//! Runtime inventories: which versions of a runtime exist, where to download each, and its
//! sha256.
//!
//! ```toml
//! [[releases]]
//! version = "3.13.5"
//! url = "https://example.org/cpython-3.13.5-install_only.tar.gz"   # or relative to the inventory
//! sha256 = "…"
//! strip_components = 1   # optional: leading path components dropped in unpacking (default 1)
//! ```
//!
//! The archive's format follows the URL's ending: `.zip` is a zip (Go's toolchains from the
//! module proxy), anything else a tar.gz.
//!
//! A buildpack ships its production inventory (generated from upstream data) and lets operators
//! point it at their own (self-built runtimes): an inventory fetched from a URL may use URLs
//! relative to itself, so a directory of archives plus its `inventory.toml` is a complete mirror.

use semver::Version;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// Newest first.
    releases: Vec<Release>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    pub version: Version,
    pub url: String,
    pub sha256: String,
    /// Upstream's build tag, where it has one (python-build-standalone's release date).
    #[serde(default)]
    pub build: Option<String>,
    /// How many leading path components unpacking drops: 1 for archives with one top directory
    /// (`python/`, `node-v24.11.1-linux-x64/`), 2 for Go's module zips
    /// (`golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64/`).
    #[serde(default = "one_top_directory")]
    pub strip_components: usize,
}

fn one_top_directory() -> usize {
    1
}

/// How a release's archive is packed, from its URL's ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    TarGz,
    Zip,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryFile {
    releases: Vec<Release>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InventoryError {
    /// Not TOML of the inventory's shape; the message names the line.
    Invalid {
        source: String,
        message: String,
    },
    /// A relative URL in an inventory that has no URL of its own to resolve it against.
    RelativeUrl {
        source: String,
        url: String,
    },
    /// A checksum that is not 64 hex digits.
    InvalidChecksum {
        source: String,
        version: Version,
    },
    Empty {
        source: String,
    },
}

impl std::error::Error for InventoryError {}

impl std::fmt::Display for InventoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid { source, message } => write!(f, "{source} is not a valid inventory: {message}"),
            Self::RelativeUrl { source, url } => write!(
                f,
                "{source} has the relative URL `{url}`, but it was not read from a URL to resolve it against"
            ),
            Self::InvalidChecksum { source, version } => {
                write!(
                    f,
                    "{source}: the sha256 of {version} is not 64 hexadecimal digits"
                )
            }
            Self::Empty { source } => write!(f, "{source} lists no releases"),
        }
    }
}

impl Inventory {
    /// Parses an inventory. `source` names it in errors; `base_url` (the URL it was read from)
    /// resolves relative URLs.
    ///
    /// # Errors
    ///
    /// When the text is not an inventory, lists nothing, or has unusable URLs or checksums.
    pub fn parse(text: &str, source: &str, base_url: Option<&str>) -> Result<Self, InventoryError> {
        let file: InventoryFile = toml::from_str(text).map_err(|error| InventoryError::Invalid {
            source: source.to_string(),
            message: error.to_string().trim_end().to_string(),
        })?;
        let mut releases = file.releases;
        if releases.is_empty() {
            return Err(InventoryError::Empty {
                source: source.to_string(),
            });
        }
        for release in &mut releases {
            if release.sha256.len() != 64 || !release.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(InventoryError::InvalidChecksum {
                    source: source.to_string(),
                    version: release.version.clone(),
                });
            }
            release.sha256 = release.sha256.to_ascii_lowercase();
            if !release.url.contains("://") {
                let resolved = base_url
                    .and_then(|base| url::Url::parse(base).ok())
                    .and_then(|base| base.join(&release.url).ok());
                release.url = resolved
                    .ok_or_else(|| InventoryError::RelativeUrl {
                        source: source.to_string(),
                        url: release.url.clone(),
                    })?
                    .to_string();
            }
        }
        releases.sort_by(|a, b| b.version.cmp(&a.version));
        Ok(Self { releases })
    }

    /// The newest release whose version satisfies `predicate`.
    pub fn newest_matching(&self, predicate: impl Fn(&Version) -> bool) -> Option<&Release> {
        self.releases.iter().find(|release| predicate(&release.version))
    }

    /// Every release, newest first.
    #[must_use]
    pub fn releases(&self) -> &[Release] {
        &self.releases
    }

    /// `3.14.7, 3.14.6, …` for messages; the newest per `group` (for example per minor version)
    /// when `group` is given, so that a long inventory reads as a short list.
    #[must_use]
    pub fn describe_versions(&self, group: impl Fn(&Version) -> String) -> String {
        let mut seen = Vec::new();
        for release in &self.releases {
            let key = group(&release.version);
            if !seen.contains(&key) {
                seen.push(key);
            }
        }
        seen.join(", ")
    }
}

/// Why a release could not be installed.
#[derive(Debug)]
pub enum InstallError {
    Download(crate::download::DownloadError),
    Unpack(crate::archive::ArchiveError),
}

impl InstallError {
    /// The user-facing message; `what` names the runtime (`Python 3.13.5`).
    #[must_use]
    pub fn message(&self, what: &str) -> crate::error::ErrorMessage {
        match self {
            Self::Download(error) => error.message(what),
            Self::Unpack(error) => error.message(what),
        }
    }
}

impl Release {
    /// `.zip` (before any query) is a zip; anything else a tar.gz.
    #[must_use]
    pub fn archive_format(&self) -> ArchiveFormat {
        let path = url::Url::parse(&self.url).map_or_else(|_| self.url.clone(), |url| url.path().to_string());
        if path.to_ascii_lowercase().ends_with(".zip") {
            ArchiveFormat::Zip
        } else {
            ArchiveFormat::TarGz
        }
    }

    /// Downloads the archive (checked against the sha256) and unpacks it into `destination`
    /// without its first [`Self::strip_components`] path components. The archive itself is not
    /// kept.
    ///
    /// # Errors
    ///
    /// When the download fails or does not match, or the archive cannot be unpacked.
    pub fn install(
        &self,
        downloader: &crate::download::Downloader,
        destination: &std::path::Path,
    ) -> Result<(), InstallError> {
        let (extension, extract): (_, fn(_, _, _) -> _) = match self.archive_format() {
            ArchiveFormat::TarGz => ("tar.gz", crate::archive::extract_tar_gz),
            ArchiveFormat::Zip => ("zip", crate::archive::extract_zip),
        };
        let archive = std::env::temp_dir().join(format!("toolforge-{}.{extension}", self.sha256));
        downloader
            .download_verified(&self.url, &self.sha256, &archive)
            .map_err(InstallError::Download)?;
        let unpacked = extract(&archive, destination, self.strip_components).map_err(InstallError::Unpack);
        let _ = std::fs::remove_file(&archive);
        unpacked
    }
}

/// Why an inventory could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The operator's inventory URL did not answer.
    Fetch(crate::download::DownloadError),
    Invalid(InventoryError),
}

/// The operator's inventory at `operator_url` (a buildpack's `BP_<RUNTIME>_INVENTORY_URL`) when
/// set, whose relative URLs resolve against it; else the buildpack's `built_in` one.
///
/// # Errors
///
/// When the URL does not answer or either inventory is invalid.
pub fn load(
    operator_url: Option<String>,
    built_in: &str,
    downloader: &crate::download::Downloader,
) -> Result<Inventory, LoadError> {
    match operator_url {
        Some(url) => {
            let text = downloader.fetch_text(&url).map_err(LoadError::Fetch)?;
            Inventory::parse(&text, &url, Some(&url)).map_err(LoadError::Invalid)
        }
        None => Inventory::parse(built_in, "the built-in inventory", None).map_err(LoadError::Invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVENTORY: &str = r#"
[[releases]]
version = "3.13.5"
url = "https://example.org/a/cpython-3.13.5.tar.gz"
sha256 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

[[releases]]
version = "3.14.1"
url = "cpython-3.14.1.tar.gz"
sha256 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
build = "20260101"

[[releases]]
version = "3.13.7"
url = "https://example.org/a/cpython-3.13.7.tar.gz"
sha256 = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
"#;

    fn inventory() -> Inventory {
        Inventory::parse(
            INVENTORY,
            "inventory.toml",
            Some("http://127.0.0.1:8123/python/inventory.toml"),
        )
        .unwrap()
    }

    #[test]
    fn newest_first_and_matching() {
        let inventory = inventory();
        let versions: Vec<String> = inventory
            .releases()
            .iter()
            .map(|r| r.version.to_string())
            .collect();
        assert_eq!(versions, ["3.14.1", "3.13.7", "3.13.5"]);
        let newest_313 = inventory
            .newest_matching(|v| v.major == 3 && v.minor == 13)
            .unwrap();
        assert_eq!(newest_313.version, Version::new(3, 13, 7));
        assert!(inventory.newest_matching(|v| v.minor == 12).is_none());
    }

    #[test]
    fn relative_urls_resolve_against_the_inventory() {
        let inventory = inventory();
        let release = inventory.newest_matching(|v| v.minor == 14).unwrap();
        assert_eq!(release.url, "http://127.0.0.1:8123/python/cpython-3.14.1.tar.gz");
        assert_eq!(release.build.as_deref(), Some("20260101"));
    }

    #[test]
    fn strip_components_default_to_one_top_directory() {
        assert!(
            inventory()
                .releases()
                .iter()
                .all(|release| release.strip_components == 1)
        );
        let go = "[[releases]]\nversion = \"1.26.8\"\n\
                  url = \"https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go1.26.8.linux-amd64.zip\"\n\
                  sha256 = \"30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7\"\n\
                  strip_components = 2\n";
        let inventory = Inventory::parse(go, "go.toml", None).unwrap();
        assert_eq!(inventory.releases()[0].strip_components, 2);
    }

    #[test]
    fn the_archive_format_follows_the_url() {
        let mut release = inventory().releases()[0].clone();
        assert_eq!(release.archive_format(), ArchiveFormat::TarGz);
        release.url =
            "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go1.26.8.linux-amd64.zip".into();
        assert_eq!(release.archive_format(), ArchiveFormat::Zip);
        release.url = "http://127.0.0.1:8123/go/go1.26.8.ZIP?token=x".into();
        assert_eq!(release.archive_format(), ArchiveFormat::Zip);
        release.url = "http://127.0.0.1:8123/go/zip/go1.26.8.tar.gz".into();
        assert_eq!(release.archive_format(), ArchiveFormat::TarGz);
    }

    #[test]
    fn checksums_are_normalised() {
        let inventory = inventory();
        let release = inventory.newest_matching(|v| v.patch == 5).unwrap();
        assert_eq!(release.sha256, "a".repeat(64));
    }

    #[test]
    fn relative_url_without_base_is_an_error() {
        assert_eq!(
            Inventory::parse(INVENTORY, "inventory.toml", None),
            Err(InventoryError::RelativeUrl {
                source: "inventory.toml".into(),
                url: "cpython-3.14.1.tar.gz".into()
            })
        );
    }

    #[test]
    fn invalid_inventories() {
        let bad_checksum = "[[releases]]\nversion = \"1.0.0\"\nurl = \"https://x/y\"\nsha256 = \"abc\"\n";
        assert!(matches!(
            Inventory::parse(bad_checksum, "x", None),
            Err(InventoryError::InvalidChecksum { .. })
        ));
        assert!(matches!(
            Inventory::parse("releases = []", "x", None),
            Err(InventoryError::Empty { .. })
        ));
        let error = Inventory::parse("[[releases]]\nversion = \"3.13\"\n", "x", None).unwrap_err();
        assert!(error.to_string().contains("line 2"), "{error}");
    }

    #[test]
    fn describes_versions_grouped() {
        let inventory = inventory();
        assert_eq!(
            inventory.describe_versions(|v| format!("{}.{}", v.major, v.minor)),
            "3.14, 3.13"
        );
        assert_eq!(
            inventory.describe_versions(ToString::to_string),
            "3.14.1, 3.13.7, 3.13.5"
        );
    }
}
