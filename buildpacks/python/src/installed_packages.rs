//! The packages installed in the virtual environment, for the `venv` layer's SBOM: read from
//! each `lib/python*/site-packages/*.dist-info/METADATA` (what is installed, the app's own
//! packages included), not from the requirement files (what was asked for).

use libtoolforge::sbom::{Component, purl_segment};
use std::path::Path;

/// A component per installed distribution, with its purl (`pkg:pypi/flask@3.1.0`) and its
/// `License-Expression` when it declares one.
pub(crate) fn components(venv: &Path) -> Vec<Component> {
    let Ok(lib) = std::fs::read_dir(venv.join("lib")) else {
        return Vec::new();
    };
    let site_packages = lib
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("python"))
        .map(|entry| entry.path().join("site-packages"));
    let mut found = Vec::new();
    for dir in site_packages {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            if !entry.file_name().to_string_lossy().ends_with(".dist-info") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(entry.path().join("METADATA")) else {
                continue;
            };
            if let Some((name, version, license)) = metadata_headers(&text) {
                let purl = format!(
                    "pkg:pypi/{}@{}",
                    purl_segment(&normalized(&name)),
                    purl_segment(&version)
                );
                found.push(
                    Component::library(&name, &version, Some(purl)).licensed(license.into_iter().collect()),
                );
            }
        }
    }
    found
}

/// The name as PyPI and purls compare it (PEP 503): lowercase, runs of `-_.` as one `-`.
fn normalized(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !normalized.ends_with('-') {
                normalized.push('-');
            }
        } else {
            normalized.push(c.to_ascii_lowercase());
        }
    }
    normalized
}

/// `Name`, `Version` and `License-Expression` of core metadata (RFC 822 headers, up to the
/// first blank line).
fn metadata_headers(text: &str) -> Option<(String, String, Option<String>)> {
    let mut name = None;
    let mut version = None;
    let mut license = None;
    for line in text.lines().take_while(|line| !line.is_empty()) {
        let Some((header, value)) = line.split_once(':') else {
            continue;
        };
        let value = Some(value.trim().to_string());
        match header {
            "Name" => name = value,
            "Version" => version = value,
            "License-Expression" => license = value,
            _ => {}
        }
    }
    Some((name?, version?, license))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_core_metadata() {
        let text = "Metadata-Version: 2.4\nName: Flask\nVersion: 3.1.0\nLicense-Expression: BSD-3-Clause\n\nName: not this\n";
        assert_eq!(
            metadata_headers(text),
            Some(("Flask".into(), "3.1.0".into(), Some("BSD-3-Clause".into())))
        );
        assert_eq!(metadata_headers("Name: x\n"), None);
    }

    #[test]
    fn lists_the_distributions_of_site_packages() {
        let venv = tempfile::tempdir().expect("temp dir");
        let site = venv.path().join("lib/python3.13/site-packages");
        for (dir, metadata) in [
            (
                "Flask_Login-0.6.3.dist-info",
                "Name: Flask-Login\nVersion: 0.6.3\n",
            ),
            ("flask-3.1.0.dist-info", "Name: Flask\nVersion: 3.1.0\n"),
            ("flask", "Name: not a dist-info\nVersion: 0\n"),
        ] {
            std::fs::create_dir_all(site.join(dir)).expect("dir");
            std::fs::write(site.join(dir).join("METADATA"), metadata).expect("write");
        }
        let mut purls: Vec<String> = components(venv.path())
            .into_iter()
            .filter_map(|c| c.purl)
            .collect();
        purls.sort();
        assert_eq!(purls, ["pkg:pypi/flask-login@0.6.3", "pkg:pypi/flask@3.1.0"]);
        assert_eq!(normalized("zope.interface__x"), "zope-interface-x");
    }
}
