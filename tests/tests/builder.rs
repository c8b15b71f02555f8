//! The builder image: what `pack builder inspect toolforge/builder:latest` reports, read from the
//! labels pack reads it from (`pack builder inspect` also asks Docker Hub for a remote image,
//! which these tests never contact).

use serde_json::Value;
use toolforge_tests::{builder, image_label};

fn metadata() -> Value {
    serde_json::from_str(&image_label(&builder(), "io.buildpacks.builder.metadata"))
        .expect("builder metadata is JSON")
}

#[test]
fn builder_has_the_lifecycle_built_from_source_and_its_platform_apis() {
    let metadata = metadata();
    assert_eq!(metadata["lifecycle"]["version"], "0.21.17");
    let platform_apis = metadata["lifecycle"]["apis"]["platform"]["supported"]
        .as_array()
        .expect("platform APIs");
    assert!(platform_apis.contains(&Value::from("0.15")), "{platform_apis:?}");
    let buildpack_apis = metadata["lifecycle"]["apis"]["buildpack"]["supported"]
        .as_array()
        .expect("buildpack APIs");
    assert!(
        buildpack_apis.contains(&Value::from("0.10")),
        "{buildpack_apis:?}"
    );
}

#[test]
fn builder_has_our_buildpacks_in_its_order() {
    let metadata = metadata();
    let ids: Vec<&str> = metadata["buildpacks"]
        .as_array()
        .expect("buildpacks")
        .iter()
        .filter_map(|buildpack| buildpack["id"].as_str())
        .collect();
    assert!(ids.contains(&"toolforge/procfile"), "{ids:?}");
    assert!(ids.contains(&"toolforge/python"), "{ids:?}");
    assert!(ids.contains(&"toolforge/php"), "{ids:?}");
    assert!(ids.contains(&"toolforge/nodejs"), "{ids:?}");
    assert!(ids.contains(&"toolforge/apt"), "{ids:?}");
    assert!(ids.contains(&"toolforge/toolforge"), "{ids:?}");
    assert!(
        !ids.iter().any(|id| id.starts_with("toolforge-test/")),
        "test buildpacks must not ship in the builder: {ids:?}"
    );
    // Every group starts with the optional apt buildpack, before any language buildpack, and ends
    // with the runtime environment, which is required.
    let order: Value = serde_json::from_str(&image_label(&builder(), "io.buildpacks.buildpack.order"))
        .expect("order is JSON");
    let groups = order.as_array().expect("groups");
    assert!(groups.len() >= 2, "{order}");
    for group in groups {
        let first = &group["group"][0];
        assert_eq!(first["id"], "toolforge/apt", "{group}");
        assert_eq!(first["optional"], true, "{group}");
        let last = group["group"].as_array().and_then(|buildpacks| buildpacks.last());
        assert_eq!(
            last.map(|last| &last["id"]),
            Some(&Value::from("toolforge/toolforge")),
            "{group}"
        );
        assert_ne!(
            last.map(|last| &last["optional"]),
            Some(&Value::Bool(true)),
            "{group}"
        );
    }
    assert!(order.to_string().contains("\"toolforge/procfile\""), "{order}");
}

#[test]
fn builder_uses_the_toolforge_stack() {
    let config = packaging::stack::read_config().expect("stacks/stack.toml");
    assert_eq!(image_label(&builder(), "io.buildpacks.stack.id"), config.id);
    assert_eq!(
        image_label(&builder(), "io.buildpacks.base.distro.name"),
        "debian"
    );
    assert_eq!(image_label(&builder(), "io.buildpacks.base.distro.version"), "13");
    let metadata = metadata();
    let run_images = metadata["images"].as_array().map_or_else(Vec::new, |images| {
        images
            .iter()
            .filter_map(|image| image["image"].as_str())
            .collect()
    });
    assert_eq!(run_images, [config.images.run.as_str()], "{metadata}");
}
