//! toolforge/apt, end to end: packages from Debian's archive (the stack's own signed sources),
//! resolved against the run image, in images run as Toolforge runs tools (uid 52503, read-only
//! but /tmp).

use std::path::Path;
use toolforge_tests::{
    Build, Image, Run, app_with_files, builder, fixture, fixture_copy, mirrored_build, mirrored_build_into,
    pack_build, unique_image_name,
};

/// The apt buildpack's section of the log: from its header to the next buildpack's.
fn apt_section(output: &str) -> &str {
    let start = output
        .find("## Debian packages (toolforge/apt)")
        .unwrap_or_else(|| panic!("no toolforge/apt section in:\n{output}"));
    let rest = &output[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |end| end + 3);
    &rest[..end]
}

/// The first log line containing `text`.
fn line_with<'a>(output: &'a str, text: &str) -> &'a str {
    output
        .lines()
        .find(|line| line.contains(text))
        .unwrap_or_else(|| panic!("no line with {text:?} in:\n{output}"))
}

#[test]
fn ffmpeg_and_dot_run_from_the_web_handler_and_a_rebuild_downloads_nothing() {
    let app = fixture_copy("apt-ffmpeg-graphviz");
    let built = mirrored_build(app.path(), "apt-ffmpeg-graphviz").expect_success();
    let image = Image(built.image.clone());
    let section = apt_section(&built.output);
    assert!(
        section.contains("Packages from project.toml [org.toolforge.apt]: ffmpeg, graphviz"),
        "{section}"
    );
    assert!(
        section.contains("Refreshing the Debian package index (first build)"),
        "{section}"
    );
    // Extra dependencies are listed under the requested package that pulled them in.
    assert!(
        line_with(section, "for ffmpeg (").contains("libavcodec61"),
        "{section}"
    );
    assert!(
        line_with(section, "for graphviz (").contains("libgvc6"),
        "{section}"
    );
    assert!(section.contains("Downloading "), "{section}");
    let size_line = line_with(section, " packages add ");
    // Without pack's timestamp.
    let size_line = size_line[size_line.find("- ").unwrap_or(0)..].to_string();

    let web = Run::toolforge(&image.0).process("web").read_only().start();
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}\n{}", web.logs());
    assert!(
        body.contains("uid=52503\nfixture=apt-ffmpeg-graphviz\n"),
        "{body}"
    );
    let (status, body) = web.get("/ffmpeg");
    assert_eq!(status, 200, "{body}\n{}", web.logs());
    assert!(body.starts_with("ffmpeg version 7."), "{body}");
    let (status, body) = web.get("/dot");
    assert_eq!(status, 200, "{body}\n{}", web.logs());
    assert!(body.contains("<svg") && body.contains("toolforge"), "{body}");
    drop(web);

    // Unchanged: the index and the packages come from the cache, nothing is downloaded.
    let rebuilt = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    let section = apt_section(&rebuilt.output);
    assert!(
        section.contains("Using the cached Debian package index"),
        "{section}"
    );
    assert!(section.contains("Reusing packages from the cache"), "{section}");
    assert!(!section.contains("Downloading"), "{section}");
    assert!(!section.contains("Refreshing"), "{section}");
    eprintln!(
        "apt-ffmpeg-graphviz: cold build {:.1}s, warm build {:.1}s; {}",
        built.duration.as_secs_f64(),
        rebuilt.duration.as_secs_f64(),
        size_line.trim()
    );
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .read_only()
        .launcher(&[
            "bash",
            "-c",
            "ffmpeg -hide_banner -version | head -1; command -v dot",
        ])
        .output();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("/layers/toolforge_apt/packages/usr/bin/dot"),
        "{stdout}"
    );
}

#[test]
fn python_extension_compiles_against_a_dev_package_and_loads_at_run_time() {
    let app = fixture_copy("apt-pygraphviz");
    let built = mirrored_build(app.path(), "apt-pygraphviz").expect_success();
    let image = Image(built.image.clone());
    built.assert_output_contains("Packages from project.toml [org.toolforge.apt]: libgraphviz-dev");
    // pip built it here, against the layer's headers (no wheel exists).
    built.assert_output_contains("Building wheel for pygraphviz");
    let web = Run::toolforge(&image.0).process("web").read_only().start();
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}\n{}", web.logs());
    assert!(body.contains("fixture=apt-pygraphviz\n"), "{body}");
    assert!(body.contains("edges=1\n"), "{body}");
    drop(web);

    // Without the -dev package a cold build cannot compile pygraphviz, so neither can a rebuild:
    // the virtual environment and pip's cache of the wheel it built were made against the removed
    // package, and are not reused (reusing them made an image whose import fails at run time).
    std::fs::write(app.path().join("project.toml"), "[_]\nschema-version = \"0.2\"\n").unwrap();
    let rebuilt = mirrored_build_into(app.path(), &image.0, &[]).expect_failure();
    rebuilt.assert_output_contains("Not reusing the previous image's dependencies: Debian packages removed");
    rebuilt.assert_output_contains("Building wheel for pygraphviz");
    assert!(
        !rebuilt.output.contains("Using cached pygraphviz"),
        "{}",
        rebuilt.output
    );
}

