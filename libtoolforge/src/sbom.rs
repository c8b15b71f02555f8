//! A `CycloneDX` 1.5 SBOM per layer: what a layer holds (a runtime, Debian packages, the app's
//! dependencies), written next to it as `<layer>.sbom.cdx.json` for the lifecycle to collect
//! into the image (`pack sbom download`).
//!
//! Documents are deterministic: no timestamp, no random serial number, components sorted and
//! without duplicates, so that a rebuild with unchanged inputs writes the same bytes.
//!
//! Write the SBOM every build, reused layer or not ([`write`]): libcnb leaves a layer's old SBOM
//! in place when it empties the layer, and whether the lifecycle restores SBOMs of cached layers
//! depends on its version; from data that is cheap to read again (the release, the resolved
//! packages, the installed dependencies' metadata).

use crate::inventory::Release;
use libcnb::Buildpack;
use libcnb::data::sbom::SbomFormat;
use libcnb::layer::LayerRef;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The `CycloneDX` media type a buildpack declares in its `buildpack.toml`'s `sbom-formats`.
pub const MEDIA_TYPE: &str = "application/vnd.cyclonedx+json";

/// The Debian release of the stacks, as purls of Debian packages name it.
pub const DEBIAN_DISTRO: &str = "debian-13";

/// What a component is, in `CycloneDX`'s words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Library,
    Application,
    Framework,
    OperatingSystem,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Library => "library",
            Self::Application => "application",
            Self::Framework => "framework",
            Self::OperatingSystem => "operating-system",
        }
    }
}

/// One thing a layer holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Component {
    pub name: String,
    pub version: String,
    pub kind: Kind,
    /// The package URL (`pkg:pypi/flask@3.1.0`), when the thing has one.
    pub purl: Option<String>,
    /// The sha256 of what was downloaded, lowercase hex.
    pub sha256: Option<String>,
    /// Where it was downloaded from (an external reference of type `distribution`).
    pub source_url: Option<String>,
    /// SPDX license identifiers or names, as the package declares them.
    pub licenses: Vec<String>,
}

impl Component {
    /// A library `name` at `version` with the package URL `purl`.
    #[must_use]
    pub fn library(name: &str, version: &str, purl: Option<String>) -> Self {
        Self {
            name: name.to_string(),
            version: version.to_string(),
            kind: Kind::Library,
            purl,
            sha256: None,
            source_url: None,
            licenses: Vec::new(),
        }
    }

    /// A runtime (`Python`, `Node.js`) from an inventory's release: version, URL and sha256.
    #[must_use]
    pub fn runtime(name: &str, release: &Release) -> Self {
        Self {
            name: name.to_string(),
            version: release.version.to_string(),
            kind: Kind::Application,
            purl: None,
            sha256: Some(release.sha256.to_lowercase()),
            source_url: Some(release.url.clone()),
            licenses: Vec::new(),
        }
    }

    /// A Debian package of the stack's release, for the architecture `arch` (`amd64`, `all`).
    #[must_use]
    pub fn debian_package(name: &str, version: &str, arch: &str) -> Self {
        let purl = format!(
            "pkg:deb/debian/{}@{}?arch={}&distro={DEBIAN_DISTRO}",
            purl_segment(name),
            purl_segment(version),
            purl_segment(arch)
        );
        Self::library(name, version, Some(purl))
    }

    /// With `licenses`.
    #[must_use]
    pub fn licensed(self, licenses: Vec<String>) -> Self {
        Self { licenses, ..self }
    }

    fn to_json(&self) -> Value {
        let Self {
            name,
            version,
            kind,
            purl,
            sha256,
            source_url,
            licenses,
        } = self;
        let mut fields = serde_json::Map::new();
        fields.insert("type".into(), json!(kind.as_str()));
        fields.insert("name".into(), json!(name));
        fields.insert("version".into(), json!(version));
        if let Some(purl) = purl {
            fields.insert("purl".into(), json!(purl));
        }
        if let Some(sha256) = sha256 {
            fields.insert("hashes".into(), json!([{ "alg": "SHA-256", "content": sha256 }]));
        }
        if let Some(url) = source_url {
            fields.insert(
                "externalReferences".into(),
                json!([{ "type": "distribution", "url": url }]),
            );
        }
        if !licenses.is_empty() {
            let licenses: Vec<Value> = licenses
                .iter()
                .map(|license| json!({ "license": { "name": license } }))
                .collect();
            fields.insert("licenses".into(), Value::Array(licenses));
        }
        Value::Object(fields)
    }
}

/// A name or version as a purl segment: percent-encoded but for what purls leave as is
/// (`@scope/name` → `%40scope/name` is the caller's: `/` separates namespace and name).
#[must_use]
pub fn purl_segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_' | b'~' | b'+' | b':' | b'/') {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

