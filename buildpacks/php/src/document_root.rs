//! The default `web` process and its document root, for apps without a Procfile.

use crate::config::PhpConfig;
use crate::errors::PhpBuildpackError;
use libcnb::data::launch::{Launch, LaunchBuilder, ProcessBuilder};
use libcnb::data::process_type;
use libtoolforge::output::BuildOutput;
use std::path::Path;

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
pub(crate) fn default_process(
    app_dir: &Path,
    config: &PhpConfig,
    output: &mut BuildOutput,
) -> Result<Option<Launch>, PhpBuildpackError> {
    if app_dir.join("Procfile").is_file() {
        return Ok(None);
    }
    let document_root = document_root(app_dir, config)?;
    let command = config.web_server.command();
    output.step(&format!(
        "Default process: web = `{command} {document_root}` (a Procfile's `web:` replaces it)"
    ));
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