#[test]
fn aptfile_migration_installs_what_only_the_build_image_has() {
    let app = fixture_copy("apt-aptfile");
    let app = app.path();
    let image = Image(unique_image_name("apt-aptfile"));
    // A quota below the run image's size: the build warns, and goes on.
    let built = pack_build(
        app,
        &image.0,
        &builder(),
        &["--env", "TOOLFORGE_IMAGE_QUOTA_MIB=1"],
    )
    .expect_success();
    let section = apt_section(&built.output);
    assert!(section.contains("Packages from Aptfile: make, jq"), "{section}");
    // make is in the build image, not in the run image: installed, not skipped.
    assert!(
        !section.contains("make: the run image has it already"),
        "{section}"
    );
    assert!(line_with(section, "  - make ").contains("make 4."), "{section}");
    assert!(line_with(section, "for jq (").contains("libjq1"), "{section}");
    assert!(section.contains("WARNING: The Debian packages add"), "{section}");
    assert!(section.contains("Toolforge's image quota of 1 MiB"), "{section}");

    let (code, stdout, stderr) = Run::toolforge(&image.0).read_only().launcher(&["check"]).output();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("GNU Make 4."), "{stdout}");
    assert!(stdout.contains("jq-1."), "{stdout}");

    // A changed list refreshes the index and reinstalls, saying why; the .deb files it still
    // needs come from the download cache.
    std::fs::write(app.join("Aptfile"), "make\n").unwrap();
    std::fs::write(app.join("Procfile"), "check: make --version\n").unwrap();
    let changed = pack_build(app, &image.0, &builder(), &[]).expect_success();
    let section = apt_section(&changed.output);
    assert!(
        section.contains("Refreshing the Debian package index (the package list changed)"),
        "{section}"
    );
    assert!(
        section.contains("Not reusing cached packages: jq removed"),
        "{section}"
    );
    assert!(
        section.contains("Downloading 0 packages from Debian (1 already in the download cache)"),
        "{section}"
    );
    let (code, stdout, stderr) = Run::toolforge(&image.0).read_only().launcher(&["check"]).output();
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn heroku_table_and_alternatives() {
    let built = toolforge_tests::build(&fixture("apt-heroku"), "apt-heroku").expect_success();
    let image = Image(built.image.clone());
    let section = apt_section(&built.output);
    assert!(
        section.contains("Packages from project.toml [com.heroku.buildpacks.deb-packages]: imagemagick"),
        "{section}"
    );
    assert!(
        section.contains("alternative /usr/bin/convert → /usr/bin/convert-im7.q16"),
        "{section}"
    );
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .read_only()
        .launcher(&["thumbnail"])
        .output();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("/tmp/red.png PNG 8x8 8x8+0+0"), "{stdout}");
}

#[test]
fn libc6_dev_is_installed_without_a_second_c_library() {
    let built = toolforge_tests::build(&fixture("apt-libc6-dev"), "apt-libc6-dev");
    let image = Image(built.image.clone());
    if !built.success {
        // The one acceptable failure: the run image's C library is older than the archive's and
        // the archive no longer has a libc6-dev made for it.
        built.assert_one_error(&[
            "! ERROR: The packages need a newer C library than the run image's",
            "`libc6-dev` needs libc6",
        ]);
        return;
    }
    let section = apt_section(&built.output);
    assert!(section.contains("Packages from Aptfile: libc6-dev"), "{section}");
    assert!(
        line_with(section, "  - libc6-dev ").contains("libc6-dev 2."),
        "{section}"
    );
    let dependencies = line_with(section, "for libc6-dev (");
    assert!(
        !dependencies
            .split([' ', ','])
            .any(|name| name == "libc6" || name == "libc-bin"),
        "{section}"
    );
    assert!(!section.contains("replaces the run image's"), "{section}");

    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .read_only()
        .launcher(&[
            "bash",
            "-c",
            "id -u; find /layers/toolforge_apt/packages -name 'libc.so.6' -o -name 'ld-linux*' -o -name ldconfig; \
             test -f /layers/toolforge_apt/packages/usr/include/stdio.h && echo headers",
        ])
        .output();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "52503\nheaders\n", "{stderr}");
    let (code, stdout, stderr) = Run::toolforge(&image.0).read_only().launcher(&["check"]).output();
    assert_eq!((code, stdout.as_str()), (0, "52503\n"), "{stderr}");
}

