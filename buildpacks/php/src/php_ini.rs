//! PHP's configuration inside the layer: what the packages' maintainer scripts would have done in
//! /etc (ucf copying each extension's ini file, `phpenmod` linking it into conf.d, php.ini from
//! Debian's production template), plus the settings a read-only, uid-less container needs.

use crate::extensions::PHP_BRANCH;
use libtoolforge::debian;
use std::path::{Path, PathBuf};

/// `<layer>/etc/php/8.4`: php.ini (`PHPRC`) and conf.d (`PHP_INI_SCAN_DIR`).
pub(crate) fn etc_dir(layer: &Path) -> PathBuf {
    layer.join("etc/php").join(PHP_BRANCH)
}

pub(crate) fn php_ini(layer: &Path) -> PathBuf {
    etc_dir(layer).join("php.ini")
}

pub(crate) fn conf_d(layer: &Path) -> PathBuf {
    etc_dir(layer).join("conf.d")
}

/// Writes php.ini, mods-available and conf.d; returns the enabled extensions' ini names.
pub(crate) fn configure(layer: &Path) -> std::io::Result<Vec<String>> {
    let etc = etc_dir(layer);
    let mods = etc.join("mods-available");
    std::fs::create_dir_all(&mods)?;
    // php8.4-* packages keep their ini files in /usr/share/php8.4-<package>/<package>/ for the
    // postinst to copy; PECL packages (apcu, redis, igbinary) ship them in mods-available.
    for package_dir in subdirectories(&layer.join("usr/share"), &format!("php{PHP_BRANCH}-")) {
        for dir in subdirectories(&package_dir, "") {
            for ini in files_with_extension(&dir, "ini") {
                if let Some(name) = ini.file_name() {
                    std::fs::copy(&ini, mods.join(name))?;
                }
            }
        }
    }
    let conf_d = conf_d(layer);
    if conf_d.exists() {
        std::fs::remove_dir_all(&conf_d)?;
    }
    std::fs::create_dir_all(&conf_d)?;
    let mut enabled = Vec::new();
    for ini in files_with_extension(&mods, "ini") {
        let Some(name) = ini.file_stem().and_then(|name| name.to_str()) else {
            continue;
        };
        let priority = priority(&std::fs::read_to_string(&ini)?);
        std::os::unix::fs::symlink(
            Path::new("../mods-available").join(format!("{name}.ini")),
            conf_d.join(format!("{priority:02}-{name}.ini")),
        )?;
        enabled.push(name.to_string());
    }
    std::fs::write(conf_d.join("00-toolforge.ini"), toolforge_ini(layer))?;
    std::fs::copy(
        layer
            .join("usr/lib/php")
            .join(PHP_BRANCH)
            .join("php.ini-production"),
        php_ini(layer),
    )?;
    enabled.sort();
    Ok(enabled)
}

/// phpenmod's priority: the `; priority=N` line of an extension's ini file, 20 without one.
/// It orders conf.d, and so the loading: mysqlnd (10) before mysqli (20), igbinary before redis.
fn priority(ini: &str) -> u32 {
    ini.lines()
        .filter_map(|line| line.trim().strip_prefix(';'))
        .filter_map(|line| line.trim().strip_prefix("priority"))
        .filter_map(|rest| rest.trim().strip_prefix('='))
        .find_map(|value| value.trim().parse().ok())
        .unwrap_or(20)
}

