//! The images' SBOMs, end to end: `pack sbom download` on built images shows, per ecosystem, the
//! runtime (version, source URL, sha256), the app's dependencies at their versions and the Debian
//! packages a layer added. One build per ecosystem, of fixtures the other tests build too.

use serde_json::Value;
use std::path::Path;
use toolforge_tests::{Image, fixture, fixture_copy, mirrored_build_into, mirrored_build_ok, pack};

/// `pack sbom download IMAGE --output-dir DIR`: DIR/layers/sbom/launch/<buildpack>/….
fn download(image: &Image) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output_dir = dir.path().display().to_string();
    let _ = pack(&["sbom", "download", &image.0, "--output-dir", &output_dir]);
    dir
}

/// The text of a launch SBOM: `buildpack/layer` (`toolforge_python/venv`) or `buildpack` alone
/// for the buildpack's own launch SBOM.
fn sbom_text(dir: &Path, of: &str) -> String {
    let path = dir.join("layers/sbom/launch").join(of).join("sbom.cdx.json");
    std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; the SBOMs are:\n{}",
            path.display(),
            listing(&dir.join("layers/sbom"))
        )
    })
}

/// The components of a launch SBOM, as [`sbom_text`] names it.
fn components(dir: &Path, of: &str) -> Vec<Value> {
    let document: Value = serde_json::from_str(&sbom_text(dir, of)).expect("a JSON SBOM");
    assert_eq!(document["bomFormat"], "CycloneDX", "{document}");
    document["components"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no components: {document}"))
}

/// The component whose purl starts with `prefix`.
fn with_purl<'a>(components: &'a [Value], prefix: &str) -> &'a Value {
    components
        .iter()
        .find(|component| {
            component["purl"]
                .as_str()
                .is_some_and(|purl| purl.starts_with(prefix))
        })
        .unwrap_or_else(|| panic!("no component with a purl starting {prefix} in {components:#?}"))
}

/// The component named `name`.
fn named<'a>(components: &'a [Value], name: &str) -> &'a Value {
    components
        .iter()
        .find(|component| component["name"] == name)
        .unwrap_or_else(|| panic!("no component named {name} in {components:#?}"))
}

/// Every file under `dir`, for failure messages.
fn listing(dir: &Path) -> String {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                pending.push(entry.path());
            } else {
                found.push(entry.path().display().to_string());
            }
        }
    }
    found.sort();
    found.join("\n")
}

/// A runtime component carries its version, where it came from and the archive's sha256.
fn assert_runtime(runtime: &Value, version_prefix: &str) {
    assert!(
        runtime["version"]
            .as_str()
            .is_some_and(|version| version.starts_with(version_prefix)),
        "{runtime}"
    );
    assert_eq!(runtime["hashes"][0]["alg"], "SHA-256", "{runtime}");
    assert_eq!(
        runtime["hashes"][0]["content"].as_str().map(str::len),
        Some(64),
        "{runtime}"
    );
    assert_eq!(
        runtime["externalReferences"][0]["type"], "distribution",
        "{runtime}"
    );
    assert!(
        runtime["externalReferences"][0]["url"]
            .as_str()
            .is_some_and(|url| url.starts_with("http")),
        "{runtime}"
    );
}

#[test]
fn python_runtime_and_packages_and_a_rebuild_writes_the_same() {
    let app = fixture_copy("python-flask-pip");
    let (_, image) = mirrored_build_ok(app.path(), "sbom-python");
    let sboms = download(&image);
    assert_runtime(
        named(&components(sboms.path(), "toolforge_python/python"), "Python"),
        "3.13.",
    );
    let venv = components(sboms.path(), "toolforge_python/venv");
    assert_eq!(with_purl(&venv, "pkg:pypi/flask@")["version"], "3.1.3");

    // Reused layers keep their SBOMs, unchanged: the venv is reused from the previous image
    // without its files, and its SBOM with it.
    let rebuilt = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    rebuilt.assert_output_contains("Reusing the previous image's dependencies");
    let again = download(&image);
    for of in ["toolforge_python/python", "toolforge_python/venv"] {
        assert_eq!(sbom_text(sboms.path(), of), sbom_text(again.path(), of), "{of}");
    }
}

