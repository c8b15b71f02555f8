//! The app's npm packages, for the image's SBOM: when `node_modules` lives in the app directory,
//! not in a layer, they go into the buildpack's launch SBOM (`launch.sbom.cdx.json`, which the
//! CNB specification has for "dependencies installed in the /workspace directory"), written at
//! every build that keeps `node_modules` in the image; when it is in its launch-only layer
//! (`crate::layers::node_modules::into_launch_layer`), into that layer's SBOM, which a layer kept
//! from the previous image brings back with it.
//!
//! From `package-lock.json` (lockfile versions 2 and 3, the `packages` map) when the app has one,
//! keeping the entries whose directory is there after the build (development dependencies
//! removed, optional ones for other platforms never installed); otherwise (pnpm, Yarn) from the
//! `package.json` of every package in `node_modules`, nested ones and pnpm's store included.

use libtoolforge::sbom::{Component, Sbom, purl_segment};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The SBOM of the packages in the app's `node_modules`.
pub(crate) fn launch_sbom(app_dir: &Path) -> libcnb::sbom::Sbom {
    let packages = from_lockfile(app_dir).unwrap_or_else(|| from_node_modules(&app_dir.join("node_modules")));
    Sbom::new(
        packages
            .into_iter()
            .map(|(name, version, license)| component(&name, &version, license)),
    )
    .to_cnb()
}

/// `pkg:npm/%40scope/name@1.0.0`.
fn component(name: &str, version: &str, license: Option<String>) -> Component {
    let purl = format!("pkg:npm/{}@{}", purl_segment(name), purl_segment(version));
    Component::library(name, version, Some(purl)).licensed(license.into_iter().collect())
}

type Package = (String, String, Option<String>);

/// The packages of `package-lock.json`'s `packages` map that are installed; `None` without a
/// lockfile of version 2 or 3.
fn from_lockfile(app_dir: &Path) -> Option<Vec<Package>> {
    let text = std::fs::read(app_dir.join("package-lock.json")).ok()?;
    let lock: Value = serde_json::from_slice(&text).ok()?;
    let packages = lock["packages"].as_object()?;
    Some(
        packages
            .iter()
            .filter(|(key, entry)| {
                !key.is_empty()
                    && entry["link"].as_bool() != Some(true)
                    && app_dir.join(key.as_str()).is_dir()
            })
            .filter_map(|(key, entry)| {
                let name = entry["name"]
                    .as_str()
                    .or_else(|| key.rsplit_once("node_modules/").map(|(_, name)| name))?;
                let version = entry["version"].as_str()?;
                let license = entry["license"].as_str().map(ToString::to_string);
                Some((name.to_string(), version.to_string(), license))
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    )
}

/// The packages under `node_modules`: `name/`, `@scope/name/`, their own `node_modules`, and
/// pnpm's `.pnpm/*/node_modules`.
fn from_node_modules(node_modules: &Path) -> Vec<Package> {
    let mut found = BTreeSet::new();
    let mut visited = BTreeSet::new();
    let mut pending = vec![node_modules.to_path_buf()];
    while let Some(dir) = pending.pop() {
        if !dir.canonicalize().is_ok_and(|real| visited.insert(real)) {
            continue;
        }
        for package in package_dirs(&dir, &mut pending) {
            if let Some(entry) = read_package_json(&package) {
                found.insert(entry);
            }
            pending.push(package.join("node_modules"));
        }
    }
    found.into_iter().collect()
}

/// The package directories of one `node_modules`; pnpm's store directories go to `pending`.
fn package_dirs(node_modules: &Path, pending: &mut Vec<PathBuf>) -> Vec<PathBuf> {
    let mut packages = Vec::new();
    for path in children(node_modules) {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == ".pnpm" {
            pending.extend(
                children(&path)
                    .into_iter()
                    .map(|store| store.join("node_modules")),
            );
        } else if name.starts_with('@') {
            packages.extend(children(&path));
        } else if !name.starts_with('.') {
            packages.push(path);
        }
    }
    packages
}

/// The subdirectories of `dir` (symbolic links to directories included), sorted.
fn children(dir: &Path) -> Vec<PathBuf> {
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|entry| entry.path()).collect())
        .unwrap_or_default();
    children.retain(|path| path.is_dir());
    children.sort();
    children
}

fn read_package_json(package: &Path) -> Option<Package> {
    let text = std::fs::read(package.join("package.json")).ok()?;
    let json: Value = serde_json::from_slice(&text).ok()?;
    Some((
        json["name"].as_str()?.to_string(),
        json["version"].as_str()?.to_string(),
        json["license"].as_str().map(ToString::to_string),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn lockfile_packages_that_are_installed() {
        let app = tempfile::tempdir().unwrap();
        write(
            &app.path().join("package-lock.json"),
            r#"{"lockfileVersion": 3, "packages": {
                "": {"name": "app", "version": "1.0.0"},
                "node_modules/express": {"version": "5.3.0", "license": "MIT"},
                "node_modules/@types/node": {"version": "24.0.0"},
                "node_modules/express/node_modules/debug": {"version": "4.4.0"},
                "node_modules/is-number": {"version": "7.0.0", "dev": true}
            }}"#,
        );
        for dir in ["express/node_modules/debug", "@types/node"] {
            std::fs::create_dir_all(app.path().join("node_modules").join(dir)).unwrap();
        }
        let packages = from_lockfile(app.path()).unwrap();
        assert_eq!(
            packages,
            [
                ("@types/node".into(), "24.0.0".into(), None),
                ("debug".into(), "4.4.0".into(), None),
                ("express".into(), "5.3.0".into(), Some("MIT".into())),
            ]
        );
        assert_eq!(
            component("@types/node", "24.0.0", None).purl.as_deref(),
            Some("pkg:npm/%40types/node@24.0.0")
        );
    }

    #[test]
    fn node_modules_without_lockfile() {
        let app = tempfile::tempdir().unwrap();
        let modules = app.path().join("node_modules");
        write(
            &modules.join("express/package.json"),
            r#"{"name":"express","version":"5.3.0"}"#,
        );
        write(
            &modules.join("express/lib/package.json"),
            r#"{"name":"not-a-package","version":"0"}"#,
        );
        write(
            &modules.join("@s/b/package.json"),
            r#"{"name":"@s/b","version":"2.0.0"}"#,
        );
        write(
            &modules.join("express/node_modules/debug/package.json"),
            r#"{"name":"debug","version":"4.4.0"}"#,
        );
        write(
            &modules.join(".pnpm/ms@2.1.3/node_modules/ms/package.json"),
            r#"{"name":"ms","version":"2.1.3"}"#,
        );
        write(
            &modules.join(".bin/package.json"),
            r#"{"name":"bin","version":"0"}"#,
        );
        assert_eq!(from_lockfile(app.path()), None);
        let names: Vec<String> = from_node_modules(&modules)
            .into_iter()
            .map(|(name, ..)| name)
            .collect();
        assert_eq!(names, ["@s/b", "debug", "express", "ms"]);
    }
}
