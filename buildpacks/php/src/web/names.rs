//! The launcher's names: its file, and the commands (symlinks to it) that pick a server. A leaf
//! module, so that the errors and the servers can name them without depending on `web` itself.

/// The launcher's file name in `<layer>/bin`.
pub const LAUNCHER: &str = "toolforge-php-web";
/// The symlink to [`LAUNCHER`] in `<layer>/bin` that serves with Apache httpd.
pub const APACHE_COMMAND: &str = "heroku-php-apache2";
/// The symlink to [`LAUNCHER`] in `<layer>/bin` that serves with nginx.
pub const NGINX_COMMAND: &str = "heroku-php-nginx";
