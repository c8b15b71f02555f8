//! toolforge/php, end to end: real pack and lifecycle, PHP, its extensions, PHP-FPM, Composer,
//! Apache httpd and nginx from the stack's Debian repositories, images run as Toolforge runs tools
//! (uid 52503 without a passwd entry, read-only root but /tmp, PORT=8000).

use std::path::Path;
use std::time::Duration;
use toolforge_tests::{
    Image, Run, WebContainer, app_with_files, fixture, fixture_copy, mirrored_build, mirrored_build_into,
    mirrored_build_ok,
};

fn serve(image: &Image) -> WebContainer {
    Run::toolforge(&image.0).process("web").read_only().start()
}

fn assert_page(web: &WebContainer, path: &str, expected: &[&str]) {
    let (status, body) = web.get(path);
    assert_eq!(status, 200, "GET {path}: {body}\n{}", web.logs());
    for text in expected {
        assert!(body.contains(text), "GET {path} lacks {text:?}: {body}");
    }
}

fn assert_fails_with(app: &Path, purpose: &str, expected: &[&str]) {
    let built = mirrored_build(app, purpose);
    drop(Image(built.image.clone()));
    built.assert_one_error(expected);
}

#[test]
fn plain_public_html_tool_is_served_by_apache_and_fpm() {
    let app = fixture("php-public-html");
    let (built, image) = mirrored_build_ok(&app, "php-public-html");
    built.assert_output_contains(
        "PHP 8.4 from Debian with the extensions curl, intl, mbstring, mysqli, pdo_mysql, xml, zip",
    );
    built.assert_output_contains("Default process: web = `heroku-php-apache2 public_html`");
    assert!(!built.output.contains("composer install"), "{}", built.output);

    let web = Run::toolforge(&image.0)
        .process("web")
        .read_only()
        .env("TOOL_SETTING", "from-the-platform")
        .start();
    assert_page(
        &web,
        "/",
        &[
            "Hello, world!\n",
            "php=8.4.",
            "sapi=fpm-fcgi\n",
            "uid=52503\n",
            "opcache=on\n",
            "tool_env=from-the-platform\n",
        ],
    );
    assert_page(&web, "/index.php/extra/path", &["path_info=/extra/path\n"]);
    assert_page(&web, "/session.php", &["visits=1 save_path=/tmp\n"]);
    assert_eq!(web.get("/.env").0, 404, "dotfiles are never served");
    assert_eq!(
        web.get("/.private/notes.txt").0,
        404,
        "nor dot-directories (.git/)"
    );
    assert_page(&web, "/.well-known/security.txt", &["Contact:"]);
    assert_eq!(web.get("/missing.php").0, 404);
    let logs = web.logs();
    assert!(
        logs.contains("PHP-FPM") && logs.contains("Apache httpd"),
        "{logs}"
    );
    // SIGTERM: Apache and FPM stop gracefully, well before docker's SIGKILL.
    let (code, took) = web.stop(Duration::from_secs(10));
    assert_eq!(code, 0, "{}", web.logs());
    assert!(took < Duration::from_secs(8), "stopping took {took:?}");

    // A job: php on PATH through the launcher, opcache off on the CLI, nothing to write.
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .read_only()
        .launcher(&["php -r 'echo PHP_SAPI, \" \", ini_get(\"session.save_path\"), \"\\n\";'; command -v php composer heroku-php-nginx"])
        .output();
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "cli /tmp", "{stdout}");
    assert_eq!(lines[1], "/layers/toolforge_php/php/usr/bin/php", "{stdout}");
    assert_eq!(
        lines[3], "/layers/toolforge_php/php/usr/bin/heroku-php-nginx",
        "{stdout}"
    );

    // No change: the PHP layer is reused as it is.
    let rebuilt = mirrored_build_into(&app, &image.0, &[]).expect_success();
    rebuilt.assert_output_contains("Reusing PHP from the cache");
    assert!(!rebuilt.output.contains("Installing "), "{}", rebuilt.output);
}

