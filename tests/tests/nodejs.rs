//! toolforge/nodejs, end to end: real pack and lifecycle, Node.js from the mirror that packaging
//! assembles from the npm registry's packages, dependencies from the npm registry with npm, pnpm
//! and Yarn, images run as Toolforge runs tools (uid 52503, read-only root but /tmp).

use toolforge_tests::{
    Image, Run, WebContainer, app_with_files, fixture, fixture_copy, mirrored_build, mirrored_build_into,
    mirrored_build_ok,
};

fn serve(image: &Image) -> WebContainer {
    Run::toolforge(&image.0).process("web").read_only().start()
}

/// Asserts the `/` page of a Node.js fixture: its name, the tool's uid and the Node.js major.
fn assert_node_index(web: &WebContainer, fixture: &str, node_major: &str) {
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}\n{}", web.logs());
    assert!(body.contains(&format!("fixture={fixture}\n")), "{body}");
    assert!(body.contains("uid=52503\n"), "{body}");
    assert!(body.contains(&format!("node=v{node_major}.")), "{body}");
}

fn assert_fails_with(fixture_name: &str, expected: &[&str]) {
    let built = mirrored_build(&fixture(fixture_name), fixture_name);
    drop(Image(built.image.clone()));
    built.assert_one_error(expected);
}

#[test]
fn express_with_npm_serves_prunes_and_rebuilds_without_installing() {
    let app = fixture_copy("nodejs-express-npm");
    let (built, image) = mirrored_build_ok(app.path(), "nodejs-express-npm");
    built.assert_output_contains("Node.js 24.");
    built.assert_output_contains("(24.x from engines.node in package.json)");
    built.assert_output_contains(
        "Dependencies with npm as bundled with Node.js (chosen by package-lock.json)",
    );
    built.assert_output_contains("Running `npm ci --no-audit --no-fund`");
    built.assert_output_contains("Removing development dependencies");
    built.assert_output_contains("Default process: web = `npm start`");

    let web = serve(&image);
    assert_node_index(&web, "nodejs-express-npm", "24");
    assert_eq!(web.get("/dev-dependency"), (200, "absent\n".to_string()));
    drop(web);

    // A job through the launcher: Node.js and the app's commands on PATH, production mode.
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .read_only()
        .launcher(&["node -e 'console.log(process.env.NODE_ENV)'; command -v node; echo $PATH"])
        .output();
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "production", "{stdout}");
    assert_eq!(lines[1], "/layers/toolforge_nodejs/node/bin/node", "{stdout}");
    assert!(lines[2].contains("/workspace/node_modules/.bin"), "{stdout}");
    // No build script: node_modules is in its own launch-only layer, linked from the app.
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .read_only()
        .launcher(&["readlink node_modules; test -f node_modules/express/package.json && echo express"])
        .output();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout, "/layers/toolforge_nodejs/dependencies/node_modules\nexpress\n",
        "{stderr}"
    );

    // No change: Node.js and node_modules are kept from the previous image, nothing is
    // downloaded or installed.
    let rebuilt = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    rebuilt.assert_output_contains("Reusing Node.js 24.");
    rebuilt.assert_output_contains(" from the previous image");
    rebuilt.assert_output_contains("Reusing the previous image's dependencies (package-lock.json unchanged)");
    assert!(!rebuilt.output.contains("Running `npm ci"), "{}", rebuilt.output);
    assert!(
        !rebuilt.output.contains("Downloading Node.js"),
        "{}",
        rebuilt.output
    );
    let web = serve(&image);
    assert_node_index(&web, "nodejs-express-npm", "24");
    assert_eq!(web.get("/dev-dependency"), (200, "absent\n".to_string()));
    drop(web);

    // package-lock.json changed: installed again, into a new layer, saying why; Node.js is
    // downloaded again too (npm needs its files), as for Python.
    let lock = app.path().join("package-lock.json");
    let text = std::fs::read_to_string(&lock).expect("package-lock.json");
    std::fs::write(&lock, format!("{text}\n")).expect("write package-lock.json");
    let changed = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    changed.assert_output_contains("Downloading Node.js 24.");
    changed.assert_output_contains("Not reusing the previous image's dependencies: the lockfile changed");
    changed.assert_output_contains("Running `npm ci --no-audit --no-fund`");
    let web = serve(&image);
    assert_node_index(&web, "nodejs-express-npm", "24");

    // An npm setting in the build environment shapes the install as the lockfile does.
    let with_setting =
        mirrored_build_into(app.path(), &image.0, &["--env", "npm_config_loglevel=warn"]).expect_success();
    with_setting.assert_output_contains(
        "Not reusing the previous image's dependencies: build settings changed: npm_config_loglevel",
    );
    with_setting.assert_output_contains("Running `npm ci --no-audit --no-fund`");
}

