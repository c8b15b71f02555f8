//! Builds the way Toolforge builds: the lifecycle from the builder image in a registry, each
//! phase in its own container (the Tekton catalog's `buildpacks-phases` task) or the creator
//! (its `buildpacks` task), the run image named separately, the app image exported to the
//! registry, and no cache volume kept between builds (or a cache image in the registry).
//! Each image is pulled from the registry and run as Toolforge runs it.

use toolforge_tests::platform::{
    Cache, Lifecycle, PlatformBuild, images, mirror_env, platform_build, platform_build_with, rebase,
    registry, unique_reference,
};
use toolforge_tests::{LIBC6, Run, fixture, fixture_copy, run_image_with_status_edited};

fn build(fixture_name: &str, image: &str, lifecycle: Lifecycle, cache: &Cache) -> PlatformBuild {
    platform_build(&fixture(fixture_name), image, lifecycle, cache, &mirror_env()).expect_success()
}

/// The second build found the first image in the registry and exported nothing new: the same
/// image, digest for digest, as a rebuild with unchanged inputs must be.
fn assert_rebuild_reuses(first: &PlatformBuild, second: &PlatformBuild, layers: &[&str]) {
    let exporter = second.phase_output("exporter");
    assert!(
        exporter.contains(&format!("Reusing layers from image '{}@sha256:", first.image)),
        "{exporter}"
    );
    for layer in layers {
        assert!(
            exporter.contains(&format!("Reusing layer '{layer}'")),
            "{exporter}"
        );
    }
    assert_eq!(first.digest(), second.digest(), "{}", second.output);
}

#[test]
fn python_through_the_phases_with_an_empty_cache_each_time() {
    let image = unique_reference("platform-python");
    let first = build("python-flask-pip", &image, Lifecycle::Phases, &Cache::Empty);
    let analyzer = first.phase_output("analyzer");
    assert!(
        analyzer.contains("not found"),
        "a first build has no previous image: {analyzer}"
    );
    let second = build("python-flask-pip", &image, Lifecycle::Phases, &Cache::Empty);
    assert_rebuild_reuses(
        &first,
        &second,
        &["toolforge/python:python", "toolforge/python:venv"],
    );

    let local = second.pull();
    let web = Run::toolforge(&local.0).process("web").read_only().start();
    assert_eq!(
        web.get("/"),
        (
            200,
            "python=3.13.5\nuid=52503\nfixture=python-flask-pip\n".to_string()
        )
    );
}

#[test]
fn nodejs_through_the_phases_with_a_cache_image() {
    let image = unique_reference("platform-nodejs");
    let cache = Cache::Image(format!("{image}-cache"));
    let first = build("nodejs-express-npm", &image, Lifecycle::Phases, &cache);
    let second = build("nodejs-express-npm", &image, Lifecycle::Phases, &cache);
    // No build script: Node.js and node_modules are launch-only layers, kept from the first image.
    assert_rebuild_reuses(
        &first,
        &second,
        &["toolforge/nodejs:node", "toolforge/nodejs:dependencies"],
    );
    assert!(
        second
            .output
            .contains("Reusing the previous image's dependencies (package-lock.json unchanged)"),
        "{}",
        second.output
    );
    assert!(!second.output.contains("Running `npm ci"), "{}", second.output);

    let local = second.pull();
    let web = Run::toolforge(&local.0).process("web").read_only().start();
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("uid=52503"), "{body}");
}

#[test]
fn php_through_the_creator_with_an_empty_cache() {
    let image = unique_reference("platform-php");
    let first = build("php-composer", &image, Lifecycle::Creator, &Cache::Empty);
    let local = first.pull();
    let web = Run::toolforge(&local.0).process("web").read_only().start();
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Hello, Toolforge, from PHP 8.4."), "{body}");
}

#[test]
fn apt_packages_through_the_creator_with_a_cache_image_then_the_rebaser() {
    let app = fixture_copy("apt-aptfile");
    let image = unique_reference("platform-apt");
    let cache = Cache::Image(format!("{image}-cache"));
    let env = mirror_env();
    // A run image of this test's own, as Toolforge names one in Harbor: a rebase below replaces
    // it under the same name, as an update of the run image does.
    let run_image = registry().push(
        &packaging::stack::read_config()
            .expect("stacks/stack.toml")
            .images
            .run,
        &format!("{}-run:latest", image.rsplit('/').next().unwrap_or("apt")),
    );
    let with = (images().builder.as_str(), run_image.as_str());
    let _first =
        platform_build_with(with, app.path(), &image, Lifecycle::Creator, &cache, &env).expect_success();
    // One more package: the rebuild installs from the cache image what it has.
    let aptfile = app.path().join("Aptfile");
    let text = std::fs::read_to_string(&aptfile).expect("the Aptfile");
    std::fs::write(&aptfile, format!("{text}file\n")).expect("the changed Aptfile");
    let second =
        platform_build_with(with, app.path(), &image, Lifecycle::Creator, &cache, &env).expect_success();
    let restored = second.phase_output("creator");
    assert!(
        restored.contains("from cache"),
        "nothing came from the cache image:\n{restored}"
    );
    let local = second.pull();
    let (code, stdout, stderr) = Run::toolforge(&local.0)
        .read_only()
        .launcher(&["make --version | head -1; jq --version; file --version | head -1; id -u"])
        .output();
    assert_eq!(code, 0, "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("GNU Make"), "{stdout}");
    assert!(lines[1].starts_with("jq-"), "{stdout}");
    assert!(lines[2].starts_with("file-"), "{stdout}");
    assert_eq!(lines[3], "52503", "{stdout}");
    drop(local);

    // The lifecycle's rebaser, in the registry, onto the run image rebuilt with a C library older
    // than the apt layer's packages need: the image refuses to start and says to rebuild.
    let older = run_image_with_status_edited(
        "platform-run-older",
        &format!("{LIBC6}s/^Version: .*$/Version: 2.19-1/"),
    );
    toolforge_tests::docker(&["tag", &older.0, &run_image]).expect("docker tag");
    toolforge_tests::docker(&["push", "--quiet", &run_image]).expect("docker push");
    let (rebased, output) = rebase(&image, &run_image);
    assert!(rebased, "{output}");
    let local = second.pull();
    let (code, stdout, stderr) = Run::toolforge(&local.0).read_only().launcher(&["check"]).output();
    assert_ne!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains("libc6"), "{stderr}");
    assert!(stderr.contains("rebuild the image"), "{stderr}");
}

#[test]
fn the_toolforge_environment_through_the_phases() {
    let image = unique_reference("platform-identity");
    let built = build("toolforge-identity", &image, Lifecycle::Phases, &Cache::Empty);
    let local = built.pull();
    let web = Run::toolforge(&local.0)
        .without_env("PORT")
        .process("web")
        .read_only()
        .start();
    assert_eq!(
        web.get("/"),
        (
            200,
            "user=uid52503\nuid=52503\nhome=/tmp/home-52503\nport=8000\n".to_string()
        )
    );
}