/// A `CycloneDX` document listing components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sbom {
    components: BTreeSet<Component>,
}

impl Sbom {
    /// The document of `components`, sorted, duplicates once.
    #[must_use]
    pub fn new(components: impl IntoIterator<Item = Component>) -> Self {
        Self {
            components: components.into_iter().collect(),
        }
    }

    /// The components, sorted.
    pub fn components(&self) -> impl Iterator<Item = &Component> {
        self.components.iter()
    }

    /// The document as `CycloneDX` 1.5 JSON, pretty-printed, ending in a newline.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let document = json!({
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "version": 1,
            "components": self.components.iter().map(Component::to_json).collect::<Vec<_>>(),
        });
        // A `Value` always serializes.
        let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
        text.push('\n');
        text.into_bytes()
    }

    /// The document as libcnb writes it onto a layer.
    #[must_use]
    pub fn to_cnb(&self) -> libcnb::sbom::Sbom {
        libcnb::sbom::Sbom::from_bytes(SbomFormat::CycloneDxJson, self.to_bytes())
    }
}

/// Writes the SBOM of `components` onto `layer`, replacing the one it had.
///
/// # Errors
///
/// When libcnb cannot write it.
pub fn write<B: Buildpack, MAC, RAC>(
    layer: &LayerRef<B, MAC, RAC>,
    components: impl IntoIterator<Item = Component>,
) -> libcnb::Result<(), B::Error> {
    layer.write_sboms(&[Sbom::new(components).to_cnb()])
}

/// The `dep` lines of a binary's build information (`go version -m <binary>`) as modules (path,
/// version), with `=>` replacements applied: what was linked in, not what a lock file lists.
#[must_use]
pub fn linked_modules(build_info: &str) -> Vec<(String, String)> {
    let mut modules: Vec<(String, String)> = Vec::new();
    for line in build_info.lines() {
        let fields: Vec<&str> = line
            .split('\t')
            .map(str::trim)
            .filter(|field| !field.is_empty())
            .collect();
        match fields.as_slice() {
            ["dep", path, version, ..] => modules.push(((*path).to_string(), (*version).to_string())),
            ["=>", path, version, ..] => {
                if let Some(last) = modules.last_mut() {
                    *last = ((*path).to_string(), (*version).to_string());
                }
            }
            _ => {}
        }
    }
    modules
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release() -> Release {
        Release {
            version: semver::Version::new(3, 13, 5),
            url: "https://example.org/python-3.13.5.tar.gz".to_string(),
            sha256: "AB12".to_string(),
            build: None,
            strip_components: 1,
        }
    }

    #[test]
    fn documents_are_deterministic_and_sorted() {
        let components = vec![
            Component::library("zlib", "1.0", None),
            Component::runtime("Python", &release()),
            Component::library("zlib", "1.0", None),
            Component::debian_package("libc6", "2.41-12+deb13u1", "amd64"),
        ];
        let first = Sbom::new(components.clone()).to_bytes();
        let reversed = Sbom::new(components.into_iter().rev()).to_bytes();
        assert_eq!(first, reversed);
        let names: Vec<String> = Sbom::new(Vec::new())
            .components()
            .map(|c| c.name.clone())
            .collect();
        assert!(names.is_empty());
        insta::assert_snapshot!(String::from_utf8(first).expect("UTF-8"));
    }

    #[test]
    fn debian_packages_have_purls() {
        assert_eq!(
            Component::debian_package("libgdbm6t64", "1:1.24-2", "all")
                .purl
                .as_deref(),
            Some("pkg:deb/debian/libgdbm6t64@1:1.24-2?arch=all&distro=debian-13")
        );
        assert_eq!(purl_segment("@types/node"), "%40types/node");
        assert_eq!(purl_segment("a b"), "a%20b");
    }

    #[test]
    fn runtimes_carry_url_and_hash() {
        let runtime = Component::runtime("Python", &release());
        assert_eq!(runtime.version, "3.13.5");
        assert_eq!(runtime.sha256.as_deref(), Some("ab12"));
        let json = runtime.to_json();
        assert_eq!(json["externalReferences"][0]["type"], "distribution");
        assert_eq!(json["hashes"][0]["alg"], "SHA-256");
    }

    #[test]
    fn modules_follow_replacements() {
        let info = "/bin/app: go1.26.1\n\tpath\texample.org/app\n\tmod\texample.org/app\t(devel)\t\n\tdep\tgolang.org/x/sys\tv0.30.0\th1:abc=\n\tdep\texample.org/old\tv1.0.0\n\t=>\texample.org/new\tv1.1.0\th1:def=\n";
        assert_eq!(
            linked_modules(info),
            vec![
                ("golang.org/x/sys".to_string(), "v0.30.0".to_string()),
                ("example.org/new".to_string(), "v1.1.0".to_string()),
            ]
        );
    }
}
