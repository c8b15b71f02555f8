//! toolforge/go, end to end: real pack and lifecycle, Go toolchains from the mirror that packaging
//! assembles from the Go module proxy's toolchain modules, modules from the proxy, images run as
//! Toolforge runs tools (uid 52503, read-only root but /tmp).

use toolforge_tests::{
    Image, Run, WebContainer, app_with_files, fixture, fixture_copy, mirrored_build, mirrored_build_into,
    mirrored_build_ok,
};

/// A file of a throwaway app: its name and contents.
type AppFile<'a> = (&'a str, &'a [u8]);

fn serve(image: &Image) -> WebContainer {
    Run::toolforge(&image.0).process("web").read_only().start()
}

/// Asserts the `/` page of a Go fixture: its name, the tool's uid and the Go minor version.
fn assert_go_index(web: &WebContainer, fixture: &str, go_minor: &str) -> String {
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}\n{}", web.logs());
    assert!(body.contains(&format!("fixture={fixture}\n")), "{body}");
    assert!(body.contains("uid=52503\n"), "{body}");
    assert!(body.contains(&format!("go=go{go_minor}.")), "{body}");
    body
}

/// Asserts the image has no Go toolchain: it is build-time only.
fn assert_no_toolchain(image: &Image) {
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .launcher(&["command -v go || echo no go"])
        .output();
    assert_eq!((code, stdout.trim()), (0, "no go"), "{stderr}");
}

#[test]
fn hello_without_dependencies_serves_and_rebuilds_from_the_caches() {
    let app = fixture_copy("go-hello");
    let (built, image) = mirrored_build_ok(app.path(), "go-hello");
    built.assert_output_contains("- Go 1.27.");
    built.assert_output_contains("from go.mod");
    let web = serve(&image);
    assert_go_index(&web, "go-hello", "1.27");
    drop(web);
    assert_no_toolchain(&image);

    // No change: the toolchain and the build cache come back; nothing is downloaded.
    let rebuilt = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    rebuilt.assert_output_contains("Reusing Go 1.27.");
    assert!(!rebuilt.output.contains("Downloading Go"), "{}", rebuilt.output);
    let web = serve(&image);
    assert_go_index(&web, "go-hello", "1.27");
}

#[test]
fn router_with_dependencies_from_the_proxy_on_an_older_minor() {
    let app = fixture("go-chi");
    let (built, image) = mirrored_build_ok(&app, "go-chi");
    built.assert_output_contains("- Go 1.24.");
    let web = serve(&image);
    assert_go_index(&web, "go-chi", "1.24");
    assert_eq!(
        web.get("/hello/toolforge"),
        (200, "hello toolforge\n".to_string())
    );
    drop(web);
    assert_no_toolchain(&image);
    // No change: the module cache has chi; nothing is downloaded.
    let rebuilt = mirrored_build_into(&app, &image.0, &[]).expect_success();
    assert!(!rebuilt.output.contains("go: downloading"), "{}", rebuilt.output);
}

#[test]
fn a_procfile_with_herokus_go_path_runs_the_binary_by_name() {
    let app = fixture_copy("go-hello");
    std::fs::write(
        app.path().join("Procfile"),
        "web: /layers/heroku_go/go_target/bin/go-hello\n",
    )
    .unwrap();
    let (built, image) = mirrored_build_ok(app.path(), "go-heroku-path");
    built.assert_output_contains("Procfile line 1 starts `/layers/heroku_go/go_target/bin/go-hello`");
    let web = serve(&image);
    assert_go_index(&web, "go-hello", "1.27");
}

#[test]
fn the_toolchain_line_wins_over_the_go_line() {
    let (built, image) = mirrored_build_ok(&fixture("go-toolchain"), "go-toolchain");
    built.assert_output_contains("toolchain");
    let web = serve(&image);
    assert_go_index(&web, "go-toolchain", "1.27");
}

#[test]
fn two_commands_with_a_procfile_and_herokus_install_comment() {
    let (_built, image) = mirrored_build_ok(&fixture("go-two-commands"), "go-two-commands");
    let web = serve(&image);
    assert_go_index(&web, "go-two-commands", "1.27");
    drop(web);
    // The job by its binary name, through the launcher; tools/gen was not built.
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .read_only()
        .launcher(&["updater --once; command -v gen || echo no gen"])
        .output();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "updater ran once=true\nno gen\n");
    let (code, stdout, stderr) = Run::toolforge(&image.0).process("updater").output();
    assert_eq!(
        (code, stdout.as_str()),
        (0, "updater ran once=true\n"),
        "{stderr}"
    );
}

#[test]
fn vendored_app_builds_without_the_proxy() {
    let (_built, image) = {
        let built = mirrored_build_into(
            &fixture("go-vendored"),
            &toolforge_tests::unique_image_name("go-vendored"),
            &["--env", "GOPROXY=off"],
        )
        .expect_success();
        let image = Image(built.image.clone());
        (built, image)
    };
    let web = serve(&image);
    let body = assert_go_index(&web, "go-vendored", "1.24");
    assert!(body.contains("uuid=") && body.lines().count() >= 4, "{body}");
}

#[test]
fn cgo_sqlite_runs_against_the_run_images_libraries() {
    let (_built, image) = mirrored_build_ok(&fixture("go-sqlite"), "go-sqlite");
    let web = serve(&image);
    let body = assert_go_index(&web, "go-sqlite", "1.24");
    assert!(body.contains("sqlite=3."), "{body}");
    // Each request adds a row (the harness's readiness probe too): the next one sees one more.
    let visits = |page: &str| -> u32 {
        page.lines()
            .find_map(|line| line.strip_prefix("visits="))
            .and_then(|count| count.parse().ok())
            .unwrap_or_else(|| panic!("no visits in {page}"))
    };
    let (_, again) = web.get("/");
    assert_eq!(visits(&again), visits(&body) + 1, "{again}");
}

#[test]
fn bad_go_apps_fail_with_one_error_each() {
    let cases: [(&[AppFile], &[&str]); 5] = [
        (
            &[
                (
                    "go.mod",
                    b"module example.org/x\n\ngo 1.24\n\nrequir example.org/y v1.0.0\n",
                ),
                ("main.go", b"package main\nfunc main() {}\n"),
            ],
            &["go.mod:5: unknown directive: requir"],
        ),
        (
            &[
                ("go.mod", b"module example.org/x\n\ngo 1.99\n"),
                ("main.go", b"package main\nfunc main() {}\n"),
            ],
            &["go.mod, line 3", "1.27", "1.24"],
        ),
        (
            &[
                (
                    "go.mod",
                    b"module example.org/x\n\ngo 1.24\n\nrequire example.org/does-not-exist v1.0.0\n",
                ),
                (
                    "main.go",
                    b"package main\nimport _ \"example.org/does-not-exist\"\nfunc main() {}\n",
                ),
            ],
            &["example.org/does-not-exist"],
        ),
        (
            &[
                ("go.mod", b"module example.org/x\n\ngo 1.24\n"),
                ("main.go", b"package main\nfunc main() { undefined() }\n"),
            ],
            &["undefined: undefined"],
        ),
        (
            &[
                ("go.mod", b"module example.org/x\n\ngo 1.24\n"),
                ("lib.go", b"package x\n"),
            ],
            &["No Go main package"],
        ),
    ];
    for (files, expected) in cases {
        let app = app_with_files(files);
        let built = mirrored_build(app.path(), "go-bad");
        drop(Image(built.image.clone()));
        built.assert_one_error(expected);
    }
}
