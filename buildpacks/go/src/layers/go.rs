//! The `go` layer: the Go toolchain, from the inventory, for the build only (the image gets the
//! binaries, not the compiler).

use libcnb::data::layer_name;
use libtoolforge::runtime::Runtime;

/// Go's toolchains as the module proxy serves them to `GOTOOLCHAIN`
/// (`golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64`: zips whose two top components are the
/// module's path), or an operator's own inventory by URL.
pub(crate) fn runtime() -> Runtime {
    Runtime {
        name: "Go",
        layer: layer_name!("go"),
        built_in_inventory: include_str!("../../inventory.toml"),
        inventory_url_env: "BP_GO_INVENTORY_URL",
        version_group: |version| format!("{}.{}", version.major, version.minor),
        how_to_pin: "go.mod's `go` line names one",
        leave_out: &[],
        // Module zips carry no modes: the programs the go command runs, as it marks them itself.
        executables: &["bin/*", "pkg/tool/*/*"],
    }
}
