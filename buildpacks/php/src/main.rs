mod composer;
mod config;
mod constraint;
mod errors;
mod extensions;
mod layers;
mod php_ini;

use crate::composer::{COMPOSER_JSON, COMPOSER_LOCK, Composer, Requirement};
use crate::config::PhpConfig;
use crate::constraint::{Constraint, Version};
use crate::errors::{ComposerStep, PhpBuildpackError, error_message};
use crate::extensions::{PHP_BRANCH, Provider};
use crate::layers::composer::VendorKey;
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::data::launch::{LaunchBuilder, ProcessBuilder};
use libcnb::data::process_type;
use libcnb::detect::{DetectContext, DetectResult};
use libcnb::generic::GenericPlatform;
use libcnb::{Buildpack, Platform, buildpack_main};
use libtoolforge::build_env::BuildEnv;
use libtoolforge::debian::{PackageSpec, Resolved};
use libtoolforge::languages::{self, LanguageMetadata};
use libtoolforge::layer::Cache;
use libtoolforge::output::BuildOutput;
use std::collections::BTreeSet;
use std::path::Path;

pub(crate) struct PhpBuildpack;

impl Buildpack for PhpBuildpack {
    type Platform = GenericPlatform;
    type Metadata = LanguageMetadata;
    type Error = PhpBuildpackError;

    /// buildpack.toml's files: Composer's, or an `index.php` where Toolforge's and Heroku's
    /// conventions put the document root.
    fn detect(&self, context: DetectContext<Self>) -> libcnb::Result<DetectResult, Self::Error> {
        let php = context.buildpack_descriptor.metadata.language();
        let detected = languages::detects(&context.app_dir, php, || php.has_files(&context.app_dir));
        languages::detect_result::<Self>(php, detected)
    }

