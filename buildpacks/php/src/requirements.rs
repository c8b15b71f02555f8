//! What the app requires of PHP: the packages for its extensions, the PHP version its
//! `require.php` constraints admit, and the extensions PHP must then load.

use crate::composer::{ExtensionRequirement, PhpRequest};
use crate::config::PhpConfig;
use crate::constraint;
use crate::errors::PhpBuildpackError;
use crate::extensions::{self, PHP_BRANCH, Provider};
use libtoolforge::build_env::BuildEnv;
use libtoolforge::debian::{PackageSpec, Resolved};
use libtoolforge::version_request::VersionMatcher;
use semver::Version;
use std::collections::BTreeSet;

/// What to install: packages, and the extensions whose loading is checked afterwards.
pub(crate) struct Wanted {
    pub(crate) packages: Vec<PackageSpec>,
    /// Every extension asked for, for the build log.
    pub(crate) extensions: BTreeSet<String>,
    /// Those a package provides, which `php -m` must then list.
    pub(crate) loaded: BTreeSet<String>,
}

impl Wanted {
    pub(crate) fn for_app(
        config: &PhpConfig,
        requirements: &[ExtensionRequirement],
    ) -> Result<Self, PhpBuildpackError> {
        let mut asked: Vec<(String, Option<&ExtensionRequirement>)> = extensions::DEFAULT
            .iter()
            .map(|name| ((*name).to_string(), None))
            .collect();
        asked.extend(
            config
                .extensions
                .iter()
                .map(|name| (name.to_ascii_lowercase(), None)),
        );
        asked.extend(
            requirements
                .iter()
                .map(|requirement| (requirement.name.clone(), Some(requirement))),
        );
        let mut packages: BTreeSet<&str> = extensions::BASE_PACKAGES.iter().copied().collect();
        let mut wanted = Self {
            packages: Vec::new(),
            extensions: BTreeSet::new(),
            loaded: BTreeSet::new(),
        };
        for (name, requirement) in asked {
            match extensions::provider(&name) {
                Some(Provider::BuiltIn) => {}
                Some(Provider::Package(package)) => {
                    packages.insert(package);
                    wanted.loaded.insert(name.clone());
                }
                None => {
                    return Err(PhpBuildpackError::UnknownExtension {
                        name,
                        requirement: requirement.cloned().map(Box::new),
                        known: extensions::known(),
                    });
                }
            }
            wanted.extensions.insert(name);
        }
        wanted.packages = packages.into_iter().filter_map(PackageSpec::parse).collect();
        Ok(wanted)
    }
}

/// The PHP release apt resolved (`8.4.28-1~deb13u1` → 8.4.28).
pub(crate) fn php_version(resolved: &[Resolved]) -> Result<Version, PhpBuildpackError> {
    let package = format!("php{PHP_BRANCH}-cli");
    resolved
        .iter()
        .find(|resolved| resolved.name == package)
        .and_then(|resolved| {
            let upstream = resolved
                .version
                .split_once(':')
                .map_or(resolved.version.as_str(), |(_, rest)| rest);
            constraint::release(upstream)
        })
        .ok_or(PhpBuildpackError::NoPhpPackage)
}

/// Every `require.php` (the app's and its locked packages') must admit the PHP we have.
pub(crate) fn check_php_requirements(
    requests: &[PhpRequest],
    version: &Version,
) -> Result<(), PhpBuildpackError> {
    match requests.iter().find(|request| !request.matcher.matches(version)) {
        Some(request) => Err(PhpBuildpackError::PhpVersion {
            request: Box::new(request.clone()),
            provided: version.to_string(),
        }),
        None => Ok(()),
    }
}

/// Where the PHP version's requirement comes from, for the build log.
pub(crate) fn describe_php_requirement(requests: &[PhpRequest]) -> String {
    requests
        .iter()
        .find_map(|request| Some((request, request.origin.as_ref()?)))
        .map_or_else(
            || "Debian 13's; composer.json can state `require.php`".to_string(),
            |(request, origin)| format!("satisfies `{request}` from {}", origin.file),
        )
}

