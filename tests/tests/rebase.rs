//! `pack rebase` onto a rebuilt run image, end to end: an image whose apt layer still finds what it
//! was resolved against starts as before (a security update of the run image is what rebases are
//! for); one whose run image no longer has it refuses to start, saying to rebuild, instead of
//! failing later with a loader error.

use toolforge_tests::{
    Image, LIBC6, Run, builder, docker, fixture, pack, pack_build, run_image_with_status_edited,
    unique_image_name,
};

/// The sentence the check's message ends its explanation with.
const REBUILD: &str = "This image was rebased onto a run image whose packages no longer match";

/// `pack rebase image --run-image run_image`, in the daemon; the combined output.
fn rebase(image: &str, run_image: &str) -> String {
    pack(&[
        "rebase",
        image,
        "--run-image",
        run_image,
        "--pull-policy",
        "never",
    ])
}

/// The `check` process of apt-aptfile (make and jq from the apt layer); (exit code, stdout, stderr).
fn run_check(image: &str) -> (i32, String, String) {
    Run::toolforge(image).read_only().launcher(&["check"]).output()
}

#[test]
fn a_rebase_keeps_working_when_the_run_image_still_satisfies_the_apt_layer_and_says_to_rebuild_when_not() {
    // One build on a run image of this test's own name; every run image after it is a rebase
    // onto an update of it, under the same name, as the run image is updated on Toolforge.
    let run_image = Image(unique_image_name("rebase-run"));
    let stack = packaging::stack::read_config().expect("stacks/stack.toml");
    docker(&["tag", &stack.images.run, &run_image.0]).expect("docker tag");
    let image = Image(unique_image_name("rebase-apt"));
    let built = pack_build(
        &fixture("apt-aptfile"),
        &image.0,
        &builder(),
        &["--run-image", &run_image.0],
    )
    .expect_success();
    let (code, stdout, stderr) = run_check(&image.0);
    assert_eq!(code, 0, "{}\n{stdout}{stderr}", built.output);

    // A security update of the C library: a newer version, satisfying every Depends as before.
    let updated = run_image_with_status_edited(
        "rebase-run-updated",
        &format!(r"{LIBC6}s/^Version: \(.*\)$/Version: \1+security1/"),
    );
    docker(&["tag", &updated.0, &run_image.0]).expect("docker tag");
    rebase(&image.0, &run_image.0);
    let (code, stdout, stderr) = run_check(&image.0);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("GNU Make 4."), "{stdout}");
    assert!(stdout.contains("jq-1."), "{stdout}");
    assert!(!stderr.contains(REBUILD), "{stderr}");

    // A C library older than any jq and make declare (`libc6 (>= 2.3x)`).
    let older = run_image_with_status_edited(
        "rebase-run-older",
        &format!("{LIBC6}s/^Version: .*$/Version: 2.19-1/"),
    );
    docker(&["tag", &older.0, &run_image.0]).expect("docker tag");
    rebase(&image.0, &run_image.0);
    let (code, stdout, stderr) = run_check(&image.0);
    assert_ne!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains("GNU Make"), "the process started:\n{stdout}");
    for expected in [
        "! ERROR: The layer toolforge_apt/packages does not work on this run image",
        "- `libc6`: ",
        "needs >= 2.",
        "the run image now has 2.19-1",
        REBUILD,
        "toolforge build start",
    ] {
        assert!(stderr.contains(expected), "{expected:?} not in:\n{stderr}");
    }

    // No C library at all, as far as dpkg knows.
    let without = run_image_with_status_edited("rebase-run-without", &format!("{LIBC6}d"));
    docker(&["tag", &without.0, &run_image.0]).expect("docker tag");
    rebase(&image.0, &run_image.0);
    let (code, stdout, stderr) = run_check(&image.0);
    assert_ne!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains("the run image no longer has it"), "{stderr}");
    assert!(stderr.contains(REBUILD), "{stderr}");
}
