//! Builds the way Toolforge builds: the lifecycle's phases (and the creator) from the builder
//! image in a registry, the app image exported to the registry, no cache volume kept.

use toolforge_tests::platform::{Cache, Lifecycle, platform_build, unique_reference};
use toolforge_tests::{Run, fixture, mirror_args};

/// The build-time environment the tests give pack (`--env`), as the platform's env directory.
fn mirror_env() -> Vec<(String, String)> {
    mirror_args()
        .chunks(2)
        .filter(|pair| pair[0] == "--env")
        .filter_map(|pair| pair[1].split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

#[test]
fn experiment() {
    let image = unique_reference("platform-python");
    let first = platform_build(
        &fixture("python-flask-pip"),
        &image,
        Lifecycle::Phases,
        &Cache::Empty,
        &mirror_env(),
    );
    println!("{}\n{:?}", first.output, first.phases);
    let first = first.expect_success();
    let second = platform_build(
        &fixture("python-flask-pip"),
        &image,
        Lifecycle::Phases,
        &Cache::Empty,
        &mirror_env(),
    );
    println!("{}\n{:?}", second.output, second.phases);
    let local = second.expect_success().pull();
    let web = Run::toolforge(&local.0).start();
    println!("{:?}", web.get("/"));
    drop(first);
}
