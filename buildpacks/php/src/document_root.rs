//! The default `web` process and its document root, for apps without a Procfile.

use crate::config::PhpConfig;
use crate::errors::PhpBuildpackError;
use libcnb::data::launch::{Launch, LaunchBuilder, ProcessBuilder};
use libcnb::data::process_type;
use libtoolforge::output::BuildOutput;
use std::path::Path;
use toolforge_php::web;

/// The default web process's document root: project.toml's, else Toolforge's `public_html/`,
/// else the common `public/`, else the app's root.
pub(crate) fn document_root(app_dir: &Path, config: &PhpConfig) -> Result<String, PhpBuildpackError> {
    if let Some(document_root) = &config.document_root {
        return if app_dir.join(document_root).is_dir() {
            Ok(document_root.trim_end_matches('/').to_string())
        } else {
            Err(PhpBuildpackError::MissingDocumentRoot {
                document_root: document_root.clone(),
            })
        };
    }
    Ok(["public_html", "public"]
        .into_iter()
        .find(|dir| app_dir.join(dir).is_dir())
        .unwrap_or(".")
        .to_string())
}

/// Without a Procfile, the default `web` process: the configured web server on the document root.
/// With or without, a warning when the `web` process serves the app directory itself.
pub(crate) fn default_process(
    app_dir: &Path,
    config: &PhpConfig,
    output: &mut BuildOutput,
) -> Result<Option<Launch>, PhpBuildpackError> {
    if app_dir.join("Procfile").is_file() {
        if procfile_web_command(app_dir)
            .and_then(|command| web::document_root_argument(&command))
            .is_some_and(|root| is_app_dir(app_dir, &root))
        {
            output.warning(&app_dir_warning(
                "Move the files to serve into a directory and name it in the Procfile: \
                 `web: heroku-php-apache2 public_html/`.",
            ));
        }
        return Ok(None);
    }
    let document_root = document_root(app_dir, config)?;
    let command = config.web_server.command();
    output.step(&format!(
        "Default process: web = `{command} {document_root}` (a Procfile's `web:` replaces it)"
    ));
    if is_app_dir(app_dir, &document_root) {
        output.warning(&app_dir_warning(
            "Move the files to serve into `public_html/` (or `public/`), which then becomes the \
             document root, or name another directory with `document-root = \"…\"` under \
             `[org.toolforge.php]` in project.toml.",
        ));
    }
    Ok(Some(
        LaunchBuilder::new()
            .process(
                ProcessBuilder::new(process_type!("web"), [command, document_root.as_str()])
                    .default(true)
                    .build(),
            )
            .build(),
    ))
}

/// The command of the Procfile's `web` process, when it has one.
fn procfile_web_command(app_dir: &Path) -> Option<String> {
    let procfile = std::fs::read_to_string(app_dir.join("Procfile")).ok()?;
    procfile.lines().find_map(|line| {
        let (name, command) = line.split_once(':')?;
        (name.trim() == "web").then(|| command.trim().to_owned())
    })
}

/// Whether `root`, relative to the app directory or absolute, is the app directory.
fn is_app_dir(app_dir: &Path, root: &str) -> bool {
    match (app_dir.join(root).canonicalize(), app_dir.canonicalize()) {
        (Ok(root), Ok(app_dir)) => root == app_dir,
        _ => false,
    }
}

/// The warning for a web process that serves the app directory, ending with how to fix it.
fn app_dir_warning(fix: &str) -> String {
    format!(
        "The web server's document root is the app's own directory, so it serves the app's \
         other files too: all but dotfiles, vendor/, node_modules/, Composer's and npm's files, \
         auth.json, project.toml, Procfile, Aptfile, *.sql, *.ini, *.yaml, *.yml and PHP \
         source under other extensions than .php, which answer 404.\n{fix}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(dirs: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for sub in dirs {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        dir
    }

    /// The build log of [`default_process`] in an app with these files.
    fn build_log(files: &[(&str, &str)], config: &PhpConfig) -> String {
        let app = tempfile::tempdir().unwrap();
        for (file, content) in files {
            let path = app.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut output = BuildOutput::start_with(Box::new(log.reopen().unwrap()), "PHP", "toolforge/php");
        default_process(app.path(), config, &mut output).unwrap();
        drop(output);
        std::fs::read_to_string(log.path()).unwrap()
    }

    const WARNING: &str = "! WARNING: The web server's document root is the app's own directory";

    #[test]
    fn warns_when_the_default_web_process_serves_the_app_directory() {
        let default = PhpConfig::default();
        let log = build_log(&[("index.php", "")], &default);
        assert!(log.contains(WARNING), "{log}");
        assert!(log.contains("`public_html/`"), "{log}");
        assert!(log.contains("document-root = "), "{log}");
        let chosen = PhpConfig {
            document_root: Some("./".into()),
            ..PhpConfig::default()
        };
        assert!(build_log(&[("index.php", "")], &chosen).contains(WARNING));

        for files in [[("public_html/index.php", "")], [("public/index.php", "")]] {
            let log = build_log(&files, &default);
            assert!(!log.contains("WARNING"), "{log}");
        }
    }

    #[test]
    fn warns_when_the_procfiles_web_process_serves_the_app_directory() {
        let default = PhpConfig::default();
        for web in [
            "web: heroku-php-apache2",
            "web:heroku-php-nginx -C nginx.conf",
            "web: vendor/bin/heroku-php-apache2 -p 8080 .",
            "web: toolforge-php-web nginx ./",
            "worker: php worker.php\nweb: heroku-php-apache2 -l app.log",
        ] {
            let log = build_log(&[("Procfile", web), ("index.php", "")], &default);
            assert!(log.contains(WARNING), "{web}: {log}");
            assert!(log.contains("`web: heroku-php-apache2 public_html/`"), "{log}");
        }
        for web in [
            "web: heroku-php-apache2 public/",
            "web: heroku-php-nginx -C nginx.conf public_html",
            "web: php -S 0.0.0.0:$PORT",
            "web: gunicorn nginx",
            "worker: heroku-php-apache2",
            "web: heroku-php-apache2 -h",
        ] {
            let files = [
                ("Procfile", web),
                ("public/index.php", ""),
                ("public_html/index.php", ""),
            ];
            let log = build_log(&files, &default);
            assert!(!log.contains("WARNING"), "{web}: {log}");
        }
    }

    #[test]
    fn document_roots() {
        let config = PhpConfig::default();
        assert_eq!(
            document_root(app(&["public_html", "public"]).path(), &config).unwrap(),
            "public_html"
        );
        assert_eq!(document_root(app(&["public"]).path(), &config).unwrap(), "public");
        assert_eq!(document_root(app(&[]).path(), &config).unwrap(), ".");
        let config = PhpConfig {
            document_root: Some("web/".into()),
            ..PhpConfig::default()
        };
        assert_eq!(document_root(app(&["web"]).path(), &config).unwrap(), "web");
        assert!(matches!(
            document_root(app(&[]).path(), &config),
            Err(PhpBuildpackError::MissingDocumentRoot { .. })
        ));
    }
}