/// Sorted first in conf.d, so that an app's own ini files override it.
pub(crate) fn toolforge_ini(layer: &Path) -> String {
    let extension_dir = extension_dir(layer);
    let layer = layer.display();
    format!(
        "; Written by the toolforge/php buildpack: PHP lives in this layer, not in /usr.
extension_dir = \"{extension_dir}\"
include_path = \".:{layer}/usr/share/php\"
; Debian's compiled-in default is /var/lib/php/sessions, absent and read-only here; Debian's
; php.ini sets gc_probability = 0 because a cron job cleans sessions, and there is no cron.
session.save_path = \"/tmp\"
session.gc_probability = 1
sys_temp_dir = \"/tmp\"
upload_tmp_dir = \"/tmp\"
; PHP's messages reach FPM's log (catch_workers_output) only, not also the web server over
; FastCGI, which logged each one a second time (Apache AH01071).
fastcgi.logging = 0
; opcache: on for FPM, off for the CLI (PHP's default). JIT stays off, as in Debian's opcache.ini.
opcache.enable = 1
opcache.memory_consumption = 128
opcache.max_accelerated_files = 20000
",
        extension_dir = extension_dir.display()
    )
}

/// `<layer>/usr/lib/php/<API>` (20240924 for 8.4), where the extensions are.
fn extension_dir(layer: &Path) -> PathBuf {
    let base = layer.join("usr/lib/php");
    subdirectories(&base, "2")
        .into_iter()
        .find(|dir| dir.file_name().is_some_and(|name| name.len() == 8))
        .unwrap_or_else(|| base.join("20240924"))
}

/// Debian's Composer starts with `#!/usr/bin/php` and its autoloaders require their
/// dependencies by absolute `/usr/share/php/…` paths, which `include_path` does not affect: both
/// are pointed into the layer. Returns how many files were changed.
pub(crate) fn relocate_composer(layer: &Path) -> std::io::Result<usize> {
    let mut changed = 0;
    let composer = layer.join("usr/bin/composer");
    if let Ok(text) = std::fs::read_to_string(&composer)
        && let Some(rest) = text.strip_prefix("#!/usr/bin/php\n")
    {
        rewrite(&composer, &format!("#!/usr/bin/env php\n{rest}"))?;
        changed += 1;
    }
    let share = layer.join("usr/share/php");
    let absolute = format!("'{}/usr/share/php/", layer.display());
    let mut paths = Vec::new();
    debian::walk(&share, &mut paths);
    let autoloaders = paths
        .into_iter()
        .filter(|path| path.file_name().is_some_and(|name| name == "autoload.php") && path.is_file());
    for path in autoloaders {
        let text = std::fs::read_to_string(&path)?;
        if text.contains("'/usr/share/php/") {
            rewrite(&path, &text.replace("'/usr/share/php/", &absolute))?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Replaces a file that may be a hard link or read-only: a new file with the old one's mode.
fn rewrite(path: &Path, text: &str) -> std::io::Result<()> {
    let permissions = std::fs::metadata(path)?.permissions();
    std::fs::remove_file(path)?;
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, permissions)
}

/// The directories in `dir` whose names start with `prefix`.
fn subdirectories(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    debian::subdirectories(dir, |name| name.starts_with(prefix))
}

fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|found| found == extension))
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn priorities() {
        assert_eq!(
            priority("; configuration for php mysql module\n; priority=10\nextension=mysqlnd.so\n"),
            10
        );
        assert_eq!(priority("; priority = 25\nextension=redis.so\n"), 25);
        assert_eq!(priority("extension=intl.so\n"), 20);
    }

    #[test]
    fn configures_a_debian_tree() {
        let layer = tempfile::tempdir().unwrap();
        let layer = layer.path();
        write(
            &layer.join("usr/share/php8.4-mysql/mysql/mysqlnd.ini"),
            "; priority=10\nextension=mysqlnd.so\n",
        );
        write(
            &layer.join("usr/share/php8.4-mysql/mysql/mysqli.ini"),
            "extension=mysqli.so\n",
        );
        write(
            &layer.join("etc/php/8.4/mods-available/redis.ini"),
            "; priority=25\nextension=redis.so\n",
        );
        write(&layer.join("usr/lib/php/8.4/php.ini-production"), "[PHP]\n");
        std::fs::create_dir_all(layer.join("usr/lib/php/20240924")).unwrap();
        assert_eq!(configure(layer).unwrap(), ["mysqli", "mysqlnd", "redis"]);
        let mut links: Vec<String> = std::fs::read_dir(conf_d(layer))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        links.sort();
        assert_eq!(
            links,
            [
                "00-toolforge.ini",
                "10-mysqlnd.ini",
                "20-mysqli.ini",
                "25-redis.ini"
            ]
        );
        assert_eq!(
            std::fs::read_to_string(conf_d(layer).join("10-mysqlnd.ini")).unwrap(),
            "; priority=10\nextension=mysqlnd.so\n"
        );
        let ini = std::fs::read_to_string(conf_d(layer).join("00-toolforge.ini")).unwrap();
        assert!(ini.contains(&format!(
            "extension_dir = \"{}/usr/lib/php/20240924\"",
            layer.display()
        )));
        assert_eq!(std::fs::read_to_string(php_ini(layer)).unwrap(), "[PHP]\n");
        // Idempotent: a second run (a reused layer) yields the same.
        assert_eq!(configure(layer).unwrap(), ["mysqli", "mysqlnd", "redis"]);
    }

    #[test]
    fn relocates_composer() {
        let layer = tempfile::tempdir().unwrap();
        let layer = layer.path();
        write(
            &layer.join("usr/bin/composer"),
            "#!/usr/bin/php\n<?php require __DIR__.'/../share/php/Composer/autoload.php';\n",
        );
        write(
            &layer.join("usr/share/php/Composer/autoload.php"),
            "<?php\nrequire_once '/usr/share/php/Composer/CaBundle/autoload.php';\n",
        );
        assert_eq!(relocate_composer(layer).unwrap(), 2);
        assert!(
            std::fs::read_to_string(layer.join("usr/bin/composer"))
                .unwrap()
                .starts_with("#!/usr/bin/env php\n")
        );
        assert_eq!(
            std::fs::read_to_string(layer.join("usr/share/php/Composer/autoload.php")).unwrap(),
            format!(
                "<?php\nrequire_once '{}/usr/share/php/Composer/CaBundle/autoload.php';\n",
                layer.display()
            )
        );
        assert_eq!(relocate_composer(layer).unwrap(), 0, "idempotent");
    }
}
