//! The app's Composer dependencies: `composer install` from the lock into the app's vendor
//! directory, over the one kept from the last build (`layers::composer`) when that is current;
//! then composer.json's `compile` script, as Heroku's PHP buildpack runs it.

use crate::PhpBuildpack;
use crate::composer::{COMPILE_SCRIPT, Composer};
use crate::errors::{ComposerStep, PhpBuildpackError};
use crate::layers::composer::{SETTINGS, VendorKey};
use libcnb::build::BuildContext;
use libtoolforge::build_env::BuildEnv;
use libtoolforge::output::BuildOutput;
use libtoolforge::stack::NativeLibraries;
use libtoolforge::user_settings::UserSettings;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How Composer runs: in the build environment, with its home and download cache in the
/// `composer-cache` layer, asking no questions.
struct ComposerEnv<'a> {
    tools: &'a BuildEnv,
    cache_env: Vec<(&'static str, PathBuf)>,
}

impl ComposerEnv<'_> {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = self.tools.command("composer");
        command
            .args(args)
            .envs(self.cache_env.iter().map(|(name, path)| (*name, path)))
            .env("COMPOSER_NO_INTERACTION", "1");
        command
    }
}

/// `composer install`, then composer.json's `compile` script when it has one.
pub(crate) fn install_and_compile(
    context: &BuildContext<PhpBuildpack>,
    output: &mut BuildOutput,
    tools: &BuildEnv,
    composer: &Composer,
    layer: &Path,
    php_version: &str,
) -> Result<(), libcnb::Error<PhpBuildpackError>> {
    const NOTHING_TO_INSTALL: &str =
        "composer.json requires no packages and has no autoload section: nothing to install";
    if !composer.has_dependencies() && !composer.has_compile_script() {
        output.step(NOTHING_TO_INSTALL);
        return Ok(());
    }
    let composer_env = ComposerEnv {
        tools,
        cache_env: crate::layers::composer::cache_env(context)?,
    };
    if composer.has_dependencies() {
        install_dependencies(context, output, &composer_env, composer, (layer, php_version))?;
    } else {
        output.step(NOTHING_TO_INSTALL);
    }
    if composer.has_compile_script() {
        run_compile_script(output, &composer_env, composer.has_dependencies())?;
    }
    Ok(())
}

/// `composer compile`, as Heroku's PHP buildpack runs it after the install: the app's own build
/// step (assets, caches), with the production dependencies in place.
fn run_compile_script(
    output: &mut BuildOutput,
    composer_env: &ComposerEnv,
    after_install: bool,
) -> Result<(), PhpBuildpackError> {
    let when = if after_install {
        "after installing dependencies, "
    } else {
        ""
    };
    output.step(&format!(
        "Running composer.json's `{COMPILE_SCRIPT}` script ({when}as on Heroku)"
    ));
    let args = [COMPILE_SCRIPT, "--no-dev", "--no-interaction"];
    output.detail(&format!("Running `composer {}`", args.join(" ")));
    libtoolforge::command::run_streamed(&mut composer_env.command(&args)).map_err(|error| {
        PhpBuildpackError::ComposerCommand {
            step: ComposerStep::CompileScript,
            error,
        }
    })
}

/// `composer install` from the lock, over the vendor directory of the last build when composer.json,
/// composer.lock and PHP are unchanged.
fn install_dependencies(
    context: &BuildContext<PhpBuildpack>,
    output: &mut BuildOutput,
    composer_env: &ComposerEnv,
    composer: &Composer,
    (layer, php_version): (&Path, &str),
) -> Result<(), libcnb::Error<PhpBuildpackError>> {
    let app_dir = &context.app_dir;
    if composer.has_lock() {
        check_lock_is_current(composer_env.tools, composer, layer)?;
    } else {
        output.warning(
            "No composer.lock: Composer resolves the dependencies anew at every build.\nRun `composer \
             update` and commit the composer.lock it writes, so that every build installs the same versions.",
        );
    }
    let vendor_dir = composer.vendor_dir();
    let key = VendorKey {
        php_version: php_version.to_string(),
        composer_json_sha256: composer.json_sha256(),
        composer_lock_sha256: composer.lock_sha256(),
        vendor_dir: vendor_dir.clone(),
        native_libraries: NativeLibraries::of(&context.target),
        settings: UserSettings::read(&context.platform, &SETTINGS),
    };
    let kept = crate::layers::composer::open(context, &key)?;
    // The kept vendor/ only spares `composer install` its work: over it, Composer finds the locked
    // packages installed and installs nothing, yet still puts back what lives outside vendor/
    // (it drops a package whose install path is missing, such as an `installer-paths` target,
    // from the installed list and installs it again: `Factory::purgePackages`), and runs the
    // scripts and the autoloader as a first build does.
    let reused = composer.has_lock() && kept.restorable(app_dir);
    if reused {
        output.step(&format!(
            "Reusing {vendor_dir}/ from the cache: composer.json, composer.lock and PHP are unchanged"
        ));
        kept.restore(app_dir).map_err(PhpBuildpackError::Io)?;
    } else if let Some(line) = kept.cache.describe(&format!("{vendor_dir}/")) {
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
    libtoolforge::command::run_streamed(&mut composer_env.command(&args)).map_err(|error| {
        PhpBuildpackError::ComposerCommand {
            step: ComposerStep::Install,
            error,
        }
    })?;
    // A reused copy is still the one a first build installed: nothing to keep anew.
    if composer.has_lock() && !reused {
        kept.save(app_dir).map_err(PhpBuildpackError::Io)?;
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