    fn build(&self, context: BuildContext<Self>) -> libcnb::Result<BuildResult, Self::Error> {
        let mut output = BuildOutput::start("PHP", "toolforge/php");
        let app_dir = &context.app_dir;
        let config = config::read(app_dir).map_err(PhpBuildpackError::Config)?;
        let composer = Composer::read(app_dir).map_err(PhpBuildpackError::Composer)?;
        let requirements = composer.requirements().map_err(PhpBuildpackError::Composer)?;

        let wanted = Wanted::for_app(&config, &requirements)?;
        output.step(&format!(
            "PHP {PHP_BRANCH} from Debian with the extensions {}",
            wanted.extensions.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
        let (apt, resolved) = layers::php::resolve(&context, &mut output, &wanted.packages)?;
        let php_version = php_version(&resolved)?;
        check_php_requirements(&requirements, &php_version)?;
        output.step(&format!(
            "PHP {php_version} ({})",
            requirements
                .iter()
                .find(|requirement| requirement.name == "php")
                .map_or_else(
                    || "Debian 13's; composer.json can state `require.php`".to_string(),
                    |requirement| format!(
                        "satisfies `{}` from {}",
                        requirement.constraint,
                        requirement.origin.file()
                    )
                )
        ));
        let vendor_bin = composer.has_json().then(|| app_dir.join(composer.bin_dir()));
        let layer = layers::php::install(
            &context,
            &mut output,
            &apt,
            &wanted.packages,
            &resolved,
            vendor_bin.as_deref(),
        )?;
        let mut tools = BuildEnv::new(context.platform.env(), app_dir);
        tools.add_layer_env(&layers::php::layer_env(&layer, vendor_bin.as_deref()));
        check_extensions_load(&tools, &wanted.loaded)?;

        if composer.has_json() {
            install_dependencies(
                &context,
                &mut output,
                &tools,
                &composer,
                &layer,
                &php_version.to_string(),
            )?;
        }

        let mut result = BuildResultBuilder::new();
        if !app_dir.join("Procfile").is_file() {
            let document_root = document_root(app_dir, &config)?;
            let command = config.web_server.command();
            output.step(&format!(
                "Default process: web = `{command} {document_root}` (a Procfile's `web:` replaces it)"
            ));
            result = result.launch(
                LaunchBuilder::new()
                    .process(
                        ProcessBuilder::new(process_type!("web"), [command, document_root.as_str()])
                            .default(true)
                            .build(),
                    )
                    .build(),
            );
        }
        output.done();
        result.build()
    }

    fn on_error(&self, error: libcnb::Error<Self::Error>) {
        libtoolforge::fail(&error, error_message);
    }
}

/// What to install: packages, and the extensions whose loading is checked afterwards.
struct Wanted {
    packages: Vec<PackageSpec>,
    /// Every extension asked for, for the build log.
    extensions: BTreeSet<String>,
    /// Those a package provides, which `php -m` must then list.
    loaded: BTreeSet<String>,
}

impl Wanted {
    fn for_app(config: &PhpConfig, requirements: &[Requirement]) -> Result<Self, PhpBuildpackError> {
        let mut asked: Vec<(String, Option<&Requirement>)> = extensions::DEFAULT
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
                .filter(|requirement| requirement.name != "php")
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
fn php_version(resolved: &[Resolved]) -> Result<Version, PhpBuildpackError> {
    let package = format!("php{PHP_BRANCH}-cli");
    resolved
        .iter()
        .find(|resolved| resolved.name == package)
        .and_then(|resolved| {
            let upstream = resolved
                .version
                .split_once(':')
                .map_or(resolved.version.as_str(), |(_, rest)| rest);
            Version::parse(upstream)
        })
        .ok_or(PhpBuildpackError::NoPhpPackage)
}

/// Every `require.php` (the app's and its locked packages') must admit the PHP we have.
fn check_php_requirements(requirements: &[Requirement], version: &Version) -> Result<(), PhpBuildpackError> {
    for requirement in requirements
        .iter()
        .filter(|requirement| requirement.name == "php")
    {
        let constraint = Constraint::parse(&requirement.constraint)
            .map_err(|_| PhpBuildpackError::InvalidPhpConstraint(requirement.clone()))?;
        if !constraint.admits(*version) {
            return Err(PhpBuildpackError::PhpVersion {
                requirement: requirement.clone(),
                provided: version.to_string(),
            });
        }
    }
    Ok(())
}

/// `php -m` must list every extension a package was installed for.
fn check_extensions_load(tools: &BuildEnv, wanted: &BTreeSet<String>) -> Result<(), PhpBuildpackError> {
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

/// `composer install` from the lock, or the vendor directory of the last build when composer.json,
/// composer.lock and PHP are unchanged.
fn install_dependencies(
    context: &BuildContext<PhpBuildpack>,
    output: &mut BuildOutput,
    tools: &BuildEnv,
    composer: &Composer,
    layer: &Path,
    php_version: &str,
) -> Result<(), libcnb::Error<PhpBuildpackError>> {
    let app_dir = &context.app_dir;
    if !composer.has_dependencies() {
        output.step("composer.json requires no packages and has no autoload section: nothing to install");
        return Ok(());
    }
    if composer.has_lock() {
        check_lock_is_current(tools, composer, layer)?;
    } else {
        output.warning(
            "No composer.lock: Composer resolves the dependencies anew at every build.\nRun `composer \
             update` and commit the composer.lock it writes, so that every build installs the same versions.",
        );
    }
    let cache_env = layers::composer::cache_env(context)?;
    let composer_command = |args: &[&str]| {
        let mut command = tools.command("composer");
        command
            .args(args)
            .envs(cache_env.iter().map(|(name, path)| (*name, path)))
            .env("COMPOSER_NO_INTERACTION", "1");
        command
    };
    let vendor_dir = composer.vendor_dir();
    let key = VendorKey {
        php_version: php_version.to_string(),
        composer_json_sha256: libtoolforge::download::file_sha256(&app_dir.join(COMPOSER_JSON))
            .unwrap_or_default(),
        composer_lock_sha256: libtoolforge::download::file_sha256(&app_dir.join(COMPOSER_LOCK))
            .unwrap_or_default(),
        vendor_dir: vendor_dir.clone(),
        stack: libtoolforge::stack::key(&context.target),
    };
    let kept = layers::composer::open(context, &key)?;
    if composer.has_lock() && kept.cache == Cache::Reused && !app_dir.join(&vendor_dir).exists() {
        output.step(&format!(
            "Reusing {vendor_dir}/ from the cache: composer.json, composer.lock and PHP are unchanged; not installing"
        ));
        kept.restore(app_dir)?;
        let args = ["dump-autoload", "--optimize", "--no-dev"];
        output.detail(&format!("Running `composer {}`", args.join(" ")));
        libtoolforge::command::run_streamed(&mut composer_command(&args)).map_err(|error| {
            PhpBuildpackError::ComposerCommand {
                step: ComposerStep::DumpAutoload,
                error,
            }
        })?;
        return Ok(());
    }
    if let Some(line) = kept.cache.describe(&format!("{vendor_dir}/")) {
        output.step(&line);
    }
    let args = [
        "install",
        "--no-dev",
        "--optimize-autoloader",
        "--no-interaction",
        "--no-progress",
    ];
    output.step(&format!("Running `composer {}`", args.join(" ")));
    libtoolforge::command::run_streamed(&mut composer_command(&args)).map_err(|error| {
        PhpBuildpackError::ComposerCommand {
            step: ComposerStep::Install,
            error,
        }
    })?;
    if composer.has_lock() {
        kept.save(app_dir)?;
    }
    Ok(())
}

/// composer.lock's `content-hash` must be the hash of the current composer.json, computed by
/// Composer's own code (`Locker::getContentHash`,
/// <https://getcomposer.org/doc/01-basic-usage.md#commit-your-composer-lock-file-to-version-control>).
fn check_lock_is_current(
    tools: &BuildEnv,
    composer: &Composer,
    layer: &Path,
) -> Result<(), PhpBuildpackError> {
    let autoload = layer.join("usr/share/php/Composer/autoload.php");
    let script = "require getenv('TOOLFORGE_COMPOSER_AUTOLOAD'); \
                  echo Composer\\Package\\Locker::getContentHash(file_get_contents('composer.json'));";
    let hash = libtoolforge::command::output(
        tools
            .command("php")
            .args(["-r", script])
            .env("TOOLFORGE_COMPOSER_AUTOLOAD", autoload),
    )
    .map_err(|error| PhpBuildpackError::ComposerCommand {
        step: ComposerStep::ContentHash,
        error,
    })?;
    if composer.locked_content_hash() == Some(hash.trim()) {
        Ok(())
    } else {
        Err(PhpBuildpackError::LockOutOfDate {
            missing_from_lock: composer.missing_from_lock(),
        })
    }
}

/// The default web process's document root: project.toml's, else Toolforge's `public_html/`,
/// else the common `public/`, else the app's root.
fn document_root(app_dir: &Path, config: &PhpConfig) -> Result<String, PhpBuildpackError> {
    if let Some(document_root) = &config.document_root {
        return if app_dir.join(document_root).is_dir() {
            Ok(document_root.trim_end_matches('/').to_string())
        } else {
            Err(PhpBuildpackError::MissingDocumentRoot {
                document_root: document_root.clone(),
            })
        };
    }
    Ok(["public_html", "public"]
        .into_iter()
        .find(|dir| app_dir.join(dir).is_dir())
        .unwrap_or(".")
        .to_string())
}

buildpack_main!(PhpBuildpack);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::composer::Origin;

    fn app(dirs: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for sub in dirs {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        dir
    }

    #[test]
    fn document_roots() {
        let config = PhpConfig::default();
        assert_eq!(
            document_root(app(&["public_html", "public"]).path(), &config).unwrap(),
            "public_html"
        );
        assert_eq!(document_root(app(&["public"]).path(), &config).unwrap(), "public");
        assert_eq!(document_root(app(&[]).path(), &config).unwrap(), ".");
        let config = PhpConfig {
            document_root: Some("web/".into()),
            ..PhpConfig::default()
        };
        assert_eq!(document_root(app(&["web"]).path(), &config).unwrap(), "web");
        assert!(matches!(
            document_root(app(&[]).path(), &config),
            Err(PhpBuildpackError::MissingDocumentRoot { .. })
        ));
    }

    fn requirement(name: &str, constraint: &str) -> Requirement {
        Requirement {
            name: name.into(),
            constraint: constraint.into(),
            origin: Origin::App { line: Some(3) },
        }
    }

    #[test]
    fn wanted_packages() {
        let config = PhpConfig {
            extensions: vec!["GD".into()],
            ..PhpConfig::default()
        };
        let wanted = Wanted::for_app(
            &config,
            &[
                requirement("php", "^8.2"),
                requirement("redis", "*"),
                requirement("json", "*"),
            ],
        )
        .unwrap();
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
        }) = Wanted::for_app(&PhpConfig::default(), &[requirement("mysql", "*")])
        else {
            panic!("accepted ext-mysql");
        };
        assert_eq!(
            (name.as_str(), requirement.unwrap().origin.line()),
            ("mysql", Some(3))
        );
    }

    #[test]
    fn php_requirements() {
        let version = Version::parse("8.4.28").unwrap();
        assert!(
            check_php_requirements(&[requirement("php", ">=8.2"), requirement("intl", "*")], &version)
                .is_ok()
        );
        assert!(matches!(
            check_php_requirements(&[requirement("php", "^7.4")], &version),
            Err(PhpBuildpackError::PhpVersion { .. })
        ));
        assert!(matches!(
            check_php_requirements(&[requirement("php", "latest")], &version),
            Err(PhpBuildpackError::InvalidPhpConstraint(_))
        ));
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
