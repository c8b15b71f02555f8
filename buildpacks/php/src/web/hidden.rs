//! What the servers answer with 404 whatever the files: regular expressions that nginx and
//! Apache httpd (PCRE both) search in the request's decoded path. A 404, not a 403, so that a
//! request does not even learn that the file exists. Dotfiles have their own rule in each
//! configuration (with `/.well-known/` served).

/// PHP source under extensions PHP-FPM does not run (`.inc`, `.phtml`, `.php5`, …), which a
/// server would send as text, and editors' and tools' backup copies (`config.php~`,
/// `config.php.bak`): never served, whatever the document root. PHP's `include` reads them from
/// the disk, so hiding them breaks nothing.
pub(crate) const SOURCE_AND_BACKUPS: &str = r"(?i)(\.(inc|phtml|pht|phps|php[0-9]|bak|orig|swp)|~)$";

/// Served only when the document root is the app directory: its dependencies (Composer's
/// `vendor/`, npm's `node_modules/`), the files the build and the platform read (Composer's, npm's
/// `package*.json`, project.toml, Procfile, Aptfile, Composer's credentials `auth.json`), and
/// data and configuration (`*.sql`, `*.ini`, `*.yaml`, `*.yml`). A directory made to be served
/// (`public_html/`) may serve files like these on purpose: a front end's `node_modules/`, an API
/// description in `.yaml`.
pub(crate) const APP_FILES: &str = r"(?i)^/vendor/|/node_modules/|/(auth\.json|composer\.(json|lock)|package[^/]*\.json|project\.toml|Procfile|Aptfile)$|\.(sql|ini|ya?ml)$";
