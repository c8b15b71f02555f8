//! `[org.toolforge.php]` in the app's project.toml.

use libtoolforge::project_toml::ProjectToml;
use libtoolforge::toml_file::TomlError;
use serde::Deserialize;
use std::path::Path;

pub(crate) const TABLE: [&str; 3] = ["org", "toolforge", "php"];

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct PhpConfig {
    /// Extensions beyond the default set, for apps without a composer.json to list them as
    /// `ext-*` requirements (`["gd", "ldap"]`).
    #[serde(default)]
    pub(crate) extensions: Vec<String>,
    /// The server of the default `web` process (without a Procfile).
    #[serde(default)]
    pub(crate) web_server: WebServer,
    /// The document root of the default `web` process, relative to the app; by default
    /// `public_html/` when it exists, else `public/`, else the app's root.
    pub(crate) document_root: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum WebServer {
    /// Apache httpd, as Heroku's default: `.htaccess` files work.
    #[default]
    Apache,
    Nginx,
}

impl WebServer {
    /// The Heroku-compatible command that starts it with PHP-FPM.
    pub(crate) fn command(self) -> &'static str {
        match self {
            Self::Apache => "heroku-php-apache2",
            Self::Nginx => "heroku-php-nginx",
        }
    }
}

pub(crate) fn read(app_dir: &Path) -> Result<PhpConfig, TomlError> {
    ProjectToml::settings(app_dir, &TABLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let app = tempfile::tempdir().unwrap();
        assert_eq!(read(app.path()).unwrap(), PhpConfig::default());
        std::fs::write(
            app.path().join("project.toml"),
            "[org.toolforge.php]\nextensions = [\"gd\"]\nweb-server = \"nginx\"\ndocument-root = \"web\"\n",
        )
        .unwrap();
        let config = read(app.path()).unwrap();
        assert_eq!(config.extensions, ["gd"]);
        assert_eq!(config.web_server, WebServer::Nginx);
        assert_eq!(config.document_root.as_deref(), Some("web"));
        std::fs::write(
            app.path().join("project.toml"),
            "[org.toolforge.php]\nweb-server = \"lighttpd\"\n",
        )
        .unwrap();
        let error = read(app.path()).unwrap_err();
        assert_eq!(error.message().location.unwrap().line, Some(2));
    }
}