#[test]
fn a_layer_whose_font_cache_failed_is_installed_again() {
    let app = fixture("apt-fontconfig");
    let image = Image(unique_image_name("apt-fontconfig"));
    // fontconfig's own variable points fc-cache at a configuration whose cache directory cannot
    // be written: fc-cache fails, the build warns and goes on.
    let broken = pack_build(
        &app,
        &image.0,
        &builder(),
        &["--env", "FONTCONFIG_FILE=/workspace/unwritable-cache.conf"],
    )
    .expect_success();
    let section = apt_section(&broken.output);
    assert!(section.contains("fc-cache failed:"), "{section}");

    // Same packages, same stack: the layer is installed again, not reused without its cache.
    let rebuilt = pack_build(&app, &image.0, &builder(), &[]).expect_success();
    let section = apt_section(&rebuilt.output);
    assert!(
        section.contains("Not reusing cached packages: fc-cache failed when they were installed"),
        "{section}"
    );
    assert!(!section.contains("fc-cache failed:"), "{section}");

    // Complete now: reused.
    let again = pack_build(&app, &image.0, &builder(), &[]).expect_success();
    let section = apt_section(&again.output);
    assert!(section.contains("Reusing packages from the cache"), "{section}");
    let (code, stdout, stderr) = Run::toolforge(&image.0).read_only().launcher(&["check"]).output();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.ends_with("52503\n"), "{stdout}{stderr}");
}

/// Builds a bad app (with a Procfile, so that a group passes detection): it must fail with
/// exactly one of our errors containing `expected`.
fn assert_fails_with(files: &[(&str, &[u8])], expected: &[&str]) -> Build {
    let mut files = files.to_vec();
    files.push(("Procfile", b"job: true\n"));
    let app = app_with_files(&files);
    let built = toolforge_tests::build(app.path(), "apt-bad");
    let _image = Image(built.image.clone());
    built.assert_one_error(expected);
    built
}

#[test]
fn unknown_package_suggests_close_names() {
    assert_fails_with(
        &[("Aptfile", b"# video\nffmepg\n")],
        &[
            "! ERROR: Unknown Debian package (Aptfile, line 2)",
            "There is no package `ffmepg` in Debian 13 (trixie).",
            "close names are: ffmpeg",
        ],
    );
}

/// An Aptfile written for Ubuntu 22.04: every name trixie lacks in one error, each on its line,
/// with trixie's package of the same library where the index has one.
#[test]
fn every_unknown_package_is_reported_on_its_line() {
    assert_fails_with(
        &[(
            "Aptfile",
            b"# written for Ubuntu 22.04\nlibtiff5\nlibjpeg-turbo8\nffmpeg\nlibssl1.1\npython3.8\nlibicu70\nlibffi7\nlibvpx7\n",
        )],
        &[
            "! ERROR: Unknown Debian packages (Aptfile)",
            "None of these 7 packages is in Debian 13 (trixie):",
            "- `libtiff5` (Aptfile, line 2): trixie has `libtiff6`",
            "- `libjpeg-turbo8` (Aptfile, line 3): trixie has `libjpeg62-turbo`",
            "- `libssl1.1` (Aptfile, line 5): trixie has",
            "- `python3.8` (Aptfile, line 6): trixie has `python3`",
            "- `libicu70` (Aptfile, line 7): trixie has",
            "- `libffi7` (Aptfile, line 8): trixie has `libffi8`",
            "- `libvpx7` (Aptfile, line 9): trixie has `libvpx9`",
        ],
    );
}

#[test]
fn version_that_does_not_exist() {
    assert_fails_with(
        &[(
            "project.toml",
            b"[org.toolforge.apt]\npackages = [\n  { name = \"make\", version = \"1.0\" },\n]\n",
        )],
        &[
            "! ERROR: Package version not available (project.toml, line 3)",
            "There is no version 1.0 of `make`",
            "they have 4.",
        ],
    );
}

#[test]
fn custom_repositories_and_deb_urls_are_refused() {
    assert_fails_with(
        &[(
            "Aptfile",
            b"ffmpeg\n:repo:deb http://apt.example.org/debian stable main\n",
        )],
        &[
            "! ERROR: Custom package repositories are not supported (Aptfile, line 2)",
            "Only packages of the stack's own Debian",
        ],
    );
    assert_fails_with(
        &[(
            "project.toml",
            b"[com.heroku.buildpacks.deb-packages]\ninstall = [\"x\"]\n\n[[com.heroku.buildpacks.deb-packages.sources]]\nuris = [\"http://apt.example.org\"]\n",
        )],
        &["! ERROR: Custom package repositories are not supported (project.toml, line 4)"],
    );
    assert_fails_with(
        &[("Aptfile", b"https://example.org/tool_1.0_amd64.deb\n")],
        &["! ERROR: Packages by URL are not supported (Aptfile, line 1)"],
    );
}

#[test]
fn malformed_project_toml_names_file_line_and_key() {
    // Valid TOML (pack reads project.toml too, and stops at a syntax error before any buildpack
    // runs), but not the shape the table must have.
    assert_fails_with(
        &[(
            "project.toml",
            b"[_]\nschema-version = \"0.2\"\n\n[org.toolforge.apt]\npackages = \"ffmpeg\"\n",
        )],
        &[
            "! ERROR: Invalid project.toml (project.toml, line 5)",
            "`org.toolforge.apt.packages`: invalid type: string \"ffmpeg\",",
            "!     packages = \"ffmpeg\"",
        ],
    );
}

#[test]
fn apps_without_packages_do_not_run_the_buildpack() {
    let built = toolforge_tests::build(Path::new(&fixture("procfile-web")), "apt-none").expect_success();
    let _image = Image(built.image.clone());
    assert!(!built.output.contains("toolforge/apt)"), "{}", built.output);
}