/// `php -m` must list every extension a package was installed for.
pub(crate) fn check_extensions_load(
    tools: &BuildEnv,
    wanted: &BTreeSet<String>,
) -> Result<(), PhpBuildpackError> {
    let listed = libtoolforge::command::output(tools.command("php").arg("-m")).map_err(|error| {
        PhpBuildpackError::ExtensionsNotLoaded {
            missing: wanted.iter().cloned().collect(),
            output: error.output_tail.clone(),
        }
    })?;
    let loaded: BTreeSet<String> = listed
        .lines()
        .map(|line| line.trim().to_ascii_lowercase())
        .collect();
    let missing: Vec<String> = wanted
        .iter()
        .filter(|name| !loaded.contains(*name))
        .cloned()
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(PhpBuildpackError::ExtensionsNotLoaded {
            missing,
            output: listed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constraint::Constraint;
    use libtoolforge::version_request::{Origin, VersionRequest};

    fn requirement(name: &str) -> ExtensionRequirement {
        ExtensionRequirement {
            name: name.into(),
            constraint: "*".into(),
            origin: Origin::line("composer.json", 3),
        }
    }

    fn php(constraint: &str) -> PhpRequest {
        let origin = Origin::line("composer.json", 3).field("require.php");
        VersionRequest::new(constraint, Some(origin), Constraint::parse(constraint).unwrap())
    }

    #[test]
    fn wanted_packages() {
        let config = PhpConfig {
            extensions: vec!["GD".into()],
            ..PhpConfig::default()
        };
        let wanted = Wanted::for_app(&config, &[requirement("redis"), requirement("json")]).unwrap();
        let packages: Vec<String> = wanted.packages.iter().map(ToString::to_string).collect();
        assert_eq!(
            packages,
            [
                "apache2-bin",
                "composer",
                "nginx",
                "php8.4-cli",
                "php8.4-curl",
                "php8.4-fpm",
                "php8.4-gd",
                "php8.4-intl",
                "php8.4-mbstring",
                "php8.4-mysql",
                "php8.4-opcache",
                "php8.4-redis",
                "php8.4-xml",
                "php8.4-zip"
            ]
        );
        assert!(wanted.loaded.contains("redis") && !wanted.loaded.contains("json"));
        let Err(PhpBuildpackError::UnknownExtension {
            name, requirement, ..
        }) = Wanted::for_app(&PhpConfig::default(), &[requirement("mysql")])
        else {
            panic!("accepted ext-mysql");
        };
        assert_eq!(
            (name.as_str(), requirement.unwrap().origin.line),
            ("mysql", Some(3))
        );
    }

    #[test]
    fn php_requirements() {
        let version = Version::new(8, 4, 28);
        assert!(check_php_requirements(&[php(">=8.2"), php("8.4.*")], &version).is_ok());
        let Err(PhpBuildpackError::PhpVersion { request, provided }) =
            check_php_requirements(&[php(">=8.2"), php("^7.4")], &version)
        else {
            panic!("PHP 8.4.28 satisfies ^7.4");
        };
        assert_eq!((request.text.as_str(), provided.as_str()), ("^7.4", "8.4.28"));
        assert_eq!(
            describe_php_requirement(&[php(">=8.2")]),
            "satisfies `>=8.2` from composer.json"
        );
        assert_eq!(
            describe_php_requirement(&[]),
            "Debian 13's; composer.json can state `require.php`"
        );
    }

    #[test]
    fn php_version_from_debian() {
        let resolved = [Resolved {
            name: "php8.4-cli".into(),
            version: "8.4.28-1~deb13u1".into(),
            replaces: None,
        }];
        assert_eq!(php_version(&resolved).unwrap().to_string(), "8.4.28");
        assert!(php_version(&[]).is_err());
    }
}