#[test]
fn composer_app_installs_from_its_lock_and_rebuilds_without_installing() {
    let app = fixture_copy("php-composer");
    let (built, image) = mirrored_build_ok(app.path(), "php-composer");
    built.assert_output_contains("PHP 8.4.");
    built.assert_output_contains("(satisfies `>=8.2` from composer.json)");
    built.assert_output_contains(
        "Running `composer install --no-dev --optimize-autoloader --no-interaction --no-progress`",
    );
    built.assert_output_contains("Installing toolforge-example/greeter (1.2.0)");

    let web = serve(&image);
    assert_page(&web, "/", &["Hello, Toolforge, from PHP 8.4.", "(fpm-fcgi)"]);
    drop(web);

    // The job: `launcher php cli.php`, Composer's autoloader from the build.
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .read_only()
        .launcher(&["php cli.php"])
        .output();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("Hello, Toolforge, from PHP 8.4."), "{stdout}");
    assert!(stdout.contains("(cli)\nopcache_cli=off\n"), "{stdout}");
    assert!(stderr.is_empty(), "{stderr}");

    // Unchanged composer.json and composer.lock: vendor/ comes back from the cache, and
    // `composer install` over it finds nothing to install (its scripts and autoloader still run).
    let rebuilt = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    rebuilt.assert_output_contains("Reusing vendor/ from the cache");
    rebuilt.assert_output_contains("Nothing to install, update or remove");
    assert!(
        !rebuilt.output.contains("Installing toolforge-example"),
        "{}",
        rebuilt.output
    );
    let web = serve(&image);
    assert_page(&web, "/", &["Hello, Toolforge, from PHP 8.4."]);
}

/// What an image has outside vendor/ from `composer install`: the extension an installer plugin
/// put under `installer-paths`, and the file the `post-install-cmd` script wrote.
fn assert_installed_outside_vendor(image: &Image) {
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .read_only()
        .launcher(&["cat generated.txt extensions/hello-extension/extension.json"])
        .output();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("written by post-install-cmd\n"), "{stdout}");
    assert!(stdout.contains("\"name\": \"HelloExtension\""), "{stdout}");
}

#[test]
fn composer_rebuild_keeps_installer_paths_packages_and_script_output() {
    // A MediaWiki-style app: composer/installers' `installer-paths` (here a stand-in plugin, as
    // Packagist is not reachable) installs an extension into extensions/, outside vendor/, and a
    // post-install-cmd script writes at the app root. An unchanged rebuild has both, as the
    // first build has.
    let app = fixture("php-composer-installers");
    let (built, image) = mirrored_build_ok(&app, "php-composer-installers");
    built.assert_output_contains("Installing toolforge-example/hello-extension (1.0.0)");
    assert_installed_outside_vendor(&image);

    let rebuilt = mirrored_build_into(&app, &image.0, &[]).expect_success();
    rebuilt.assert_output_contains("Reusing vendor/ from the cache");
    rebuilt.assert_output_contains(
        "Running `composer install --no-dev --optimize-autoloader --no-interaction --no-progress`",
    );
    // Composer puts back only what is missing: the extension outside vendor/, not the plugin in it.
    rebuilt.assert_output_contains("Package operations: 1 install, 0 updates, 0 removals");
    assert!(
        !rebuilt.output.contains("Installing toolforge-example/installers"),
        "{}",
        rebuilt.output
    );
    assert_installed_outside_vendor(&image);
}

#[test]
fn extensions_declared_in_composer_json_are_installed_and_loaded() {
    let (built, image) = mirrored_build_ok(&fixture("php-extensions"), "php-extensions");
    built.assert_output_contains("bcmath, curl, intl, mbstring, mysqli, pdo_mysql, xml, zip");
    built.assert_output_contains("composer.json requires no packages");
    built.assert_output_contains("Default process: web = `heroku-php-apache2 public`");
    let web = serve(&image);
    assert_page(
        &web,
        "/",
        &[
            "pdo_mysql=loaded\n",
            "intl=1.234.567,891\n",
            "bcmath=0.3\n",
            "gd=absent\n",
        ],
    );
}

#[test]
fn procfile_with_heroku_php_apache2_serves_its_document_root() {
    let (built, image) = mirrored_build_ok(&fixture("php-procfile-apache"), "php-procfile-apache");
    assert!(!built.output.contains("Default process"), "{}", built.output);
    let web = serve(&image);
    assert_page(&web, "/", &["fixture=php-procfile-apache\n", "server=Apache"]);
    // .htaccess works: a front controller's rewrite.
    assert_page(&web, "/pretty/url", &["route=pretty/url\n"]);
    // README.txt is outside the document root: the front controller gets the path.
    assert_page(&web, "/README.txt", &["route=README.txt\n"]);
}