#[test]
fn rebuild_runs_the_root_postinstall_script_again() {
    // The root package's postinstall writes generated.txt outside node_modules: a rebuild with
    // nothing changed runs the install, scripts included, as the first build does, instead of
    // reusing node_modules, so the image has the file as after the first build.
    let app = fixture("nodejs-postinstall");
    let assert_generated = |image: &Image| {
        let (code, stdout, stderr) = Run::toolforge(&image.0)
            .read_only()
            .launcher(&["cat generated.txt"])
            .output();
        assert_eq!(
            (code, stdout.as_str()),
            (0, "written by postinstall\n"),
            "{stderr}"
        );
    };
    let installs_again = "Installing at every build (node_modules is not kept): package.json has install-time scripts (postinstall)";
    let (built, image) = mirrored_build_ok(&app, "nodejs-postinstall");
    built.assert_output_contains(installs_again);
    built.assert_output_contains("Running `npm ci --no-audit --no-fund`");
    assert_generated(&image);

    let rebuilt = mirrored_build_into(&app, &image.0, &[]).expect_success();
    rebuilt.assert_output_contains(installs_again);
    rebuilt.assert_output_contains("Running `npm ci --no-audit --no-fund`");
    assert_generated(&image);
}

#[test]
fn pnpm_app() {
    let (built, image) = mirrored_build_ok(&fixture("nodejs-pnpm"), "nodejs-pnpm");
    built.assert_output_contains(
        "Dependencies with pnpm 10.34.9 (chosen by packageManager pnpm@10.34.9 in package.json)",
    );
    built.assert_output_contains("Installing pnpm@10.34.9");
    built.assert_output_contains("Default process: web = `pnpm start`");
    let web = serve(&image);
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("fixture=nodejs-pnpm\n"), "{body}");
    assert!(body.contains("uid=52503\n"), "{body}");
}

#[test]
fn yarn_berry_app() {
    let (built, image) = mirrored_build_ok(&fixture("nodejs-yarn-berry"), "nodejs-yarn-berry");
    built.assert_output_contains(
        "Dependencies with Yarn 4.18.1 (chosen by packageManager yarn@4.18.1 in package.json)",
    );
    built.assert_output_contains("Default process: web = `yarn start`");
    let web = serve(&image);
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("fixture=nodejs-yarn-berry\n"), "{body}");
}

#[test]
fn flask_with_a_vite_bundle_built_at_build_time() {
    let (built, image) = mirrored_build_ok(&fixture("python-flask-vite"), "python-flask-vite");
    built.assert_output_contains("Running the `build` script");
    built.assert_output_contains("Node.js is used at build time only");
    // Node.js runs before Python in the group, so the bundle exists before collectstatic would.
    let node_at = built.output.find("toolforge/nodejs").expect("nodejs ran");
    let python_at = built.output.find("toolforge/python").expect("python ran");
    assert!(node_at < python_at, "{}", built.output);

    let web = serve(&image);
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("fixture=python-flask-vite\n"), "{body}");
    let (status, bundle) = web.get("/bundle");
    assert_eq!(status, 200, "{bundle}");
    assert!(bundle.contains("toolforge-vite-bundle-ok"), "{bundle}");
    drop(web);
    // Build-time only: no Node.js in the image.
    let (code, stdout, _) = Run::toolforge(&image.0)
        .launcher(&["command -v node || echo no node"])
        .output();
    assert_eq!((code, stdout.trim()), (0, "no node"));
}

