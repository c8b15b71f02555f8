//! The floor of the benchmarks: a builder like ours, on the same stack and lifecycle, whose only
//! buildpack does nothing, so that what it costs is the lifecycle's, the platform's and the
//! stack's own share of a build.

use packaging::stack::read_config;
use packaging::{builder, buildpacks, cnb_tools, paths};

/// The floor builder's image.
pub const FLOOR_BUILDER: &str = "toolforge-test/builder-floor:latest";

/// Creates [`FLOOR_BUILDER`].
///
/// # Panics
///
/// When the no-op buildpack was not packaged or pack fails.
pub fn create_floor_builder() {
    let stack = read_config().expect("stacks/stack.toml");
    let version = builder::lifecycle_version().expect("builder/builder.toml");
    let (lifecycle, _) =
        cnb_tools::ensure_lifecycle(&version).expect("the lifecycle (run `cargo packaging builder`)");
    let noop = buildpacks::packaged_dir(&"toolforge-test/noop".parse().expect("valid id"));
    assert!(
        noop.is_dir(),
        "{} is missing: run `cargo packaging builder` first",
        noop.display()
    );
    let config = format!(
        "[[buildpacks]]\nuri = {noop:?}\n\n[[order]]\n[[order.group]]\nid = \"toolforge-test/noop\"\n\n\
         [lifecycle]\nuri = {lifecycle:?}\n\n[build]\nimage = {build:?}\n\n[[run.images]]\nimage = {run:?}\n",
        noop = noop.display().to_string(),
        lifecycle = lifecycle.display().to_string(),
        build = stack.images.build,
        run = stack.images.run,
    );
    let path = paths::generated_dir().join("builder-floor.toml");
    std::fs::write(&path, config).expect("write the floor builder's config");
    let status = cnb_tools::pack_command(&cnb_tools::pack_binary())
        .args(["builder", "create", FLOOR_BUILDER, "--config"])
        .arg(&path)
        .args(["--pull-policy", "never", "--quiet"])
        .status()
        .expect("pack can be started");
    assert!(status.success(), "cannot create the floor builder");
}
