//! The Maven artifacts in the jars the build made, for the image's SBOM: the jars live in the
//! app directory, not in a layer, so they go into the buildpack's launch SBOM
//! (`launch.sbom.cdx.json`, which the CNB specification has for "dependencies installed in the
//! /workspace directory"). Each `META-INF/maven/<group>/<artifact>/pom.properties` of a jar (the
//! app's own, and every artifact a shaded jar bundles), and each library a Spring Boot jar or a
//! war carries (`BOOT-INF/lib/*.jar`, `WEB-INF/lib/*.jar`), by its own `pom.properties` or, when
//! it has none, by its file name.

use crate::launch::built_jars;
use libtoolforge::sbom::{Component, Sbom, purl_segment};
use std::io::{Cursor, Read, Seek};
use std::path::Path;

/// Where executable jars and wars keep the libraries they bundle.
const LIBRARY_DIRS: [&str; 2] = ["BOOT-INF/lib/", "WEB-INF/lib/"];

/// The SBOM of the artifacts in the jars the build made.
pub(crate) fn launch_sbom(app_dir: &Path) -> libcnb::sbom::Sbom {
    let components = built_jars(app_dir).into_iter().flat_map(|jar| {
        std::fs::File::open(app_dir.join(jar))
            .ok()
            .map(|file| artifacts(file, true))
            .unwrap_or_default()
    });
    Sbom::new(components).to_cnb()
}

/// The artifacts of one jar: its `pom.properties`, and (when `nested`) those of the libraries
/// it bundles.
fn artifacts(jar: impl Read + Seek, nested: bool) -> Vec<Component> {
    let Ok(mut archive) = zip::ZipArchive::new(jar) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for index in 0..archive.len() {
        let Ok(mut entry) = archive.by_index(index) else {
            continue;
        };
        let Ok(name) = entry.name().map(std::borrow::Cow::into_owned) else {
            continue;
        };
        let mut bytes = Vec::new();
        if name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties") {
            if entry.read_to_end(&mut bytes).is_ok()
                && let Some(component) = pom_properties(&String::from_utf8_lossy(&bytes))
            {
                found.push(component);
            }
        } else if nested
            && let Some(file) = LIBRARY_DIRS
                .iter()
                .find_map(|dir| name.strip_prefix(dir))
                .filter(|file| {
                    Path::new(file)
                        .extension()
                        .is_some_and(|extension| extension.eq_ignore_ascii_case("jar"))
                        && !file.contains('/')
                })
        {
            let inner = match entry.read_to_end(&mut bytes) {
                Ok(_) => artifacts(Cursor::new(bytes), false),
                Err(_) => Vec::new(),
            };
            if inner.is_empty() {
                found.extend(from_file_name(file));
            } else {
                found.extend(inner);
            }
        }
    }
    found
}

/// `groupId`, `artifactId` and `version` of a `pom.properties`, as `pkg:maven/group/artifact@version`.
fn pom_properties(text: &str) -> Option<Component> {
    let property = |key: &str| {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(key)?.trim_start().strip_prefix('='))
            .map(|value| value.trim().to_string())
    };
    let (group, artifact, version) = (
        property("groupId")?,
        property("artifactId")?,
        property("version")?,
    );
    let purl = format!(
        "pkg:maven/{}/{}@{}",
        purl_segment(&group),
        purl_segment(&artifact),
        purl_segment(&version)
    );
    Some(Component::library(
        &format!("{group}:{artifact}"),
        &version,
        Some(purl),
    ))
}

/// `name-1.2.3.jar` → `name` at `1.2.3` (the version starts at the first `-` before a digit),
/// without a purl: the group is unknown.
fn from_file_name(file: &str) -> Option<Component> {
    let stem = Path::new(file).file_stem()?.to_str()?;
    let split = stem
        .char_indices()
        .find(|(index, c)| *c == '-' && stem[index + 1..].starts_with(|c: char| c.is_ascii_digit()))
        .map(|(index, _)| index)?;
    Some(Component::library(&stem[..split], &stem[split + 1..], None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            writer
                .start_file(
                    *name,
                    zip::write::SimpleFileOptions::default()
                        .compression_method(zip::CompressionMethod::Stored),
                )
                .unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn spring_boot_jars_list_their_libraries() {
        let library = zip(&[(
            "META-INF/maven/org.springframework/spring-core/pom.properties",
            b"#Generated\nartifactId=spring-core\ngroupId=org.springframework\nversion=6.2.1\n",
        )]);
        let app = zip(&[
            (
                "META-INF/maven/org.example/app/pom.properties",
                b"groupId=org.example\nartifactId=app\nversion=1.0.0\n",
            ),
            ("BOOT-INF/lib/spring-core-6.2.1.jar", &library),
            (
                "BOOT-INF/lib/jspecify-1.0.0.jar",
                &zip(&[("META-INF/MANIFEST.MF", b"")]),
            ),
            ("BOOT-INF/classes/App.class", b""),
        ]);
        let mut purls: Vec<String> = artifacts(Cursor::new(app), true)
            .into_iter()
            .map(|c| c.purl.unwrap_or(format!("{}@{}", c.name, c.version)))
            .collect();
        purls.sort();
        assert_eq!(
            purls,
            [
                "jspecify@1.0.0",
                "pkg:maven/org.example/app@1.0.0",
                "pkg:maven/org.springframework/spring-core@6.2.1",
            ]
        );
    }

    #[test]
    fn versions_from_file_names() {
        let component = from_file_name("jakarta.annotation-api-2.1.1.jar").unwrap();
        assert_eq!(
            (component.name.as_str(), component.version.as_str()),
            ("jakarta.annotation-api", "2.1.1")
        );
        assert!(from_file_name("noversion.jar").is_none());
    }
}
