//! The `php` layer (build and launch): PHP 8.4, its extensions, PHP-FPM, Composer, Apache httpd
//! and nginx from the stack's Debian repositories, unpacked with `dpkg-deb -x` (no maintainer
//! scripts, no root) and configured to run from the layer as any uid; plus the web launcher
//! behind `heroku-php-apache2` and `heroku-php-nginx`. Reused while the packages, the versions
//! apt resolves and the stack are unchanged.

use crate::PhpBuildpack;
use crate::errors::PhpBuildpackError;
use crate::extensions::STUBS;
use crate::php_ini;
use libcnb::additional_buildpack_binary_path;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use libtoolforge::debian::{self, Apt, PackageSpec, Resolved};
use libtoolforge::debian_layer::{self, PackagesLayer};
use libtoolforge::disk;
use libtoolforge::error::IoError;
use libtoolforge::output::BuildOutput;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use toolforge_php::web::{APACHE_COMMAND, LAUNCHER, NGINX_COMMAND};

/// Raised when what this module writes into the layer changes, so that layers made by an older
/// buildpack are rebuilt rather than reused.
const LAYOUT: &str = "1";

/// What apt resolved, kept in the `apt-state` layer (a table: TOML has no top-level arrays).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Resolution {
    packages: Vec<Resolved>,
}

/// apt resolving against the run image with the stubs, and what it resolved `packages` to.
pub(crate) fn resolve(
    context: &BuildContext<PhpBuildpack>,
    output: &mut BuildOutput,
    packages: &[PackageSpec],
) -> libcnb::Result<(Apt, Vec<Resolved>), PhpBuildpackError> {
    // The buildpack chose the packages: no location in the app to point errors at.
    let (apt, resolution) = debian_layer::resolve(
        context,
        output,
        packages,
        STUBS,
        |_| None,
        |apt| {
            Ok(Resolution {
                packages: apt.resolve(packages)?,
            })
        },
    )?;
    Ok((apt, resolution.packages))
}

/// Installs `resolved` into the layer and configures PHP unless the cache has exactly them;
/// returns the layer.
pub(crate) fn install(
    context: &BuildContext<PhpBuildpack>,
    output: &mut BuildOutput,
    apt: &Apt,
    requested: &[PackageSpec],
    resolved: &[Resolved],
    vendor_bin: Option<&Path>,
) -> libcnb::Result<PathBuf, PhpBuildpackError> {
    let installed = debian_layer::install(
        context,
        output,
        apt,
        &PackagesLayer::new(layer_name!("php"), "PHP")
            .layout(LAYOUT)
            .run_image_check(additional_buildpack_binary_path!("toolforge-php-run-image-check")),
        (requested, resolved),
        |output, path| configure(output, path).map(|()| Vec::new()),
        |path| layer_env(path, vendor_bin),
    )?;
    // Always the launcher of this buildpack version, also in a reused layer.
    install_launcher(&installed.path)
        .map_err(|error| PhpBuildpackError::Io(IoError::new("install the web launcher", error)))?;
    Ok(installed.path)
}

/// What the packages' maintainer scripts and Debian's PHP tooling would have done: php.ini and
/// the extensions' ini files, Composer pointed into the layer, `php` and `php-fpm`.
fn configure(output: &mut BuildOutput, layer: &Path) -> Result<(), PhpBuildpackError> {
    let io = |what: &'static str| move |error| PhpBuildpackError::Io(IoError::new(what, error));
    let extensions = php_ini::configure(layer).map_err(io("configure PHP in the layer"))?;
    php_ini::relocate_composer(layer).map_err(io("point Composer into the layer"))?;
    link_programs(layer).map_err(io("link php and php-fpm"))?;
    output.detail(&format!(
        "{} in the layer, {} extension ini files enabled",
        disk::format_size(disk::apparent_size(layer)),
        extensions.len(),
    ));
    Ok(())
}

/// `php` and `php-fpm` without the version, as Debian's alternatives and Procfiles name them.
fn link_programs(layer: &Path) -> std::io::Result<()> {
    for (dir, name, target) in [
        ("usr/bin", "php", "php8.4"),
        ("usr/sbin", "php-fpm", "php-fpm8.4"),
    ] {
        let link = layer.join(dir).join(name);
        if link.symlink_metadata().is_err() && layer.join(dir).join(target).is_file() {
            std::os::unix::fs::symlink(target, link)?;
        }
    }
    Ok(())
}

/// The launcher in `bin/`, and the names Procfiles call it by in `usr/bin/`, on PATH with the
/// packages' programs (the launcher finds the layer from its own path).
fn install_launcher(layer: &Path) -> std::io::Result<()> {
    let bin = layer.join("bin");
    std::fs::create_dir_all(&bin)?;
    let launcher = bin.join(LAUNCHER);
    let _ = std::fs::remove_file(&launcher);
    std::fs::copy(additional_buildpack_binary_path!("toolforge-php-web"), &launcher)?;
    let usr_bin = layer.join("usr/bin");
    std::fs::create_dir_all(&usr_bin)?;
    for name in [APACHE_COMMAND, NGINX_COMMAND] {
        let link = usr_bin.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(Path::new("../../bin").join(LAUNCHER), link)?;
    }
    Ok(())
}

/// The packages' search paths ([`debian::layer_env`]), PHP pointed at its configuration in the
/// layer, and the programs of Composer packages (`vendor/bin`) last on PATH, as on Heroku.
pub(crate) fn layer_env(layer: &Path, vendor_bin: Option<&Path>) -> LayerEnv {
    let env = match vendor_bin {
        Some(dir) => debian::layer_env(layer).chainable_insert(
            Scope::All,
            ModificationBehavior::Append,
            "PATH",
            dir.display().to_string(),
        ),
        None => debian::layer_env(layer),
    };
    env.chainable_insert(
        Scope::All,
        ModificationBehavior::Override,
        "PHPRC",
        php_ini::php_ini(layer).display().to_string(),
    )
    .chainable_insert(
        Scope::All,
        ModificationBehavior::Override,
        "PHP_INI_SCAN_DIR",
        php_ini::conf_d(layer).display().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment() {
        let layer = tempfile::tempdir().unwrap();
        let layer = layer.path();
        for dir in ["usr/bin", "usr/sbin", "usr/lib/x86_64-linux-gnu"] {
            std::fs::create_dir_all(layer.join(dir)).unwrap();
        }
        std::fs::write(layer.join("usr/lib/x86_64-linux-gnu/libsodium.so.23"), "").unwrap();
        let mut base = libcnb::Env::new();
        base.insert("PATH", "/usr/bin");
        let env = layer_env(layer, Some(Path::new("/workspace/vendor/bin"))).apply(Scope::Launch, &base);
        let l = layer.display();
        assert_eq!(
            env.get_string_lossy("PATH").unwrap(),
            format!("{l}/usr/bin:{l}/usr/sbin:/usr/bin:/workspace/vendor/bin")
        );
        assert_eq!(
            env.get_string_lossy("LD_LIBRARY_PATH").unwrap(),
            format!("{l}/usr/lib/x86_64-linux-gnu:{l}/usr/lib")
        );
        assert_eq!(
            env.get_string_lossy("PHPRC").unwrap(),
            format!("{l}/etc/php/8.4/php.ini")
        );
        assert_eq!(
            env.get_string_lossy("PHP_INI_SCAN_DIR").unwrap(),
            format!("{l}/etc/php/8.4/conf.d")
        );
    }
}
