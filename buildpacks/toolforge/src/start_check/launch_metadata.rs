//! The processes and the launch layers the image will have, as the launcher finds them: the
//! merged processes in `<layers>/config/metadata.toml`, each buildpack's launch layers linked
//! into a temporary layers directory.

use crate::exported::{self, GroupBuildpack, escaped};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// A buildpack's `launch.toml`.
#[derive(Deserialize)]
struct LaunchToml {
    #[serde(default)]
    processes: Vec<LaunchProcess>,
}

/// A process of launch.toml, as buildpacks of API 0.9 and later write them (ours are 0.10).
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct LaunchProcess {
    r#type: String,
    command: Vec<String>,
    #[serde(default)]
    args: Vec<String>,
    working_dir: Option<String>,
    #[serde(default)]
    exec_env: Vec<String>,
}

/// A process as the lifecycle's builder writes it to `<layers>/config/metadata.toml`, which the
/// exporter puts in the image for the launcher (lifecycle's `launch.Process`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct MetadataProcess {
    r#type: String,
    command: Vec<String>,
    args: Vec<String>,
    /// Every process of Buildpack API 0.9 and later is direct.
    direct: bool,
    buildpack_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    working_dir: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    exec_env: Vec<String>,
}

/// Every buildpack's processes by type, as the lifecycle merges them: a later buildpack's
/// process replaces an earlier one's of the same type; listed by type.
pub(super) fn merged_processes(
    root: &Path,
    group: &[GroupBuildpack],
) -> Result<BTreeMap<String, MetadataProcess>, String> {
    let mut processes = BTreeMap::new();
    for buildpack in group {
        let path = buildpack.layers_dir(root).join("launch.toml");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
        };
        let launch: LaunchToml =
            toml::from_str(&text).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        for process in launch.processes {
            let LaunchProcess {
                r#type,
                command,
                args,
                working_dir,
                exec_env,
            } = process;
            let merged = MetadataProcess {
                r#type: r#type.clone(),
                command,
                args,
                direct: true,
                buildpack_id: buildpack.id.clone(),
                working_dir,
                exec_env,
            };
            processes.insert(r#type, merged);
        }
    }
    Ok(processes)
}

/// The part of metadata.toml the launcher reads: the processes and the buildpacks.
pub(super) fn launch_metadata(group: &[GroupBuildpack], processes: Vec<MetadataProcess>) -> String {
    #[derive(Serialize)]
    struct Metadata<'a> {
        buildpacks: &'a [GroupBuildpack],
        processes: Vec<MetadataProcess>,
    }
    // Infallible: strings and booleans only.
    toml::to_string(&Metadata {
        buildpacks: group,
        processes,
    })
    .unwrap_or_default()
}

/// Gives `scratch` each buildpack's launch layers (`[types] launch = true`), which the image
/// will have, and not its build-only or cache-only ones. The launcher only applies real
/// directories (Go's `DirEntry.IsDir` does not follow a symbolic link), so each layer is a
/// directory of links to the real layer's entries. Returns the launch layers whose files are not
/// here: a launch-only layer kept from the previous image stays in the registry.
pub(super) fn link_launch_layers(
    root: &Path,
    scratch: &Path,
    group: &[GroupBuildpack],
) -> io::Result<Vec<String>> {
    let mut absent = Vec::new();
    for buildpack in group {
        for layer in exported::launch_layers(&buildpack.layers_dir(root))? {
            if !layer.present {
                absent.push(format!("{}:{}", buildpack.id, layer.name));
                continue;
            }
            let linked = scratch.join(escaped(&buildpack.id)).join(&layer.name);
            std::fs::create_dir_all(&linked)?;
            for entry in std::fs::read_dir(&layer.dir)? {
                let entry = entry?;
                std::os::unix::fs::symlink(entry.path(), linked.join(entry.file_name()))?;
            }
        }
    }
    Ok(absent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exported::read_group;
    use crate::start_check::tests::{layers_root, write};

    #[test]
    fn later_buildpacks_replace_processes_and_only_launch_layers_are_linked() {
        let root = layers_root();
        let group = read_group(root.path()).unwrap();
        let processes = merged_processes(root.path(), &group).unwrap();
        assert_eq!(processes.keys().collect::<Vec<_>>(), ["migrate", "web"]);
        assert_eq!(processes["web"].buildpack_id, "toolforge/procfile");
        insta::assert_snapshot!(launch_metadata(&group, processes.into_values().collect()));

        let scratch = tempfile::tempdir().unwrap();
        let absent = link_launch_layers(root.path(), scratch.path(), &group).unwrap();
        assert_eq!(absent, ["toolforge/python:kept"]);
        let venv = scratch.path().join("toolforge_python/venv");
        assert!(
            std::fs::symlink_metadata(&venv).unwrap().is_dir(),
            "a real directory"
        );
        assert_eq!(
            std::fs::read_link(venv.join("pyvenv.cfg")).unwrap(),
            root.path().join("toolforge_python/venv/pyvenv.cfg")
        );
        assert!(venv.join("bin/python").is_file());
        assert!(!scratch.path().join("toolforge_python/uv").exists(), "build-only");
        assert!(!scratch.path().join("toolforge_procfile").exists(), "no layers");
    }

    #[test]
    fn a_bad_launch_toml_skips_the_check() {
        let root = layers_root();
        write(
            &root.path().join("toolforge_procfile/launch.toml"),
            "[[processes]]\ntype = 1\n",
        );
        let group = read_group(root.path()).unwrap();
        let error = merged_processes(root.path(), &group).unwrap_err();
        assert!(error.starts_with("cannot read "), "{error}");
        assert!(read_group(&root.path().join("missing")).is_err());
    }
}
