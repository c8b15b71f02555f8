//! Composer's layers (cache only): `composer-cache`, Composer's download cache and home, and
//! `vendor`, the vendor directory of the last install, copied back before `composer install` when
//! composer.json, composer.lock and PHP are unchanged (Composer then only checks it).

use crate::PhpBuildpack;
use crate::errors::PhpBuildpackError;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libtoolforge::kept_directory::{self, KeptDirectory};
use libtoolforge::layer::{LayerKey, cached_layer, change};
use libtoolforge::stack::NativeLibraries;
use libtoolforge::user_settings::{Pattern, UserSettings};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComposerCacheKey {
    pub(crate) stack: String,
}

impl LayerKey for ComposerCacheKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self { stack } = self;
        change("stack", stack, &current.stack).into_iter().collect()
    }
}

/// Opens the `composer-cache` layer; returns Composer's environment pointing into it.
pub(crate) fn cache_env(
    context: &BuildContext<PhpBuildpack>,
) -> libcnb::Result<Vec<(&'static str, PathBuf)>, PhpBuildpackError> {
    let key = ComposerCacheKey {
        stack: libtoolforge::stack::key(&context.target),
    };
    let (layer, _) = cached_layer(context, layer_name!("composer-cache"), false, false, &key)?;
    let path = layer.path();
    Ok(vec![
        ("COMPOSER_HOME", path.join("home")),
        ("COMPOSER_CACHE_DIR", path.join("cache")),
    ])
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VendorKey {
    pub(crate) php_version: String,
    pub(crate) composer_json_sha256: String,
    pub(crate) composer_lock_sha256: String,
    /// composer.json's `config.vendor-dir`.
    pub(crate) vendor_dir: String,
    /// The stack and the Debian packages layered on it: what compiled packages were built against.
    pub(crate) native_libraries: NativeLibraries,
    /// The user's settings for Composer in the build environment ([`SETTINGS`]).
    #[serde(default)]
    pub(crate) settings: UserSettings,
}

/// What Composer reads from the environment (`COMPOSER_MIRROR_PATH_REPOS`, `COMPOSER_AUTH`…).
pub(crate) const SETTINGS: [Pattern; 1] = ["COMPOSER_"];

impl LayerKey for VendorKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self {
            php_version,
            composer_json_sha256,
            composer_lock_sha256,
            vendor_dir,
            native_libraries,
            settings,
        } = self;
        [
            change("PHP", php_version, &current.php_version),
            (composer_json_sha256 != &current.composer_json_sha256)
                .then(|| "composer.json changed".to_string()),
            (composer_lock_sha256 != &current.composer_lock_sha256)
                .then(|| "composer.lock changed".to_string()),
            change("vendor-dir", vendor_dir, &current.vendor_dir),
            settings.changes(&current.settings),
        ]
        .into_iter()
        .flatten()
        .chain(native_libraries.changes(&current.native_libraries))
        .collect()
    }
}

/// The vendor directory of the last build with the same key, kept in the `vendor` layer.
pub(crate) fn open(
    context: &BuildContext<PhpBuildpack>,
    key: &VendorKey,
) -> libcnb::Result<KeptDirectory, PhpBuildpackError> {
    kept_directory::open(context, layer_name!("vendor"), &key.vendor_dir, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> VendorKey {
        VendorKey {
            php_version: "8.4.28".into(),
            composer_json_sha256: "a".into(),
            composer_lock_sha256: "b".into(),
            vendor_dir: "vendor".into(),
            native_libraries: NativeLibraries {
                stack: "debian 13 amd64".into(),
                debian_packages: None,
            },
            settings: UserSettings::default(),
        }
    }

    #[test]
    fn changes() {
        assert!(key().changes(&key()).is_empty());
        let mut changed = key();
        changed.composer_lock_sha256 = "c".into();
        changed.php_version = "8.4.29".into();
        assert_eq!(
            key().changes(&changed),
            ["PHP 8.4.28 → 8.4.29", "composer.lock changed"]
        );
    }
}
