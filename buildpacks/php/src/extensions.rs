//! PHP extensions as Composer names them (`ext-pdo_mysql`) and the Debian packages that provide
//! them for trixie's PHP 8.4. Every extension of an installed package is enabled, as Debian's
//! `phpenmod` does: that keeps the load order right (mysqli after mysqlnd, redis after igbinary)
//! without a dependency table here.

/// The PHP branch of the stack (Debian 13 ships one).
pub(crate) const PHP_BRANCH: &str = "8.4";

/// Compiled into PHP or shipped (and enabled) by `php8.4-cli`/`php8.4-common`, which every app
/// gets: requiring them installs nothing.
const BUILT_IN: &[&str] = &[
    "calendar",
    "core",
    "ctype",
    "date",
    "exif",
    "ffi",
    "fileinfo",
    "filter",
    "ftp",
    "gettext",
    "hash",
    "iconv",
    "json",
    "libxml",
    "openssl",
    "pcntl",
    "pcre",
    "pdo",
    "phar",
    "posix",
    "random",
    "readline",
    "reflection",
    "session",
    "shmop",
    "sockets",
    "sodium",
    "spl",
    "standard",
    "sysvmsg",
    "sysvsem",
    "sysvshm",
    "tokenizer",
    "zend-opcache",
    "opcache",
    "zlib",
];

/// Extension → package. Version-specific packages are `php8.4-*`; Wikimedia's own extensions
/// (wikidiff2, luasandbox) are packaged for the default PHP only.
const PACKAGES: &[(&str, &str)] = &[
    ("amqp", "php8.4-amqp"),
    ("apcu", "php8.4-apcu"),
    ("ast", "php8.4-ast"),
    ("bcmath", "php8.4-bcmath"),
    ("bz2", "php8.4-bz2"),
    ("curl", "php8.4-curl"),
    ("dba", "php8.4-dba"),
    ("dom", "php8.4-xml"),
    ("ds", "php8.4-ds"),
    ("enchant", "php8.4-enchant"),
    ("excimer", "php8.4-excimer"),
    ("gd", "php8.4-gd"),
    ("gmp", "php8.4-gmp"),
    ("gnupg", "php8.4-gnupg"),
    ("http", "php8.4-http"),
    ("igbinary", "php8.4-igbinary"),
    ("imagick", "php8.4-imagick"),
    ("inotify", "php8.4-inotify"),
    ("intl", "php8.4-intl"),
    ("ldap", "php8.4-ldap"),
    ("luasandbox", "php-luasandbox"),
    ("mailparse", "php8.4-mailparse"),
    ("maxminddb", "php8.4-maxminddb"),
    ("mbstring", "php8.4-mbstring"),
    ("memcache", "php8.4-memcache"),
    ("memcached", "php8.4-memcached"),
    ("mongodb", "php8.4-mongodb"),
    ("msgpack", "php8.4-msgpack"),
    ("mysqli", "php8.4-mysql"),
    ("mysqlnd", "php8.4-mysql"),
    ("oauth", "php8.4-oauth"),
    ("odbc", "php8.4-odbc"),
    ("pcov", "php8.4-pcov"),
    ("pdo_dblib", "php8.4-sybase"),
    ("pdo_firebird", "php8.4-interbase"),
    ("pdo_mysql", "php8.4-mysql"),
    ("pdo_odbc", "php8.4-odbc"),
    ("pdo_pgsql", "php8.4-pgsql"),
    ("pdo_sqlite", "php8.4-sqlite3"),
    ("pgsql", "php8.4-pgsql"),
    ("pspell", "php8.4-pspell"),
    ("raphf", "php8.4-raphf"),
    ("redis", "php8.4-redis"),
    ("simplexml", "php8.4-xml"),
    ("snmp", "php8.4-snmp"),
    ("soap", "php8.4-soap"),
    ("sqlite3", "php8.4-sqlite3"),
    ("ssh2", "php8.4-ssh2"),
    ("tidy", "php8.4-tidy"),
    ("uploadprogress", "php8.4-uploadprogress"),
    ("uuid", "php8.4-uuid"),
    ("wikidiff2", "php-wikidiff2"),
    ("xdebug", "php8.4-xdebug"),
    ("xml", "php8.4-xml"),
    ("xmlreader", "php8.4-xml"),
    ("xmlrpc", "php8.4-xmlrpc"),
    ("xmlwriter", "php8.4-xml"),
    ("xsl", "php8.4-xml"),
    ("yaml", "php8.4-yaml"),
    ("zip", "php8.4-zip"),
    ("zmq", "php8.4-zmq"),
    ("zstd", "php8.4-zstd"),
];

/// What every app gets without asking: what Toolforge tools expect (the replicas and `ToolsDB` are
/// MariaDB, the wikis' APIs are HTTPS and JSON/XML, text is multilingual), plus zip, without which
/// Composer cannot unpack the archives it downloads.
pub(crate) const DEFAULT: &[&str] = &["mysqli", "pdo_mysql", "curl", "mbstring", "intl", "xml", "zip"];

/// Everything else the layer always has: PHP itself, FPM, opcache, Composer and both web servers.
pub(crate) const BASE_PACKAGES: &[&str] = &[
    "php8.4-cli",
    "php8.4-fpm",
    "php8.4-opcache",
    "composer",
    "apache2-bin",
    "nginx",
];

/// Packages only maintainer scripts, init systems or cron jobs use: stubbed as installed, so
/// that neither they nor their dependencies land in the image (systemd alone is 17 MiB).
pub(crate) const STUBS: &[&str] = &["systemd", "ucf", "psmisc", "iproute2"];

/// How an extension is provided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    BuiltIn,
    Package(&'static str),
}

/// The provider of `ext-<name>`'s extension (names are case-insensitive, as in PHP), or `None`
/// when Debian has no package for it.
pub(crate) fn provider(name: &str) -> Option<Provider> {
    let name = name.to_ascii_lowercase();
    if BUILT_IN.contains(&name.as_str()) {
        return Some(Provider::BuiltIn);
    }
    PACKAGES
        .iter()
        .find(|(extension, _)| *extension == name)
        .map(|(_, package)| Provider::Package(package))
}

/// Every extension name an app can require, for the error that lists them.
pub(crate) fn known() -> Vec<&'static str> {
    let mut names: Vec<&str> = BUILT_IN
        .iter()
        .chain(PACKAGES.iter().map(|(name, _)| name))
        .copied()
        .filter(|name| *name != "zend-opcache")
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers() {
        assert_eq!(provider("pdo_mysql"), Some(Provider::Package("php8.4-mysql")));
        assert_eq!(provider("PDO_MySQL"), Some(Provider::Package("php8.4-mysql")));
        assert_eq!(provider("json"), Some(Provider::BuiltIn));
        assert_eq!(provider("zend-opcache"), Some(Provider::BuiltIn));
        assert_eq!(provider("wikidiff2"), Some(Provider::Package("php-wikidiff2")));
        assert_eq!(provider("mysql"), None, "removed in PHP 7");
    }

    #[test]
    fn defaults_are_known() {
        for name in DEFAULT {
            assert!(provider(name).is_some(), "{name}");
        }
        assert!(known().windows(2).all(|pair| pair[0] < pair[1]));
    }
}