#[test]
fn build_time_only_node_modules_stays_out_of_the_image_and_in_the_cache() {
    // A Django app with a Vite front end (Vite itself a runtime dependency, as many front ends
    // have it) and Debian packages: node_modules is used by collectstatic after toolforge/nodejs
    // and must then leave the image, while the next build still reuses it.
    let app = fixture("python-django-vite-apt");
    let (built, image) = mirrored_build_ok(&app, "python-django-vite-apt");
    built.assert_output_contains("Node.js is used at build time only");
    built.assert_output_contains("So is node_modules: it is left out of the image");
    built.assert_output_contains("Left out of the image, build-time only: node_modules (");
    let assert_serves = |image: &Image| {
        let web = serve(image);
        let (status, body) = web.get("/");
        assert_eq!(status, 200, "{body}\n{}", web.logs());
        for expected in [
            "fixture=python-django-vite-apt\n",
            "uid=52503\n",
            "bundle=/static/dist/assets/main-",
            "normalize=/static/normalize/normalize.",
            "node_modules=False\n",
            "ffmpeg=ffmpeg version ",
            "rsvg=rsvg-convert version ",
        ] {
            assert!(body.contains(expected), "{expected} in {body}");
        }
        // collectstatic copied the file out of node_modules before it left.
        let normalize = body
            .lines()
            .find_map(|line| line.strip_prefix("normalize="))
            .expect("normalize line");
        let (status, css) = web.get(normalize);
        assert_eq!(status, 200, "{css}");
        assert!(css.contains("normalize.css v8.0.1"), "{css}");
    };
    assert_serves(&image);
    let (code, stdout, _) = Run::toolforge(&image.0)
        .launcher(&["ls -A /workspace; command -v node || echo no node"])
        .output();
    assert_eq!(code, 0, "{stdout}");
    assert!(!stdout.contains("node_modules"), "{stdout}");
    assert!(stdout.contains("no node"), "{stdout}");
    // Nor does the image carry what no process uses of the Python runtime: its own pip, IDLE.
    built.assert_output_contains("Left out, as nothing uses them: bin/idle3");
    let (code, stdout, _) = Run::toolforge(&image.0)
        .launcher(&["ls /layers/toolforge_python/python/bin; python -c 'import json, sqlite3, ssl; print(\"stdlib ok\")'"])
        .output();
    assert_eq!(code, 0, "{stdout}");
    assert!(!stdout.contains("pip") && !stdout.contains("idle"), "{stdout}");
    assert!(
        stdout.contains("python3\n") && stdout.contains("stdlib ok"),
        "{stdout}"
    );

    // Kept in the cache all the same: the rebuild installs nothing and leaves it out again.
    let rebuilt = mirrored_build_into(&app, &image.0, &[]).expect_success();
    rebuilt.assert_output_contains("Reusing node_modules from the cache");
    rebuilt.assert_output_contains("Left out of the image, build-time only: node_modules (");
    assert!(!rebuilt.output.contains("Running `npm ci"), "{}", rebuilt.output);
    assert_serves(&image);
}

#[test]
fn python_app_with_a_stray_package_json_stays_a_python_app() {
    let built =
        toolforge_tests::mirrored_build(&fixture("python-stray-package-json"), "python-stray-package-json")
            .expect_success();
    let image = Image(built.image.clone());
    assert!(!built.output.contains("toolforge/nodejs"), "{}", built.output);
    let web = serve(&image);
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("fixture=python-stray-package-json\n"), "{body}");
    assert_eq!(web.get("/node"), (200, "absent\n".to_string()));
}

#[test]
fn unsatisfiable_engines_lists_what_is_available() {
    assert_fails_with(
        "nodejs-engines-unsatisfiable",
        &[
            "! ERROR: Node.js version not available (package.json, line",
            "No Node.js release satisfies `>=99` (engines.node in package.json)",
            "26.x, 24.x, 22.x, 20.x",
        ],
    );
}

#[test]
fn lockfile_out_of_sync_shows_npms_message() {
    assert_fails_with(
        "nodejs-lock-out-of-sync",
        &[
            "! ERROR: Installing dependencies with npm failed (package-lock.json)",
            "Missing: is-number@7.0.0 from lock file",
            "run `npm install` and commit",
        ],
    );
}

#[test]
fn two_lockfiles_are_refused() {
    assert_fails_with(
        "nodejs-two-lockfiles",
        &[
            "! ERROR: Lockfiles of several package managers",
            "This app has package-lock.json and yarn.lock",
        ],
    );
}

