//! The `maven` layer (build only): Apache Maven's binary distribution from Maven Central, for apps
//! without the Maven wrapper; the release from `maven-inventory.toml` (with its sha256), or an
//! operator's inventory by URL.

use libcnb::data::layer_name;
use libtoolforge::runtime::Runtime;

pub(crate) fn runtime() -> Runtime {
    Runtime {
        name: "Maven",
        layer: layer_name!("maven"),
        built_in_inventory: include_str!("../../maven-inventory.toml"),
        inventory_url_env: "BP_MAVEN_INVENTORY_URL",
        version_group: |version| format!("{}.{}", version.major, version.minor),
        how_to_pin: "name one with `maven.version=3.9.9` in system.properties, or add the Maven wrapper",
        // Maven's own documentation and the Windows scripts.
        leave_out: &["README.txt", "bin/*.cmd"],
        executables: &[],
    }
}
