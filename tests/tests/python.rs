//! toolforge/python, end to end: real pack and lifecycle, CPython from the self-built mirror,
//! packages from PyPI, images run as Toolforge runs tools (uid 52503, read-only but /tmp).

use std::path::Path;
use toolforge_tests::file_server::FileServer;
use toolforge_tests::{
    Build, Image, Run, WebContainer, app_with_files, fixture, fixture_copy, mirrored_build,
    mirrored_build_into, mirrored_build_ok,
};

/// Runs the image's web process as Toolforge does, on a read-only root.
fn serve(image: &Image) -> WebContainer {
    Run::toolforge(&image.0).process("web").read_only().start()
}

/// Asserts the `/` page of a fixture: its name, the tool's uid and the Python minor version.
fn assert_index(web: &WebContainer, fixture: &str, python_minor: &str) -> String {
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}\n{}", web.logs());
    assert!(body.contains(&format!("fixture={fixture}\n")), "{body}");
    assert!(body.contains("uid=52503\n"), "{body}");
    assert!(body.contains(&format!("python={python_minor}.")), "{body}");
    body
}

#[test]
fn flask_with_pip_serves_and_rebuilds_without_installing() {
    let app = fixture_copy("python-flask-pip");
    let (built, image) = mirrored_build_ok(app.path(), "python-flask-pip");
    built.assert_output_contains("Dependencies: requirements.txt (installed with pip 26.3)");
    built.assert_output_contains("Python 3.13.");
    built.assert_output_contains("(3.13 from .python-version)");
    built.assert_output_contains("Installing dependencies with pip 26.3");

    let web = serve(&image);
    assert_index(&web, "python-flask-pip", "3.13");
    assert_eq!(web.get("/flask-version"), (200, "3.1.3\n".to_string()));
    drop(web);

    // A job through the launcher: the virtual environment is first on PATH, and its commands work.
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .read_only()
        .launcher(&[
            "bash",
            "-c",
            "command -v python gunicorn; python -c 'import sys, flask; print(sys.prefix)'; echo \"$PYTHONUNBUFFERED\"",
        ])
        .output();
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "/layers/toolforge_python/venv/bin/python",
            "/layers/toolforge_python/venv/bin/gunicorn",
            "/layers/toolforge_python/venv",
            "1",
        ],
        "{stderr}"
    );

    // No change: nothing is downloaded or installed again. Python and the environment are
    // launch-only layers kept from the previous image by their metadata (the build needs neither
    // after it), so the start check has no files to start the app with.
    let rebuilt = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    rebuilt.assert_output_contains("Reusing Python 3.13.");
    rebuilt.assert_output_contains("from the previous image");
    rebuilt.assert_output_contains("Reusing the previous image's dependencies (requirements.txt unchanged)");
    rebuilt.assert_output_contains("Start check: skipped");
    assert!(
        !rebuilt.output.contains("Installing dependencies with"),
        "{}",
        rebuilt.output
    );
    assert!(
        !rebuilt.output.contains("Downloading Python"),
        "{}",
        rebuilt.output
    );

    // An included requirements file changes: reinstalled, saying why. (That the download cache
    // is reused shows in the mysqlclient test: the PyPI mirror here sends no caching headers, so
    // pip keeps no HTTP cache of wheels, only of the wheels it builds.)
    let base = app.path().join("requirements/base.txt");
    let mut text = std::fs::read_to_string(&base).unwrap();
    text.push_str("# a comment changes the file\n");
    std::fs::write(&base, text).unwrap();
    // Python is installed again too: the environment is made with its files, which the previous
    // image's layer does not bring into the build.
    let changed = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    changed.assert_output_contains(
        "Not reusing the previous image's dependencies: requirements/base.txt changed",
    );
    changed.assert_output_contains("Installed Python 3.13.");
    let web = serve(&image);
    assert_index(&web, "python-flask-pip", "3.13");
}

