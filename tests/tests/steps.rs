//! Build steps a tool declares, end to end: `[[org.toolforge.build.steps]]` (run after every
//! language, restored from the cache while their inputs are unchanged), Heroku's build hooks,
//! and the warning for pack's inline buildpacks, which Toolforge's build service does not run.

use toolforge_tests::{
    Image, Run, WebContainer, app_with_files, fixture, fixture_copy, mirrored_build, mirrored_build_into,
    mirrored_build_ok,
};

fn serve(image: &Image) -> WebContainer {
    Run::toolforge(&image.0).process("web").read_only().start()
}

/// The value of `name=` on the page.
fn field(body: &str, name: &str) -> String {
    body.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {body}"))
        .to_string()
}

fn page(image: &Image) -> String {
    let web = serve(image);
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}\n{}", web.logs());
    body
}

#[test]
fn a_step_with_unchanged_inputs_is_restored_and_a_changed_input_runs_it_again() {
    let app = fixture_copy("python-build-steps");
    let (built, image) = mirrored_build_ok(app.path(), "python-build-steps");
    built.assert_output_contains("Build step `translations`: python tools/compile_messages.py");
    built.assert_output_contains("compiled 1 messages");
    built.assert_output_contains("Build step `bin/post_compile`: bin/post_compile");
    built.assert_output_contains("post_compile wrote post_compile.txt");
    let first = page(&image);
    assert_eq!(field(&first, "greeting"), "Hallo", "{first}");
    assert!(field(&first, "post_compile").starts_with("flask 3."), "{first}");
    let stamp = field(&first, "compiled_at");
    // The launch step's program is on PATH in the image, for jobs too.
    let (code, stdout, stderr) = Run::toolforge(&image.0).launcher(&["step-helper"]).output();
    assert_eq!(
        (code, stdout.as_str()),
        (0, "helper from a build step\n"),
        "{stderr}"
    );

    // Nothing changed: the step does not run; its outputs come back from the cache.
    let rebuilt = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    rebuilt.assert_output_contains(
        "Build step `translations`: inputs unchanged (2 files), outputs restored from the cache: compiled/",
    );
    assert!(
        !rebuilt.output.contains("compiled 1 messages"),
        "{}",
        rebuilt.output
    );
    let again = page(&image);
    assert_eq!(field(&again, "compiled_at"), stamp, "{again}");
    let (code, stdout, _) = Run::toolforge(&image.0).launcher(&["step-helper"]).output();
    assert_eq!((code, stdout.as_str()), (0, "helper from a build step\n"));

    // A changed input: the step runs again.
    std::fs::write(
        app.path().join("locale/de/messages.po"),
        "msgid \"greeting\"\nmsgstr \"Servus\"\n",
    )
    .unwrap();
    let changed = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    changed.assert_output_contains("Not reusing cached outputs: its inputs changed");
    changed.assert_output_contains("compiled 1 messages");
    let after = page(&image);
    assert_eq!(field(&after, "greeting"), "Servus", "{after}");
    assert_ne!(field(&after, "compiled_at"), stamp, "{after}");
}

/// A Procfile-only app (no language) with `project.toml`, for the steps' checks and failures.
fn procfile_app(project_toml: &str) -> tempfile::TempDir {
    let app = app_with_files(&[("project.toml", project_toml.as_bytes())]);
    for file in ["Procfile", "server.pl"] {
        std::fs::copy(fixture("procfile-web").join(file), app.path().join(file)).expect("the fixture's file");
    }
    app
}

#[test]
fn bad_steps_fail_with_one_error_each() {
    let cases: [(&str, &[&str]); 3] = [
        (
            "[[org.toolforge.build.steps]]\nname = \"docs\"\nrun = \"echo building the docs; echo no sphinx here >&2; exit 3\"\n",
            &["Build step `docs` failed", "no sphinx here", "exit code 3"],
        ),
        (
            "[[org.toolforge.build.steps]]\nname = \"docs\"\nrun = \"true\"\nafter = \"python\"\n",
            &[
                "A build step needs a language the build did not build (project.toml, line 4)",
                "no language",
            ],
        ),
        (
            "[[org.toolforge.build.steps]]\nname = \"docs\"\nrun = \"true\"\ninput = [\"docs/**\"]\n",
            &["project.toml, line 4", "input"],
        ),
    ];
    for (project_toml, expected) in cases {
        let app = procfile_app(project_toml);
        let built = mirrored_build(app.path(), "steps-bad");
        drop(Image(built.image.clone()));
        built.assert_one_error(expected);
    }
}

#[test]
fn inline_buildpacks_get_a_warning_with_the_equivalent_steps() {
    // Toolforge's build service runs the lifecycle with the builder's order, which ignores the
    // groups of project.toml; pack would build with them, so it is given an empty descriptor,
    // as the lifecycle sees the app.
    let app = procfile_app(
        "[_]\nschema-version = \"0.2\"\n\n[[io.buildpacks.group]]\nid = \"me/docs\"\n\n[io.buildpacks.group.script]\napi = \"0.10\"\ninline = \"make docs\"\n\n[[org.toolforge.build.steps]]\nname = \"glob\"\nrun = \"true\"\ninputs = [\"docs/**\"]\n",
    );
    let descriptor = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(descriptor.path(), "[_]\nschema-version = \"0.2\"\n").unwrap();
    let descriptor = descriptor.path().display().to_string();
    let built = mirrored_build_into(
        app.path(),
        &toolforge_tests::unique_image_name("steps-inline"),
        &["--descriptor", &descriptor],
    )
    .expect_success();
    drop(Image(built.image.clone()));
    built.assert_output_contains("project.toml declares 1 inline buildpack");
    built.assert_output_contains("Toolforge's build service runs the lifecycle, which ignores them");
    built.assert_output_contains("name = \"docs\"");
    built.assert_output_contains("make docs");
    built.assert_output_contains("Build step `glob`: the input `docs/**` matches no file of the app.");
}

#[test]
fn herokus_nodejs_hooks_run_where_heroku_runs_them() {
    let (built, image) = mirrored_build_ok(&fixture("nodejs-heroku-hooks"), "nodejs-heroku-hooks");
    built.assert_output_contains(
        "Running the `heroku-prebuild` script (before installing dependencies, as on Heroku)",
    );
    built.assert_output_contains("Running the `heroku-postbuild` script (instead of `build`, as on Heroku)");
    built.assert_output_contains(
        "Running the `heroku-cleanup` script (after removing development dependencies, as on Heroku)",
    );
    let body = page(&image);
    assert!(
        body.contains("prebuild=yes build=no postbuild=yes cleanup=yes\n"),
        "{body}"
    );
    assert!(body.contains("is_number_at_prebuild=absent\n"), "{body}");
    assert!(body.contains("is_number_at_postbuild=present\n"), "{body}");
    assert!(body.contains("is_number_at_cleanup=absent\n"), "{body}");
}

#[test]
fn composers_compile_script_runs_after_the_install_as_on_heroku() {
    let (built, image) = mirrored_build_ok(&fixture("php-composer-compile"), "php-composer-compile");
    built.assert_output_contains("Running composer.json's `compile` script");
    let body = page(&image);
    assert!(
        body.contains("fixture=php-composer-compile\ncompiled=yes\n"),
        "{body}"
    );
}
