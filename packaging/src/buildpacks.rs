//! Packages every buildpack of the workspace with libcnb-package, used as a library.

use crate::paths;
use anyhow::Context;
use libcnb_data::buildpack::BuildpackId;
use libcnb_package::buildpack_dependency_graph::build_libcnb_buildpacks_dependency_graph;
use libcnb_package::dependency_graph::get_dependencies;
use libcnb_package::output::create_packaged_buildpack_dir_resolver;
use libcnb_package::{CargoProfile, package::package_buildpack};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The only target these machines have; the stack's glibc (trixie) is newer than the build
/// host's, so binaries linked here run there.
pub const TARGET_TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// Compiles and packages every buildpack; returns each id with its packaged directory.
///
/// # Errors
///
/// When a buildpack does not compile or its descriptor is invalid.
pub fn package_all() -> anyhow::Result<BTreeMap<BuildpackId, PathBuf>> {
    let root = paths::workspace_root();
    let graph = build_libcnb_buildpacks_dependency_graph(&root)
        .with_context(|| format!("cannot find the buildpacks under {}", root.display()))?;
    let nodes: Vec<_> = graph.node_weights().collect();
    let order = get_dependencies(&graph, &nodes).context("buildpack dependencies are inconsistent")?;
    let packaged_buildpacks_dir = paths::packaged_buildpacks_dir();
    let destination_of = create_packaged_buildpack_dir_resolver(
        &packaged_buildpacks_dir,
        CargoProfile::Release,
        TARGET_TRIPLE,
    );

    let mut packaged = BTreeMap::new();
    for node in order {
        let destination = destination_of(&node.buildpack_id);
        if destination.exists() {
            std::fs::remove_dir_all(&destination)?;
        }
        package_buildpack(
            &node.path,
            CargoProfile::Release,
            TARGET_TRIPLE,
            &[],
            &destination,
            &packaged,
        )
        .with_context(|| format!("cannot package {}", node.buildpack_id))?;
        packaged.insert(node.buildpack_id.clone(), destination);
    }
    Ok(packaged)
}

/// Where a buildpack's packaged directory is, without packaging (for the tests).
#[must_use]
pub fn packaged_dir(buildpack_id: &BuildpackId) -> PathBuf {
    let packaged_buildpacks_dir = paths::packaged_buildpacks_dir();
    create_packaged_buildpack_dir_resolver(&packaged_buildpacks_dir, CargoProfile::Release, TARGET_TRIPLE)(
        buildpack_id,
    )
}