#[test]
fn procfile_with_heroku_php_nginx_serves_its_document_root() {
    let (_, image) = mirrored_build_ok(&fixture("php-procfile-nginx"), "php-procfile-nginx");
    // Toolforge's default web service memory: 512 MiB / 128 MiB per worker.
    let web = Run::toolforge(&image.0)
        .process("web")
        .read_only()
        .memory("512m")
        .start();
    assert!(web.logs().contains("PHP-FPM (4 workers)"), "{}", web.logs());
    assert_page(&web, "/", &["fixture=php-procfile-nginx\n", "server=nginx"]);
    assert_page(&web, "/index.php/a/b", &["path_info=/a/b\n"]);
    assert_eq!(web.get("/README.txt").0, 404, "outside the document root");
    assert_eq!(web.get("/missing.php").0, 404);
}

/// The files of the `php-app-root` fixture that neither server serves: the app directory is the
/// document root.
const APP_ROOT_HIDDEN: [&str; 20] = [
    "auth.json",
    ".env",
    ".env.local",
    "node_modules/left-pad/index.js",
    "project.toml",
    "Procfile",
    "Aptfile",
    "package.json",
    "package-lock.json",
    "composer.json",
    "dump.sql",
    "config.ini",
    "config.yaml",
    "conf/settings.yml",
    "lib/greeting.inc",
    "views/page.phtml",
    "old.php5",
    "index.php~",
    "index.php.bak",
    "Backup.SQL",
];

const APP_ROOT_WARNING: &str = "! WARNING: The web server's document root is the app's own directory";

#[test]
fn app_directory_as_the_document_root_serves_none_of_the_apps_own_files() {
    let app = fixture_copy("php-app-root");
    let (built, image) = mirrored_build_ok(app.path(), "php-app-root");
    built.assert_output_contains(APP_ROOT_WARNING);
    built.assert_output_contains("`web: heroku-php-apache2 public_html/`");
    // The Procfile's Apache, and nginx from the same image.
    let apache = serve(&image);
    let nginx = Run::toolforge(&image.0)
        .read_only()
        .launcher(&["heroku-php-nginx"])
        .start();
    for (web, server) in [(&apache, "server=Apache"), (&nginx, "server=nginx")] {
        assert_page(
            web,
            "/",
            &["fixture=php-app-root\n", server, "greeting=from an include\n"],
        );
        assert_page(web, "/assets/style.css", &["color: #202122"]);
        for file in APP_ROOT_HIDDEN {
            let (status, body) = web.get(&format!("/{file}"));
            assert_eq!(status, 404, "{server}: GET /{file}: {body}");
            let content = std::fs::read_to_string(app.path().join(file)).unwrap();
            assert!(!body.contains(content.trim()), "{server}: GET /{file}: {body}");
        }
    }
    drop((apache, nginx));

    // Without the Procfile: the default web process serves the app directory, and says so.
    std::fs::remove_file(app.path().join("Procfile")).unwrap();
    let rebuilt = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    rebuilt.assert_output_contains("Default process: web = `heroku-php-apache2 .`");
    rebuilt.assert_output_contains(APP_ROOT_WARNING);
    rebuilt.assert_output_contains("`document-root = \"…\"`");
    let web = serve(&image);
    assert_page(&web, "/", &["fixture=php-app-root\n"]);
    assert_eq!(web.get("/auth.json").0, 404);
}

#[test]
fn php_tool_with_a_node_front_end() {
    let (built, image) = mirrored_build_ok(&fixture("php-node-frontend"), "php-node-frontend");
    built.assert_output_contains("Running the `build` script");
    built.assert_output_contains("Node.js is used at build time only");
    let nodejs = built.output.find("toolforge/nodejs").expect("nodejs ran");
    let php = built.output.find("toolforge/php").expect("php ran");
    assert!(
        nodejs < php,
        "Node.js builds the front end before PHP: {}",
        built.output
    );
    let web = serve(&image);
    assert_page(&web, "/", &["fixture=php-node-frontend\n", "bundle=built\n"]);
    let (_, stdout, _) = Run::toolforge(&image.0)
        .launcher(&["command -v node || echo none"])
        .output();
    assert_eq!(stdout.trim(), "none");
}