#[test]
fn fastapi_with_uv_on_python_3_11() {
    let (built, image) = mirrored_build_ok(&fixture("python-fastapi-uv"), "python-fastapi-uv");
    built.assert_output_contains("Dependencies: uv.lock (installed with uv 0.13.9)");
    built.assert_output_contains("(3.11 from .python-version)");
    built.assert_output_contains(SETUPTOOLS_LINE);
    assert_index(&serve(&image), "python-fastapi-uv", "3.11");
    // uv's exact sync keeps the seed packages of an environment it did not create.
    assert_eq!(
        job(
            &image,
            "python -c 'import setuptools; print(setuptools.__version__)'"
        ),
        "65.5.0\n"
    );
}

/// Runs a bash script as a Toolforge job (`launcher`, uid 52503, read-only); returns its stdout.
fn job(image: &Image, script: &str) -> String {
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .read_only()
        .launcher(&["bash", "-c", script])
        .output();
    assert_eq!(code, 0, "{stdout}{stderr}");
    stdout
}

#[test]
fn the_apps_own_package_is_installed_from_the_current_source_at_every_build() {
    // A uv project with a [build-system]: uv installs it into the venv as a copy (src layout, a
    // console script), so a reused venv would run the code of the build that made it.
    let app = fixture_copy("python-uv-package");
    let message = app.path().join("src/greeting/__init__.py");
    let set_message = |text: &str| std::fs::write(&message, format!("MESSAGE = \"{text}\"\n")).unwrap();
    let (built, image) = mirrored_build_ok(app.path(), "python-uv-package");
    built.assert_output_contains("Dependencies: uv.lock (installed with uv 0.13.9)");
    // From /workspace, `greeting` is only importable from the venv (it is under src/).
    let greet = "greet; python -c 'import greeting; print(greeting.__file__)'";
    assert_eq!(
        job(&image, greet),
        "greeting 1\n/layers/toolforge_python/venv/lib/python3.13/site-packages/greeting/__init__.py\n"
    );

    // Only the code changes: the venv is reused, the app's own package is installed anew.
    set_message("greeting 2");
    let rebuilt = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    rebuilt.assert_output_contains("Reusing dependencies from the cache");
    rebuilt.assert_output_contains("Installing the app's own packages from its source: toolforge-greeting");
    assert!(job(&image, greet).starts_with("greeting 2\n"));

    // The console script renamed: the old one is gone.
    let pyproject = app.path().join("pyproject.toml");
    let text = std::fs::read_to_string(&pyproject).unwrap();
    std::fs::write(&pyproject, text.replace("greet = ", "hello = ")).unwrap();
    let renamed = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    renamed.assert_output_contains("Not reusing cached dependencies: pyproject.toml changed");
    assert_eq!(
        job(&image, "hello; command -v greet || echo no greet"),
        "greeting 2\nno greet\n"
    );

    // pip, with the app itself in requirements.txt (not editable): the same rule.
    std::fs::write(app.path().join("requirements.txt"), ".\n").unwrap();
    let with_pip = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    with_pip.assert_output_contains("Dependencies: requirements.txt (installed with pip 26.3)");
    assert!(job(&image, "hello").starts_with("greeting 2\n"));
    set_message("greeting 3");
    let rebuilt = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    rebuilt.assert_output_contains("Reusing dependencies from the cache");
    rebuilt.assert_output_contains("Installing the app's own packages from its source: .");
    assert_eq!(
        job(
            &image,
            "hello; python -c 'import greeting; print(greeting.__file__)'"
        ),
        "greeting 3\n/layers/toolforge_python/venv/lib/python3.13/site-packages/greeting/__init__.py\n"
    );
}

#[test]
fn poetry_app_gets_the_newest_python_its_project_allows() {
    let (built, image) = mirrored_build_ok(&fixture("python-poetry"), "python-poetry");
    built.assert_output_contains("Dependencies: poetry.lock (installed with poetry 2.5.1)");
    built.assert_output_contains("(>=3.13, <3.15 from pyproject.toml)");
    // The mirror has 3.13 and 3.11 (see packaging::mirror::TEST_PYTHON_MINORS).
    assert_index(&serve(&image), "python-poetry", "3.13");
}

