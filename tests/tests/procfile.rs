//! toolforge/procfile, end to end: real pack, real lifecycle, images run as Toolforge runs tools.

use toolforge_tests::{Image, Run, app_with_files, build, fixture, image_layers, pack_build};

#[test]
fn web_process_serves_as_the_tool_user_and_jobs_start_through_the_launcher() {
    let built = build(&fixture("procfile-web"), "procfile-web").expect_success();
    let image = Image(built.image.clone());
    built.assert_output_contains("web: perl server.pl (default)");
    built.assert_output_contains("Setting default process type 'web'");
    built.assert_output_contains("Start check: web process started: listening on port 8000 after");
    // The lifecycle we build carries its SBOMs, so the exporter has nothing to warn about.
    assert!(!built.output.contains("Did not find SBOM"), "{}", built.output);

    // The web process by name, as `webservice` starts it: uid 52503 with no passwd entry, PORT 8000.
    let web = Run::toolforge(&image.0).process("web").start();
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}");
    for line in ["uid=52503", "gid=52503", "port=8000", "cwd=/workspace"] {
        assert!(body.lines().any(|l| l == line), "missing {line:?} in:\n{body}");
    }
    drop(web);

    // The default process is web.
    let default = Run::toolforge(&image.0).start();
    assert_eq!(default.get("/").0, 200);
    drop(default);

    // A job as Toolforge starts it: `launcher COMMAND`.
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .launcher(&["bash", "-c", "echo uid=$(id -u) port=$PORT; pwd"])
        .output();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "uid=52503 port=8000\n/workspace\n");

    // `launcher NAME` runs the Procfile's process NAME, with arguments.
    let (code, stdout, stderr) = Run::toolforge(&image.0).launcher(&["worker", "nightly"]).output();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "worker ran as uid 52503 with argument nightly\n");
    // And `--entrypoint NAME` the same process.
    let (code, stdout, stderr) = Run::toolforge(&image.0).process("update").output();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "update: the colon in this command stays\n");

    // An unknown process name says which processes exist.
    let (code, _, stderr) = Run::toolforge(&image.0).launcher(&["wrker"]).output();
    assert_eq!(code, 127);
    assert!(
        stderr.contains(
            "bash: wrker: command not found. It is no command on PATH and no process in the Procfile, \
             whose processes are: web, worker, update."
        ),
        "{stderr}"
    );

    // A rebuild with nothing changed reuses every layer: the image is the same.
    let layers = image_layers(&image.0);
    let rebuilt = pack_build(
        &fixture("procfile-web"),
        &image.0,
        &toolforge_tests::builder(),
        &[],
    )
    .expect_success();
    for reused in [
        "Reusing layer 'toolforge/procfile:processes'",
        "Reused 1/1 app layer(s)",
        "Reusing layer 'buildpacksio/lifecycle:launcher'",
        "Reusing layer 'buildpacksio/lifecycle:process-types'",
    ] {
        rebuilt.assert_output_contains(reused);
    }
    assert_eq!(
        image_layers(&image.0),
        layers,
        "the rebuilt image has different layers"
    );
}

#[test]
fn job_only_procfile_has_no_default_process() {
    let app = app_with_files(&[("Procfile", b"update: echo updated as $(id -u)\n")]);
    let built = build(app.path(), "procfile-jobs").expect_success();
    let image = Image(built.image.clone());
    built.assert_output_contains("No `web` process, so the image has no default process");
    built.assert_output_contains("no default process type");

    let (code, stdout, stderr) = Run::toolforge(&image.0).launcher(&["update"]).output();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "updated as 52503\n");
}

#[test]
fn duplicate_process_warns_and_the_later_line_wins() {
    let app = app_with_files(&[("Procfile", b"web: echo first\r\nweb: echo second\r\n")]);
    let built = build(app.path(), "procfile-duplicate").expect_success();
    let image = Image(built.image.clone());
    built.assert_output_contains("Procfile lines 1 and 2 both define `web`; line 2 is used.");
    let (_, stdout, _) = Run::toolforge(&image.0).process("web").output();
    assert_eq!(stdout, "second\n");
}

/// Builds a bad app and checks the build fails with exactly one rendered error naming the
/// file, the line and the fix.
fn assert_build_fails_with(files: &[(&str, &[u8])], expected: &[&str]) {
    let app = app_with_files(files);
    let built = build(app.path(), "procfile-bad");
    let _image = Image(built.image.clone());
    built.assert_one_error(expected);
}

#[test]
fn malformed_procfile_fails_with_line_and_fix() {
    assert_build_fails_with(
        &[(
            "Procfile",
            b"# the web service\nweb gunicorn --bind 0.0.0.0:$PORT app:app\n",
        )],
        &[
            "! ERROR: Invalid process name in Procfile (Procfile, line 2)",
            "!     web gunicorn --bind 0.0.0.0:$PORT app:app",
            "! To fix: if `web` is the process name, add a colon after it:",
        ],
    );
}

#[test]
fn empty_procfile_fails() {
    assert_build_fails_with(
        &[("Procfile", b"# nothing here yet\n\n")],
        &[
            "! ERROR: Empty Procfile (Procfile)",
            "The Procfile defines no process",
        ],
    );
}

#[test]
fn invalid_process_name_fails() {
    assert_build_fails_with(
        &[("Procfile", "web: ok\nmy_job\u{e9}: run\n".as_bytes())],
        &[
            "! ERROR: Invalid process name in Procfile (Procfile, line 2)",
            "The name `my_job\u{e9}` contains `\u{e9}`",
            "! To fix: rename the process, for example `my-job: run`.",
        ],
    );
}

#[test]
fn misnamed_procfile_fails_with_the_rename() {
    assert_build_fails_with(
        &[("procfile", b"web: ok\n")],
        &[
            "! ERROR: Misnamed Procfile (procfile)",
            "`git mv procfile Procfile`",
        ],
    );
}

#[test]
fn procfile_that_is_not_utf8_fails() {
    assert_build_fails_with(
        &[("Procfile", b"web: ok\nworker: caf\xe9\n")],
        &["! ERROR: Invalid Procfile (Procfile, line 2)", "not valid UTF-8"],
    );
}

#[test]
fn app_without_procfile_fails_detection() {
    let app = app_with_files(&[("README", b"nothing to build\n")]);
    let built = build(app.path(), "procfile-none").expect_failure();
    let _image = Image(built.image.clone());
    built.assert_output_contains("No buildpack groups passed detection.");
}