#[test]
fn failing_build_script_shows_its_output() {
    assert_fails_with(
        "nodejs-build-fails",
        &[
            "! ERROR: The `build` script failed (package.json)",
            "vite: could not resolve ./missing.js",
        ],
    );
}

#[test]
fn unknown_package_manager_is_named() {
    assert_fails_with(
        "nodejs-unknown-manager",
        &[
            "! ERROR: Unknown package manager (package.json, line",
            "`bun@1.1.0`",
        ],
    );
}

#[test]
fn version_files_lts_default_and_end_of_life_warning() {
    // `.nvmrc` with nvm's `lts/*`: the newest major in active LTS (26 since 2026-10-28).
    let app = app_with_files(&[
        ("package.json", b"{\"name\": \"x\", \"private\": true}\n"),
        (".nvmrc", b"lts/*\n"),
    ]);
    let built = mirrored_build(app.path(), "nodejs-nvmrc").expect_success();
    drop(Image(built.image.clone()));
    built.assert_output_contains("Node.js 26.");
    built.assert_output_contains("(the newest LTS from .nvmrc)");
    built.assert_output_contains("No lockfile: npm resolves the dependencies anew at every build.");

    // `.node-version` naming a major past its end of life: built, with a warning.
    let app = app_with_files(&[
        ("package.json", b"{\"name\": \"x\", \"private\": true}\n"),
        (".node-version", b"20\n"),
    ]);
    let built = mirrored_build(app.path(), "nodejs-end-of-life").expect_success();
    drop(Image(built.image.clone()));
    built.assert_output_contains("Node.js 20.");
    built.assert_output_contains("Node.js 20 reached its end of life on 2026-04-30");
}

#[test]
fn stated_languages_override_detection_and_a_typo_names_its_line() {
    // A Python app whose package.json has no build script would be Python only; the tool says it
    // wants Node.js too, and at run time.
    let app = app_with_files(&[
        ("requirements.txt", b"# nothing\n"),
        ("package.json", b"{\"name\": \"x\", \"private\": true}\n"),
        ("Procfile", b"web: exec python -m http.server $PORT\n"),
        (
            "project.toml",
            b"[org.toolforge.languages]\npython = true\nnodejs = true\n\n[org.toolforge.nodejs]\nlaunch = true\n",
        ),
    ]);
    let built = mirrored_build(app.path(), "languages-stated").expect_success();
    let image = Image(built.image.clone());
    built.assert_output_contains("## Node.js (toolforge/nodejs)");
    built.assert_output_contains("## Python (toolforge/python)");
    built.assert_output_contains("Languages built: Node.js, Python");
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .launcher(&["node --version; python --version"])
        .output();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("v26."), "{stdout}");
    assert!(stdout.contains("Python 3."), "{stdout}");

    let app = app_with_files(&[
        ("requirements.txt", b"# nothing\n"),
        (
            "project.toml",
            b"[org.toolforge.languages]\npython = true\nnodjs = true\n",
        ),
    ]);
    let built = mirrored_build(app.path(), "languages-typo");
    drop(Image(built.image.clone()));
    built.assert_one_error(&[
        "! ERROR: Unknown language in [org.toolforge.languages] (project.toml, line 3)",
        "`nodjs` is not a language this builder builds. Its languages are: go, java, nodejs, php, python.",
    ]);
}

#[test]
fn yarn_classic_app_by_its_lockfile() {
    // The two-lockfiles fixture without its package-lock.json: a Yarn 1 app with no packageManager.
    let app = fixture_copy("nodejs-two-lockfiles");
    std::fs::remove_file(app.path().join("package-lock.json")).expect("remove package-lock.json");
    let (built, image) = mirrored_build_ok(app.path(), "nodejs-yarn-classic");
    built.assert_output_contains("Dependencies with Yarn classic 1.22.22 (chosen by yarn.lock)");
    built.assert_output_contains("Running `yarn install --frozen-lockfile --non-interactive`");
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .launcher(&["node -e 'console.log(require(\"ms\")(60000))'"])
        .output();
    assert_eq!((code, stdout.trim()), (0, "1m"), "{stderr}");
}
