//! The app's Composer packages, for the image's SBOM: `vendor/` lives in the app directory, not
//! in a layer, so they go into the buildpack's launch SBOM (`launch.sbom.cdx.json`, which the
//! CNB specification has for "dependencies installed in the /workspace directory"). From
//! composer.lock as the install left it (Composer writes one when the app has none): its
//! `packages`, not `packages-dev`, which `composer install --no-dev` does not install.

use crate::composer::COMPOSER_LOCK;
use libtoolforge::sbom::{Component, Sbom, purl_segment};
use serde_json::Value;
use std::path::Path;

/// The SBOM of the locked packages; empty without a readable composer.lock.
pub(crate) fn launch_sbom(app_dir: &Path) -> libcnb::sbom::Sbom {
    let lock = std::fs::read(app_dir.join(COMPOSER_LOCK))
        .ok()
        .and_then(|text| serde_json::from_slice::<Value>(&text).ok())
        .unwrap_or_default();
    Sbom::new(components(&lock)).to_cnb()
}

/// `pkg:composer/vendor/name@version` of each of `packages`, with its licenses and its
/// distribution's URL.
fn components(lock: &Value) -> Vec<Component> {
    let Some(packages) = lock["packages"].as_array() else {
        return Vec::new();
    };
    packages
        .iter()
        .filter_map(|package| {
            let name = package["name"].as_str()?;
            let version = package["version"].as_str()?;
            let licenses = package["license"]
                .as_array()
                .map(|licenses| {
                    licenses
                        .iter()
                        .filter_map(Value::as_str)
                        .map(ToString::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let purl = format!("pkg:composer/{}@{}", purl_segment(name), purl_segment(version));
            let mut component = Component::library(name, version, Some(purl)).licensed(licenses);
            component.source_url = package["dist"]["url"]
                .as_str()
                .filter(|url| url.starts_with("https://"))
                .map(ToString::to_string);
            Some(component)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locked_packages_not_dev_ones() {
        let lock: Value = serde_json::from_str(
            r#"{"packages": [{"name": "monolog/monolog", "version": "3.9.0", "license": ["MIT"],
                              "dist": {"type": "zip", "url": "https://api.github.com/repos/Seldaek/monolog/zipball/abc"}},
                             {"name": "toolforge-example/greeter", "version": "1.2.0", "dist": {"type": "path", "url": "packages/greeter"}}],
                "packages-dev": [{"name": "phpunit/phpunit", "version": "11.0.0"}]}"#,
        )
        .unwrap();
        let components = components(&lock);
        let purls: Vec<&str> = components.iter().filter_map(|c| c.purl.as_deref()).collect();
        assert_eq!(
            purls,
            [
                "pkg:composer/monolog/monolog@3.9.0",
                "pkg:composer/toolforge-example/greeter@1.2.0"
            ]
        );
        assert_eq!(components[0].licenses, ["MIT"]);
        assert!(components[0].source_url.is_some());
        assert_eq!(components[1].source_url, None);
        assert!(super::components(&Value::Null).is_empty());
    }
}
