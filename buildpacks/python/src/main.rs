mod app_files;
mod django;
mod environment;
mod errors;
#[cfg(test)]
mod fuzz;
mod hooks;
mod installed_packages;
mod layers;
mod own_packages;
mod package_manager;
mod python_version;
mod seed_packages;

use crate::app_files::AppFiles;
use crate::errors::{PythonBuildpackError, error_message};
use crate::layers::venv::Inputs;
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::detect::{DetectContext, DetectResult};
use libcnb::generic::GenericPlatform;
use libcnb::{Buildpack, Platform, buildpack_main};
use libtoolforge::download::Downloader;
use libtoolforge::languages::{self, LanguageMetadata};
use libtoolforge::output::BuildOutput;

pub(crate) struct PythonBuildpack;

impl Buildpack for PythonBuildpack {
    type Platform = GenericPlatform;
    type Metadata = LanguageMetadata;
    type Error = PythonBuildpackError;

    fn detect(&self, context: DetectContext<Self>) -> libcnb::Result<DetectResult, Self::Error> {
        let python = context.buildpack_descriptor.metadata.language();
        languages::detect_result::<Self>(python, app_files::detects(&context.app_dir, python))
    }

    fn build(&self, context: BuildContext<Self>) -> libcnb::Result<BuildResult, Self::Error> {
        let mut output = BuildOutput::start("Python", "toolforge/python");
        languages::pass_on_plan_entries(&context)?;
        // Before the app's files are read: Heroku's pre_compile may write one (requirements.txt).
        let platform_env = environment::build_env(context.platform.env(), &context.app_dir);
        hooks::run(&context, &mut output, &platform_env, hooks::PRE_COMPILE)?;
        let files = AppFiles::read(&context.app_dir)?;

        let choice = files.package_manager()?;
        choice.announce(&mut output);
        let request = files.python_request()?;
        files.warn_of_runtime_txt(&mut output);
        let runtime = layers::python::runtime();
        let downloader = Downloader::from_env(context.platform.env());
        let (release, inventory) = runtime
            .choose_keeping_inventory(context.platform.env(), &downloader, &request, &mut output)
            .map_err(PythonBuildpackError::Runtime)?;
        let unpinned_python = python_version::unpinned_choice(&request, &release, &inventory);
        let python_version = release.version.to_string();
        let dependency_files = package_manager::dependency_files(&choice, &context.app_dir);
        let own_packages = own_packages::find(choice.manager, &context.app_dir);
        let needed_at_build =
            layers::venv::needed_at_build(&context.app_dir, files.has("manage.py"), &own_packages);
        if !needed_at_build
            && layers::venv::keep_with_runtime_from_previous_image(
                &context,
                &mut output,
                (&runtime, &release),
                &choice,
                &dependency_files,
            )?
        {
            output.done();
            return BuildResultBuilder::new().build();
        }
        // Cached when the build needs it after the environment is made; else launch-only, so
        // that the next build can keep it from this build's image.
        let python_layer = if needed_at_build {
            runtime
                .install(&context, &mut output, &release, &downloader, true)?
                .path()
        } else {
            runtime.install_launch_only(&context, &mut output, &release, &downloader)?
        };
        let mut env = environment::build_env(context.platform.env(), &context.app_dir);
        env.prepend_path(python_layer.join("bin"));

        let key = layers::venv::layer_key(
            &context,
            &choice,
            &dependency_files,
            (&python_layer, &python_version),
        )?;
        // Kept from the previous image: no tool, no installer, no download cache.
        let kept = layers::venv::keep_from_previous_image(
            &context,
            &mut output,
            (&key.0, &key.1),
            choice.file,
            needed_at_build,
        )?;
        let venv = match kept {
            Ok(venv) => venv,
            Err(previous_image_changes) => {
                output.step(&format!("{} {}", choice.manager.tool(), choice.manager.version()));
                let tool_bin = layers::tool::install(
                    &context,
                    &mut output,
                    choice.manager,
                    (&python_layer, &python_version),
                    &env,
                )?;
                env.prepend_path(&tool_bin);
                let download_cache = layers::download_cache::open(&context, choice.manager)?;
                output.step("Dependencies");
                let inputs = Inputs {
                    choice: &choice,
                    python_layer: &python_layer,
                    tool_bin: &tool_bin,
                    download_cache: &download_cache,
                    own_packages: &own_packages,
                    env: &env,
                    unpinned_python: unpinned_python.as_ref(),
                    needed_at_build,
                    previous_image_changes,
                };
                layers::venv::install(&context, &mut output, &inputs, (&key.0, &key.1))?
            }
        };

        // The venv's python and programs first, as the image has them.
        let mut app_env = env.clone();
        app_env
            .prepend_path(venv.join("bin"))
            .set_default("VIRTUAL_ENV", &venv);
        django::collectstatic(&context, &mut output, (&venv, &app_env), &files)?;
        hooks::run(&context, &mut output, &app_env, hooks::POST_COMPILE)?;
        if needed_at_build {
            django::compile_app(&context, &mut output, &python_layer.join("bin/python3"));
        }
        output.done();
        BuildResultBuilder::new().build()
    }

    fn on_error(&self, error: libcnb::Error<Self::Error>) {
        libtoolforge::fail(&error, error_message);
    }
}

buildpack_main!(PythonBuildpack);
