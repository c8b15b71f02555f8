//! The app's Composer dependencies: `composer install` from the lock into the app's vendor
//! directory, over the one kept from the last build (`layers::composer`) when that is current.

use crate::PhpBuildpack;
use crate::composer::Composer;
use crate::errors::{ComposerStep, PhpBuildpackError};
use crate::layers::composer::VendorKey;
use libcnb::build::BuildContext;
use libtoolforge::build_env::BuildEnv;
use libtoolforge::output::BuildOutput;
use libtoolforge::stack::NativeLibraries;
use std::path::Path;

/// `composer install` from the lock, over the vendor directory of the last build when composer.json,
/// composer.lock and PHP are unchanged.
pub(crate) fn install_dependencies(
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
    let cache_env = crate::layers::composer::cache_env(context)?;
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
        composer_json_sha256: composer.json_sha256(),
        composer_lock_sha256: composer.lock_sha256(),
        vendor_dir: vendor_dir.clone(),
        native_libraries: NativeLibraries::of(&context.target),
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
    libtoolforge::command::run_streamed(&mut composer_command(&args)).map_err(|error| {
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
