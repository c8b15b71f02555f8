//! SBOMs for the lifecycle binaries we build, in the three formats the lifecycle's exporter looks
//! for next to them (`lifecycle.sbom.cdx.json`, `.spdx.json`, `.syft.json`; the same for
//! `launcher`). Upstream's release makes them with syft; here they come from the Go build
//! information compiled into each binary (`go version -m`), which names every module linked in,
//! at the version linked in. Without them every build log warns that they are missing, and app
//! images carry no SBOM of their launcher.

use crate::command;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// A Go module linked into a binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    pub version: String,
}

impl Module {
    fn purl(&self) -> String {
        format!("pkg:golang/{}@{}", self.path, self.version)
    }
}

/// Writes `<name>.sbom.{cdx,spdx,syft}.json` next to `binary`.
///
/// # Errors
///
/// When `go version -m` fails or a file cannot be written.
pub fn write_for_binary(binary: &Path, name: &str, version: &str) -> anyhow::Result<()> {
    let build_info = command::output(Command::new("go").args(["version", "-m"]).arg(binary))?;
    let modules = linked_modules(&build_info);
    let dir = binary.parent().unwrap_or(Path::new("."));
    let documents = [
        ("cdx", cyclonedx(name, version, &modules)),
        ("spdx", spdx(name, version, &modules)),
        ("syft", syft(name, version, &modules)),
    ];
    for (format, document) in documents {
        std::fs::write(
            dir.join(format!("{name}.sbom.{format}.json")),
            serde_json::to_string_pretty(&document)?,
        )?;
    }
    Ok(())
}

/// The `dep` lines of `go version -m`, with `=>` replacements applied
/// ([`libtoolforge::sbom::linked_modules`], which the Go buildpack's SBOMs use too).
#[must_use]
pub fn linked_modules(build_info: &str) -> Vec<Module> {
    libtoolforge::sbom::linked_modules(build_info)
        .into_iter()
        .map(|(path, version)| Module { path, version })
        .collect()
}

fn cyclonedx(name: &str, version: &str, modules: &[Module]) -> Value {
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "tools": [{ "name": "toolforge-buildpacks packaging", "version": crate::VERSION }],
            "component": {
                "type": "application",
                "name": name,
                "version": version,
                "purl": format!("pkg:golang/github.com/buildpacks/lifecycle@v{version}"),
            },
        },
        "components": modules.iter().map(|module| json!({
            "type": "library",
            "name": module.path,
            "version": module.version,
            "purl": module.purl(),
        })).collect::<Vec<_>>(),
    })
}

fn spdx(name: &str, version: &str, modules: &[Module]) -> Value {
    let package = |id: String, name: &str, version: &str, purl: String| {
        json!({
            "SPDXID": id,
            "name": name,
            "versionInfo": version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl,
            }],
        })
    };
    let mut packages = vec![package(
        "SPDXRef-Package-lifecycle".to_string(),
        name,
        version,
        format!("pkg:golang/github.com/buildpacks/lifecycle@v{version}"),
    )];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": "SPDXRef-Package-lifecycle",
    })];
    for (index, module) in modules.iter().enumerate() {
        let id = format!("SPDXRef-Package-go-{index}");
        packages.push(package(id.clone(), &module.path, &module.version, module.purl()));
        relationships.push(json!({
            "spdxElementId": "SPDXRef-Package-lifecycle",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{name}-{version}"),
        "documentNamespace": format!("https://toolforge.org/spdx/buildpacks/lifecycle/{version}/{name}"),
        "creationInfo": {
            // The build date is not an input; a fixed date keeps the tarball reproducible.
            "created": "1980-01-01T00:00:01Z",
            "creators": [format!("Tool: toolforge-buildpacks-packaging-{}", crate::VERSION)],
        },
        "packages": packages,
        "relationships": relationships,
    })
}

fn syft(name: &str, version: &str, modules: &[Module]) -> Value {
    json!({
        "artifacts": modules.iter().enumerate().map(|(index, module)| json!({
            "id": format!("go-module-{index}"),
            "name": module.path,
            "version": module.version,
            "type": "go-module",
            "foundBy": "go-module-binary-cataloger",
            "locations": [{ "path": format!("/cnb/lifecycle/{name}") }],
            "licenses": [],
            "language": "go",
            "cpes": [],
            "purl": module.purl(),
        })).collect::<Vec<_>>(),
        "artifactRelationships": [],
        "source": {
            "id": format!("{name}-{version}"),
            "name": name,
            "version": version,
            "type": "file",
            "metadata": { "path": format!("/cnb/lifecycle/{name}") },
        },
        "distro": {},
        "descriptor": { "name": "toolforge-buildpacks packaging", "version": crate::VERSION },
        "schema": {
            "version": "16.0.0",
            "url": "https://raw.githubusercontent.com/anchore/syft/main/schema/json/schema-16.0.0.json",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUILD_INFO: &str = "/out/lifecycle: go1.26.8\n\
        \tpath\tgithub.com/buildpacks/lifecycle/cmd/lifecycle\n\
        \tmod\tgithub.com/buildpacks/lifecycle\t(devel)\t\n\
        \tdep\tgithub.com/BurntSushi/toml\tv1.6.0\th1:abc=\n\
        \tdep\tgithub.com/osscontainertools/kaniko\tv1.28.3\n\
        \t=>\tgithub.com/osscontainertools/kaniko\tv1.27.5\th1:def=\n\
        \tbuild\t-buildmode=exe\n";

    #[test]
    fn modules_follow_replacements() {
        assert_eq!(
            linked_modules(BUILD_INFO),
            [
                Module {
                    path: "github.com/BurntSushi/toml".into(),
                    version: "v1.6.0".into()
                },
                Module {
                    path: "github.com/osscontainertools/kaniko".into(),
                    version: "v1.27.5".into()
                },
            ]
        );
    }

    #[test]
    fn documents_name_every_module() {
        let modules = linked_modules(BUILD_INFO);
        let cdx = cyclonedx("lifecycle", "0.21.17", &modules);
        assert_eq!(
            cdx["components"][1]["purl"],
            "pkg:golang/github.com/osscontainertools/kaniko@v1.27.5"
        );
        let spdx = spdx("lifecycle", "0.21.17", &modules);
        assert_eq!(spdx["packages"].as_array().map(Vec::len), Some(3));
        assert_eq!(
            spdx["relationships"][2]["relatedSpdxElement"],
            "SPDXRef-Package-go-1"
        );
        let syft = syft("launcher", "0.21.17", &modules);
        assert_eq!(syft["artifacts"][0]["name"], "github.com/BurntSushi/toml");
    }
}
