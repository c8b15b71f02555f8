//! The `python` layer: CPython itself, from the inventory, for build and launch.

use libcnb::data::layer_name;
use libtoolforge::runtime::Runtime;

/// CPython from python-build-standalone's releases (see `cargo packaging inventory`), or an
/// operator's own inventory (self-built runtimes) by URL, whose archive URLs may be relative.
pub(crate) fn runtime() -> Runtime {
    Runtime {
        name: "Python",
        layer: layer_name!("python"),
        built_in_inventory: include_str!("../../inventory.toml"),
        inventory_url_env: "BP_PYTHON_INVENTORY_URL",
        version_group: |version| format!("{}.{}", version.major, version.minor),
        how_to_pin: "pin one in .python-version",
        // The runtime's own pip: the build's pip is the pinned one in its tool layer, venvs get
        // pip from ensurepip's wheels (kept), and at run time the venv's python cannot import
        // it. IDLE and turtledemo are desktop programs. The headers and static library stay:
        // C extensions and uWSGI's build (embedding Python) use them.
        leave_out: &[
            "bin/pip*",
            "bin/idle*",
            "lib/python3.*/site-packages/pip",
            "lib/python3.*/site-packages/pip-*.dist-info",
            "lib/python3.*/idlelib",
            "lib/python3.*/turtledemo",
        ],
        executables: &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libtoolforge::inventory::Inventory;

    #[test]
    fn built_in_inventory_has_current_pythons() {
        let inventory = Inventory::parse(runtime().built_in_inventory, "inventory.toml", None).unwrap();
        let newest =
            |minor: u64| inventory.newest_matching(|version| version.major == 3 && version.minor == minor);
        for minor in 10..=14 {
            let release = newest(minor).unwrap_or_else(|| panic!("no 3.{minor}"));
            assert!(
                release
                    .url
                    .starts_with("https://github.com/astral-sh/python-build-standalone/")
            );
        }
    }
}