#[test]
fn pipenv_app() {
    let (built, image) = mirrored_build_ok(&fixture("python-pipenv"), "python-pipenv");
    built.assert_output_contains("Dependencies: Pipfile.lock (installed with pipenv 2026.10.3)");
    assert_index(&serve(&image), "python-pipenv", "3.13");
}

const SETUPTOOLS_LINE: &str = "setuptools 65.5.0 (bundled with Python 3.11, as python -m venv gives it)";

#[test]
fn python_3_11_environment_has_setuptools_as_python_m_venv_gives_it() {
    // gunicorn 20 imports pkg_resources at start: on 3.11, `python -m venv` gives setuptools.
    let app = fixture_copy("python-setuptools-parity");
    let (built, image) = mirrored_build_ok(app.path(), "python-setuptools-parity");
    built.assert_output_contains("(3.11 from .python-version)");
    built.assert_output_contains(SETUPTOOLS_LINE);
    let (code, stdout, stderr) = Run::toolforge(&image.0).read_only().launcher(&["check"]).output();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "ok\n", "{stderr}");
    // pip is not in the environment (see the buildpack's README).
    assert_eq!(
        job(&image, "python -m pip --version 2>/dev/null || echo no pip"),
        "no pip\n"
    );

    // The app's own setuptools requirement wins over the bundled one.
    std::fs::write(app.path().join("requirements.txt"), "setuptools>=70\n").unwrap();
    let own = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    own.assert_output_contains("Not reusing the previous image's dependencies: requirements.txt changed");
    own.assert_output_contains(SETUPTOOLS_LINE);
    let version = job(
        &image,
        "python -c 'import setuptools; print(setuptools.__version__)'",
    );
    let major: u32 = version.split('.').next().unwrap().parse().unwrap();
    assert!(major >= 70, "{version}");
}

#[test]
fn python_3_13_environment_has_no_setuptools_as_python_m_venv_gives_none() {
    let app = fixture_copy("python-setuptools-parity");
    std::fs::write(app.path().join(".python-version"), "3.13\n").unwrap();
    let (built, image) = mirrored_build_ok(app.path(), "python-setuptools-parity-313");
    built.assert_output_contains("(3.13 from .python-version)");
    assert!(!built.output.contains("bundled with Python"), "{}", built.output);
    let (code, stdout, stderr) = Run::toolforge(&image.0).read_only().launcher(&["check"]).output();
    assert_ne!(code, 0, "{stdout}{stderr}");
    assert!(
        stderr.contains("No module named 'pkg_resources'"),
        "{stdout}{stderr}"
    );
}

#[test]
fn django_static_files_are_collected_at_build_time() {
    let (built, image) = mirrored_build_ok(&fixture("python-django"), "python-django");
    built.assert_output_contains(
        "Build step `Django collectstatic`: python manage.py collectstatic --noinput",
    );
    let web = serve(&image);
    let body = assert_index(&web, "python-django", "3.13");
    let static_url = body
        .lines()
        .find_map(|line| line.strip_prefix("static="))
        .unwrap_or_else(|| panic!("no static= line in {body}"));
    assert!(
        static_url.starts_with("/static/hello.")
            && Path::new(static_url)
                .extension()
                .is_some_and(|extension| extension == "css"),
        "{static_url}"
    );
    let (status, css) = web.get(static_url);
    assert_eq!(status, 200);
    assert!(css.contains("color: #36c"), "{css}");
}

