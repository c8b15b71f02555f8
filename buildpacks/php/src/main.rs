mod app;
mod composer;
mod composer_install;
mod config;
mod constraint;
mod document_root;
mod errors;
mod extensions;
#[cfg(test)]
mod fuzz;
mod layers;
mod php_ini;
mod requirements;
mod sbom;

use crate::app::App;
use crate::errors::{PhpBuildpackError, error_message};
use crate::extensions::PHP_BRANCH;
use crate::requirements::Wanted;
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::detect::{DetectContext, DetectResult};
use libcnb::generic::GenericPlatform;
use libcnb::{Buildpack, Platform, buildpack_main};
use libtoolforge::build_env::BuildEnv;
use libtoolforge::languages::{self, LanguageMetadata};
use libtoolforge::output::BuildOutput;

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
        languages::pass_on_plan_entries(&context)?;
        let app_dir = &context.app_dir;
        let app = App::read(app_dir)?;

        let wanted = Wanted::for_app(&app.config, &app.requirements.extensions)?;
        output.step(&format!(
            "PHP {PHP_BRANCH} from Debian with the extensions {}",
            wanted.extensions.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
        let (apt, resolved) = layers::php::resolve(&context, &mut output, &wanted.packages)?;
        let php_version = requirements::php_version(&resolved)?;
        requirements::check_php_requirements(&app.requirements.php, &php_version)?;
        output.step(&format!(
            "PHP {php_version} ({})",
            requirements::describe_php_requirement(&app.requirements.php)
        ));
        let vendor_bin = app
            .composer
            .has_json()
            .then(|| app_dir.join(app.composer.bin_dir()));
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
        requirements::check_extensions_load(&tools, &wanted.loaded)?;

        if app.composer.has_json() {
            composer_install::install_and_compile(
                &context,
                &mut output,
                &tools,
                &app.composer,
                &layer,
                &php_version.to_string(),
            )?;
        }

        let mut result = BuildResultBuilder::new();
        if app.composer.has_json() {
            result = result.launch_sbom(sbom::launch_sbom(app_dir));
        }
        if let Some(launch) = document_root::default_process(app_dir, &app.config, &mut output)? {
            result = result.launch(launch);
        }
        output.done();
        result.build()
    }

    fn on_error(&self, error: libcnb::Error<Self::Error>) {
        libtoolforge::fail(&error, error_message);
    }
}

buildpack_main!(PhpBuildpack);