#[test]
fn nodejs_runtime_and_npm_packages_and_a_rebuild_writes_the_same() {
    let app = fixture_copy("nodejs-express-npm");
    let (_, image) = mirrored_build_ok(app.path(), "sbom-nodejs");
    let sboms = download(&image);
    assert_runtime(
        named(&components(sboms.path(), "toolforge_nodejs/node"), "Node.js"),
        "24.",
    );
    // No build script: node_modules is a launch-only layer, with its packages' SBOM.
    let packages = components(sboms.path(), "toolforge_nodejs/dependencies");
    assert_eq!(with_purl(&packages, "pkg:npm/express@")["version"], "5.3.0");
    // A development dependency, removed after the build, is not in the image.
    assert!(
        !packages.iter().any(|component| component["name"] == "is-number"),
        "{packages:#?}"
    );

    // Reused layers keep their SBOMs, unchanged: both layers are kept from the previous image
    // without their files, and their SBOMs with them.
    let rebuilt = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    rebuilt.assert_output_contains("Reusing the previous image's dependencies (package-lock.json unchanged)");
    let again = download(&image);
    for of in ["toolforge_nodejs/node", "toolforge_nodejs/dependencies"] {
        assert_eq!(sbom_text(sboms.path(), of), sbom_text(again.path(), of), "{of}");
    }
}

#[test]
fn php_debian_packages_and_composer_packages() {
    let app = fixture_copy("php-composer");
    let (_, image) = mirrored_build_ok(app.path(), "sbom-php");
    let sboms = download(&image);
    let php = components(sboms.path(), "toolforge_php/php");
    let cli = with_purl(&php, "pkg:deb/debian/php8.4-cli@");
    assert!(
        cli["purl"]
            .as_str()
            .is_some_and(|purl| purl.ends_with("&distro=debian-13")),
        "{cli}"
    );
    let packages = components(sboms.path(), "toolforge_php");
    assert_eq!(
        with_purl(&packages, "pkg:composer/toolforge-example/greeter@")["version"],
        "1.2.0"
    );
}

#[test]
fn apt_packages_with_version_and_architecture() {
    let (_, image) = mirrored_build_ok(&fixture("apt-aptfile"), "sbom-apt");
    let sboms = download(&image);
    let packages = components(sboms.path(), "toolforge_apt/packages");
    let jq = with_purl(&packages, "pkg:deb/debian/jq@1.");
    assert!(
        jq["purl"]
            .as_str()
            .is_some_and(|purl| purl.contains("?arch=amd64&") || purl.contains("?arch=arm64&")),
        "{jq}"
    );
    with_purl(&packages, "pkg:deb/debian/libjq1@");
    with_purl(&packages, "pkg:deb/debian/make@4.");
}

#[test]
fn go_toolchain_and_linked_modules() {
    let (_, image) = mirrored_build_ok(&fixture("go-chi"), "sbom-go");
    let sboms = download(&image);
    let bin = components(sboms.path(), "toolforge_go/bin");
    assert_runtime(named(&bin, "Go"), "1.");
    assert_eq!(
        with_purl(&bin, "pkg:golang/github.com/go-chi/chi/v5@")["version"],
        "v5.2.3"
    );
}

#[test]
fn java_runtime_packages_and_spring_boot_libraries() {
    let app = fixture_copy("java-spring-boot");
    let (_, image) = mirrored_build_ok(app.path(), "sbom-java");
    let sboms = download(&image);
    let jre = components(sboms.path(), "toolforge_java/jre");
    with_purl(&jre, "pkg:deb/debian/openjdk-21-jre-headless@21.");
    let artifacts = components(sboms.path(), "toolforge_java");
    // Spring's own jars carry no pom.properties: named by their file names, without a group.
    assert_eq!(named(&artifacts, "spring-boot")["version"], "3.5.7");
    named(&artifacts, "spring-core");
    // Libraries that carry one get their Maven coordinates.
    assert_eq!(
        with_purl(&artifacts, "pkg:maven/ch.qos.logback/logback-classic@")["version"],
        "1.5.20"
    );
}