#[test]
fn mysqlclient_compiles_against_the_build_image_and_loads_at_run_time() {
    let app = fixture_copy("python-mysqlclient");
    let (built, image) = mirrored_build_ok(app.path(), "python-mysqlclient");
    built.assert_output_contains("Building wheel for mysqlclient");
    let body = assert_index(&serve(&image), "python-mysqlclient", "3.13");
    assert!(body.contains("mysqlclient=2.3.1\n"), "{body}");
    assert!(body.lines().any(|line| line.starts_with("client=3.")), "{body}");

    // Changed requirements reuse pip's cache: the wheel built last time, not a new compilation.
    let requirements = app.path().join("requirements.txt");
    let mut text = std::fs::read_to_string(&requirements).unwrap();
    text.push_str("# changed\n");
    std::fs::write(&requirements, text).unwrap();
    let rebuilt = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    rebuilt.assert_output_contains("Not reusing the previous image's dependencies: requirements.txt changed");
    rebuilt.assert_output_contains("Using cached mysqlclient-2.3.1-cp313-cp313-linux_x86_64.whl");
    assert!(
        !rebuilt.output.contains("Building wheel for mysqlclient"),
        "{}",
        rebuilt.output
    );
}

#[test]
fn runtime_txt_is_accepted_with_a_note_and_requirements_win_over_lockfiles() {
    let app = app_with_files(&[
        ("runtime.txt", b"python-3.13\n"),
        ("requirements.txt", b""),
        // As exported for Toolforge's previous builder: the lockfile is ignored, and says so.
        ("poetry.lock", b"# not even read\n"),
    ]);
    let (built, image) = mirrored_build_ok(app.path(), "python-runtime-txt");
    built.assert_output_contains("WARNING: runtime.txt is read for compatibility");
    built.assert_output_contains("Ignoring poetry.lock: requirements.txt comes first");
    built.assert_output_contains("(3.13 from runtime.txt)");
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .launcher(&[
            "python",
            "-c",
            "import platform; print(platform.python_version())",
        ])
        .output();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("3.13."), "{stdout}");
}

/// Builds a bad app: it must fail with exactly one of our errors containing `expected`.
fn assert_python_build_fails_with(app: &Path, expected: &[&str]) -> Build {
    let built = mirrored_build(app, "python-bad");
    let _image = Image(built.image.clone());
    built.assert_one_error(expected);
    built
}

#[test]
fn pyproject_without_lockfile_or_project_table_says_what_to_add() {
    let app = app_with_files(&[("pyproject.toml", b"[tool.black]\nline-length = 100\n")]);
    assert_python_build_fails_with(
        app.path(),
        &[
            "! ERROR: No dependencies to install (pyproject.toml)",
            "a `[project]` table with `name`",
        ],
    );
}

#[test]
fn unavailable_python_version_lists_what_we_have() {
    let app = app_with_files(&[(".python-version", b"3.9\n"), ("requirements.txt", b"")]);
    assert_python_build_fails_with(
        app.path(),
        &[
            "! ERROR: Python version not available (.python-version, line 1)",
            ".python-version asks for Python 3.9",
            "3.13, 3.11",
        ],
    );
}

#[test]
fn malformed_pyproject_names_the_line() {
    let app = app_with_files(&[("pyproject.toml", b"[project]\nname = \"tool\"\nversion = 1.0.0\n")]);
    assert_python_build_fails_with(
        app.path(),
        &[
            "! ERROR: Invalid pyproject.toml (pyproject.toml, line 3)",
            "!     version = 1.0.0",
        ],
    );
}

#[test]
fn malformed_python_version_names_the_line() {
    let app = app_with_files(&[
        (".python-version", b"# pinned\npython3.13\n"),
        ("requirements.txt", b""),
    ]);
    assert_python_build_fails_with(
        app.path(),
        &[
            "! ERROR: Invalid .python-version (.python-version, line 2)",
            "`python3.13` is not a Python version",
        ],
    );
}

#[test]
fn misnamed_requirements_file() {
    let app = app_with_files(&[("requirement.txt", b"flask\n")]);
    assert_python_build_fails_with(
        app.path(),
        &[
            "! ERROR: Misnamed requirements.txt (requirement.txt)",
            "git mv requirement.txt requirements.txt",
        ],
    );
}