#[test]
fn project_toml_chooses_nginx_and_the_document_root_and_a_stray_package_json_is_ignored() {
    let app = app_with_files(&[
        (
            "project.toml",
            b"[org.toolforge.php]\nweb-server = \"nginx\"\ndocument-root = \"web\"\nextensions = [\"bcmath\"]\n",
        ),
        ("web/index.php", b"<?php echo 'server=', $_SERVER['SERVER_SOFTWARE'], ' bcmath=', bcadd('1', '2'), \"\\n\";\n"),
        ("index.php", b"<?php echo 'the app root';\n"),
        // A formatter's package.json, no build script: not a Node.js front end.
        ("package.json", b"{\"devDependencies\": {\"prettier\": \"3.6.2\"}}\n"),
    ]);
    let (built, image) = mirrored_build_ok(app.path(), "php-project-toml");
    built.assert_output_contains("Default process: web = `heroku-php-nginx web`");
    assert!(!built.output.contains("toolforge/nodejs"), "{}", built.output);
    let web = serve(&image);
    assert_page(&web, "/", &["server=nginx", "bcmath=3\n"]);
}

#[test]
fn unsatisfiable_require_php() {
    let app = app_with_files(&[(
        "composer.json",
        b"{\n  \"require\": {\n    \"php\": \"^7.4\"\n  }\n}\n",
    )]);
    assert_fails_with(
        app.path(),
        "php-old-php",
        &[
            "PHP version not available",
            "composer.json, line 3",
            "`\"php\": \"^7.4\"`",
            "this builder provides PHP 8.4.",
        ],
    );
}

#[test]
fn unknown_extension() {
    let app = app_with_files(&[(
        "composer.json",
        b"{\n  \"require\": {\n    \"ext-mysql\": \"*\"\n  }\n}\n",
    )]);
    assert_fails_with(
        app.path(),
        "php-unknown-extension",
        &[
            "Unknown PHP extension",
            "composer.json, line 3",
            "`mysql`",
            "pdo_mysql",
        ],
    );
}

#[test]
fn malformed_composer_json() {
    let app = app_with_files(&[
        (
            "composer.json",
            b"{\n  \"require\": {\n    \"php\": \">=8.2\",\n  }\n}\n",
        ),
        ("index.php", b"<?php echo 'hi';\n"),
    ]);
    assert_fails_with(
        app.path(),
        "php-malformed",
        &["Invalid composer.json", "composer.json, line 4"],
    );
}

#[test]
fn composer_lock_out_of_sync_with_composer_json() {
    let app = fixture_copy("php-composer");
    let json = std::fs::read_to_string(app.path().join("composer.json")).unwrap();
    let changed = json.replace(
        "\"toolforge-example/greeter\": \"^1.2\"",
        "\"toolforge-example/greeter\": \"^1.2\",\n        \"toolforge-example/other\": \"^1.0\"",
    );
    assert_ne!(json, changed);
    std::fs::write(app.path().join("composer.json"), changed).unwrap();
    assert_fails_with(
        app.path(),
        "php-lock-out-of-sync",
        &[
            "composer.lock is out of date",
            "toolforge-example/other",
            "composer update --lock",
        ],
    );
}

#[test]
fn document_root_that_does_not_exist() {
    // In a Procfile: the web process says so in one line and exits.
    let app = app_with_files(&[
        ("Procfile", b"web: heroku-php-apache2 public_htm\n"),
        ("public_html/index.php", b"<?php echo 'hi';\n"),
    ]);
    let (_, image) = mirrored_build_ok(app.path(), "php-missing-docroot");
    let (code, stdout, stderr) = Run::toolforge(&image.0).process("web").read_only().output();
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(
        stderr.trim(),
        "heroku-php-apache2: document root 'public_htm' does not exist (in /workspace)"
    );
    // In project.toml: the build fails.
    let app = app_with_files(&[
        ("project.toml", b"[org.toolforge.php]\ndocument-root = \"web\"\n"),
        ("index.php", b"<?php echo 'hi';\n"),
    ]);
    assert_fails_with(
        app.path(),
        "php-missing-docroot-config",
        &["Document root not found", "`document-root = \"web\"`"],
    );
}
