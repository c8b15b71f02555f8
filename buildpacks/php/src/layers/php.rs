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
use libtoolforge::apt_state::{self, AptState};
use libtoolforge::debian::{self, Apt, PackageSpec, RUN_IMAGE_STATUS, Resolved};
use libtoolforge::layer::{Cache, LayerKey, cached_layer, change};
use libtoolforge::output::{BuildOutput, format_duration};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Raised when what this module writes into the layer changes, so that layers made by an older
/// buildpack are rebuilt rather than reused. A string: the lifecycle keeps launch layers'
/// metadata as JSON in the image's label, and an integer comes back from it as a float.
const LAYOUT: &str = "1";
/// The web launcher and the names Procfiles call it by.
const LAUNCHER: &str = "toolforge-php-web";
const LAUNCHER_NAMES: [&str; 2] = ["heroku-php-apache2", "heroku-php-nginx"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhpLayerKey {
    /// The requested packages, sorted.
    pub(crate) requested: Vec<String>,
    /// Every package in the layer and its version.
    pub(crate) resolved: BTreeMap<String, String>,
    pub(crate) stack: String,
    pub(crate) layout: String,
}

impl LayerKey for PhpLayerKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self {
            requested,
            resolved,
            stack,
            layout,
        } = self;
        let mut changes =
            debian::package_changes((requested, resolved), (&current.requested, &current.resolved));
        changes.extend(change("stack", stack, &current.stack));
        changes.extend(change("buildpack layout", layout, &current.layout));
        changes
    }
}

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
    let state: AptState<Resolution> =
        apt_state::open(context, output, packages, Path::new(RUN_IMAGE_STATUS))?;
    let with_stubs = state.dir().join("status-with-stubs");
    if let Some(resolution) = state.cached.clone()
        && with_stubs.is_file()
    {
        return Ok((state.apt.with_status(&with_stubs), resolution.packages));
    }
    debian::write_status_with_stubs(&state.apt, Path::new(RUN_IMAGE_STATUS), STUBS, &with_stubs)
        .map_err(PhpBuildpackError::Update)?;
    let apt = state.apt.with_status(&with_stubs);
    let resolved = apt.resolve(packages).map_err(PhpBuildpackError::Resolve)?;
    let resolution = Resolution { packages: resolved };
    state.save(&resolution);
    Ok((apt, resolution.packages))
}

/// Installs `resolved` into the layer unless the cache has exactly them; returns the layer.
pub(crate) fn install(
    context: &BuildContext<PhpBuildpack>,
    output: &mut BuildOutput,
    apt: &Apt,
    requested: &[PackageSpec],
    resolved: &[Resolved],
    vendor_bin: Option<&Path>,
) -> libcnb::Result<PathBuf, PhpBuildpackError> {
    let mut requested: Vec<String> = requested.iter().map(ToString::to_string).collect();
    requested.sort();
    let key = PhpLayerKey {
        requested,
        resolved: resolved
            .iter()
            .map(|package| (package.name.clone(), package.version.clone()))
            .collect(),
        stack: libtoolforge::stack::key(&context.target),
        layout: LAYOUT.to_string(),
    };
    let (layer, cache) = cached_layer(context, layer_name!("php"), true, true, &key)?;
    let path = layer.path();
    if let Some(line) = cache.describe("PHP") {
        output.step(&line);
    }
    if cache != Cache::Reused {
        let started = Instant::now();
        output.step(&format!("Installing {} Debian packages", resolved.len()));
        let debs = apt.download(resolved).map_err(PhpBuildpackError::Download)?;
        apt.prune_archives(resolved);
        debian::unpack(&path, &debs).map_err(PhpBuildpackError::Unpack)?;
        let io = |what: &'static str| move |error| PhpBuildpackError::Io { what, error };
        let extensions = php_ini::configure(&path).map_err(io("configure PHP in the layer"))?;
        php_ini::relocate_composer(&path).map_err(io("point Composer into the layer"))?;
        link_programs(&path).map_err(io("link php and php-fpm"))?;
        output.detail(&format!(
            "{} in the layer, {} extension ini files enabled ({})",
            debian::format_size(debian::disk_usage(&path)),
            extensions.len(),
            format_duration(started.elapsed())
        ));
    }
    // Always the launcher of this buildpack version, also in a reused layer.
    install_launcher(&path).map_err(|error| PhpBuildpackError::Io {
        what: "install the web launcher",
        error,
    })?;
    layer.write_env(layer_env(&path, vendor_bin))?;
    Ok(path)
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
    for name in LAUNCHER_NAMES {
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

    fn key(requested: &[&str], resolved: &[(&str, &str)]) -> PhpLayerKey {
        PhpLayerKey {
            requested: requested.iter().map(ToString::to_string).collect(),
            resolved: resolved
                .iter()
                .map(|(name, version)| ((*name).to_string(), (*version).to_string()))
                .collect(),
            stack: "debian 13 amd64".into(),
            layout: LAYOUT.to_string(),
        }
    }

    #[test]
    fn changes() {
        let old = key(&["php8.4-cli"], &[("php8.4-cli", "8.4.28-1~deb13u1")]);
        assert!(old.changes(&old.clone()).is_empty());
        assert_eq!(
            old.changes(&key(
                &["php8.4-cli", "php8.4-gd"],
                &[
                    ("php8.4-cli", "8.4.29-1~deb13u1"),
                    ("php8.4-gd", "8.4.29-1~deb13u1")
                ]
            )),
            ["php8.4-gd added"]
        );
    }

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