#[test]
fn requirement_missing_from_pypi_shows_pips_message() {
    let app = app_with_files(&[
        (".python-version", b"3.13\n"),
        ("requirements.txt", b"toolforge-no-such-package-4d2c==1.0\n"),
    ]);
    assert_python_build_fails_with(
        app.path(),
        &[
            "! ERROR: Installing dependencies with pip failed",
            "No matching distribution found for toolforge-no-such-package-4d2c==1.0",
        ],
    );
}

#[test]
fn pins_older_than_the_python_of_a_range_name_the_older_python_to_pin() {
    // No version file: Poetry's `^3.11` gives the newest Python we have (3.13 in the test
    // mirror), for which httptools 0.6.1 has no wheel and does not compile.
    let app = fixture_copy("python-poetry-range-old-pins");
    assert_python_build_fails_with(
        app.path(),
        &[
            "(^3.11 from tool.poetry.dependencies.python in pyproject.toml)",
            "! ERROR: Installing dependencies with pip failed",
            "Building httptools from source failed",
            "The build uses Python 3.13.",
            "`^3.11` allows",
            "add the line `3.11`",
            "(`echo 3.11 > .python-version`)",
        ],
    );

    // Doing what it says builds.
    std::fs::write(app.path().join(".python-version"), "3.11\n").unwrap();
    let (built, _image) = mirrored_build_ok(app.path(), "python-poetry-range-old-pins");
    built.assert_output_contains("(3.11 from .python-version)");
}

#[test]
fn uv_lock_out_of_sync_with_pyproject() {
    let app = fixture_copy("python-fastapi-uv");
    let pyproject = app.path().join("pyproject.toml");
    let text = std::fs::read_to_string(&pyproject).unwrap();
    std::fs::write(
        &pyproject,
        text.replacen("dependencies = [", "dependencies = [\n    \"idna\",", 1),
    )
    .unwrap();
    assert_python_build_fails_with(
        app.path(),
        &[
            "! ERROR: Installing dependencies with uv failed",
            "run `uv lock` and commit uv.lock",
            "--locked",
        ],
    );
}

#[test]
fn corrupt_runtime_download_fails_and_caches_nothing() {
    // A mirror whose inventory names the real archive with a wrong checksum.
    let mirror = packaging::mirror::python_mirror_dir();
    let inventory = std::fs::read_to_string(mirror.join("inventory.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut tampered = String::new();
    for line in inventory.lines() {
        if let Some(file) = line
            .strip_prefix("url = \"")
            .and_then(|rest| rest.strip_suffix('"'))
        {
            std::os::unix::fs::symlink(mirror.join(file), dir.path().join(file)).unwrap();
        }
        if line.starts_with("sha256 = ") {
            tampered.push_str("sha256 = \"");
            tampered.push_str(&"0".repeat(64));
            tampered.push_str("\"\n");
        } else {
            tampered.push_str(line);
            tampered.push('\n');
        }
    }
    std::fs::write(dir.path().join("inventory.toml"), tampered).unwrap();
    let server = FileServer::start(dir.path());

    let app = app_with_files(&[(".python-version", b"3.13\n"), ("requirements.txt", b"")]);
    let image = Image(toolforge_tests::unique_image_name("python-corrupt"));
    let inventory_env = format!("BP_PYTHON_INVENTORY_URL={}/inventory.toml", server.base_url);
    let failed = toolforge_tests::pack_build(
        app.path(),
        &image.0,
        &toolforge_tests::builder(),
        &["--network", "host", "--env", &inventory_env],
    )
    .expect_failure();
    failed.assert_output_contains("! ERROR: Download of Python 3.13.");
    failed.assert_output_contains("is corrupt");
    failed.assert_output_contains(&"0".repeat(64));

    // Nothing of the failed build was kept: the good mirror's archive is downloaded anew.
    let rebuilt = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    rebuilt.assert_output_contains("Downloading Python 3.13.");
    assert!(!rebuilt.output.contains("Reusing Python"), "{}", rebuilt.output);
}
