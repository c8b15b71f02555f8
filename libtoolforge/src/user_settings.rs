//! The user's settings for a build tool: the variables of the build's platform environment
//! (`pack build --env`, the Tekton task's `ENV_VARS`) that the tool reads, such as npm's
//! `npm_config_omit` or pip's `PIP_INDEX_URL`. They shape what an install makes as much as a
//! lockfile does, so a key field of every layer an install makes: a rebuild after one changed
//! installs again, as a cold build with it would.
//!
//! Only a sha256 of each value is kept: layer metadata is in the image's labels, and these
//! variables carry tokens (`npm_config_//registry.npmjs.org/:_authToken`, `COMPOSER_AUTH`).

use crate::download::sha256;
use libcnb::Platform;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A variable's name, or a prefix ending in `_`, compared without case (npm reads
/// `npm_config_*` in either case).
pub type Pattern = &'static str;

/// Each matching variable's name, with the sha256 of its value. Empty when the user set none,
/// which is also what the keys of layers made before a buildpack read these hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserSettings(BTreeMap<String, String>);

impl UserSettings {
    /// The variables of the build's platform environment (`&context.platform`) that match one
    /// of `patterns`.
    #[must_use]
    pub fn read(platform: &impl Platform, patterns: &[Pattern]) -> Self {
        Self(
            platform
                .env()
                .iter()
                .filter_map(|(name, value)| {
                    let name = name.to_str()?;
                    matches(name, patterns).then(|| (name.to_string(), sha256(value.as_encoded_bytes())))
                })
                .collect(),
        )
    }

    /// What differs from `current`, in words, for [`crate::layer::LayerKey::changes`]: the names
    /// of the variables set, changed or removed.
    #[must_use]
    pub fn changes(&self, current: &Self) -> Option<String> {
        let names: Vec<&str> = self
            .0
            .keys()
            .chain(current.0.keys())
            .filter(|name| self.0.get(*name) != current.0.get(*name))
            .map(String::as_str)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        (!names.is_empty()).then(|| format!("build settings changed: {}", names.join(", ")))
    }
}

fn matches(name: &str, patterns: &[Pattern]) -> bool {
    let name = name.to_ascii_uppercase();
    patterns.iter().any(|pattern| {
        let pattern = pattern.to_ascii_uppercase();
        if pattern.ends_with('_') {
            name.starts_with(&pattern)
        } else {
            name == pattern
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use libcnb::Env;
    use libcnb::generic::GenericPlatform;

    const NPM: [Pattern; 2] = ["npm_config_", "NODE_ENV"];

    fn env(variables: &[(&str, &str)]) -> GenericPlatform {
        let mut env = Env::new();
        for (name, value) in variables {
            env.insert(name, value);
        }
        GenericPlatform::new(env)
    }

    #[test]
    fn reads_matching_variables_in_either_case_and_keeps_no_value() {
        let settings = UserSettings::read(
            &env(&[
                ("NPM_CONFIG_OMIT", "optional"),
                ("npm_config_legacy_peer_deps", "true"),
                ("NODE_ENV", "production"),
                ("NODE_ENVIRONMENT", "x"),
                ("BP_NODEJS_INVENTORY_URL", "http://127.0.0.1/"),
            ]),
            &NPM,
        );
        assert_eq!(
            settings.0.keys().collect::<Vec<_>>(),
            ["NODE_ENV", "NPM_CONFIG_OMIT", "npm_config_legacy_peer_deps"]
        );
        let text = toml::to_string(&settings).unwrap();
        assert!(!text.contains("optional"), "{text}");
        assert_eq!(UserSettings::read(&env(&[]), &NPM), UserSettings::default());
    }

    #[test]
    fn round_trips_in_a_layer_key_between_other_fields() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Key {
            version: String,
            #[serde(default)]
            settings: UserSettings,
            files: Vec<String>,
        }
        let key = Key {
            version: "1".into(),
            settings: UserSettings::read(&env(&[("npm_config_omit", "dev")]), &NPM),
            files: vec!["a".into()],
        };
        let text = toml::to_string(&key).unwrap();
        assert_eq!(toml::from_str::<Key>(&text).unwrap(), key, "{text}");
        let earlier: Key = toml::from_str("version = \"1\"\nfiles = []\n").unwrap();
        assert_eq!(earlier.settings, UserSettings::default());
    }

    #[test]
    fn names_what_changed() {
        let before = UserSettings::read(&env(&[("NPM_CONFIG_OMIT", "dev"), ("NODE_ENV", "x")]), &NPM);
        assert_eq!(before.changes(&before.clone()), None);
        let after = UserSettings::read(
            &env(&[("NPM_CONFIG_OMIT", "optional"), ("npm_config_foo", "1")]),
            &NPM,
        );
        assert_eq!(
            before.changes(&after).as_deref(),
            Some("build settings changed: NODE_ENV, NPM_CONFIG_OMIT, npm_config_foo")
        );
    }
}
