mod app;
mod config;
mod dependencies;
mod detection;
mod errors;
#[cfg(test)]
mod fuzz;
mod layers;
mod node_version;
mod package_json;
mod package_manager;
mod sbom;

use crate::app::App;
use crate::errors::{NodejsBuildpackError, error_message};
use crate::layers::node_modules::Plan;
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::data::launch::{LaunchBuilder, ProcessBuilder};
use libcnb::data::process_type;
use libcnb::detect::{DetectContext, DetectResult};
use libcnb::generic::GenericPlatform;
use libcnb::{Buildpack, Platform, buildpack_main};
use libtoolforge::build_env::BuildEnv;
use libtoolforge::download::Downloader;
use libtoolforge::languages::{self, LanguageMetadata, Registry};
use libtoolforge::output::BuildOutput;

pub(crate) struct NodejsBuildpack;

impl Buildpack for NodejsBuildpack {
    type Platform = GenericPlatform;
    type Metadata = LanguageMetadata;
    type Error = NodejsBuildpackError;

    fn detect(&self, context: DetectContext<Self>) -> libcnb::Result<DetectResult, Self::Error> {
        let nodejs = context.buildpack_descriptor.metadata.language();
        let registry = Registry::of_builder(&context.buildpack_dir);
        languages::detect_result::<Self>(nodejs, detection::detects(&context.app_dir, nodejs, &registry))
    }

    fn build(&self, context: BuildContext<Self>) -> libcnb::Result<BuildResult, Self::Error> {
        let mut output = BuildOutput::start("Node.js", "toolforge/nodejs");
        languages::pass_on_plan_entries(&context)?;
        let app_dir = &context.app_dir;
        let front_end_only = languages::another_language_detected(
            app_dir,
            context.buildpack_descriptor.metadata.language(),
            &Registry::of_builder(&context.buildpack_dir),
        );
        let app = App::read(app_dir, front_end_only)?;

        let downloader = Downloader::from_env(context.platform.env());
        let release = layers::node::choose(&context, &mut output, &app, &downloader)?;
        let node_version = release.version.to_string();
        let build_only = app.build_only();
        if let Some(reason) = build_only {
            output.detail(reason);
            output.detail("So is node_modules: it is left out of the image at the end of the build");
        }
        let launch = build_only.is_none();
        let choice = app.package_manager()?;
        let dependencies_step = format!(
            "Dependencies with {} {} (chosen by {})",
            choice.manager,
            choice.version.as_deref().unwrap_or("as bundled with Node.js"),
            choice.reason
        );
        // Launch-only layers, kept from the previous image when unchanged: nothing is installed.
        let plan = layers::node_modules::plan(
            &context,
            &mut output,
            &app,
            (&release, &choice),
            &dependencies_step,
        )?;
        let mut result = BuildResultBuilder::new();
        if !matches!(plan, Plan::Kept) {
            let node_layer = if matches!(plan, Plan::IntoLaunchLayer { .. }) {
                layers::node::install_launch_only(&context, &mut output, &release, &downloader)?
            } else {
                layers::node::install(&context, &mut output, &release, &downloader, launch)?
            };
            let mut env = BuildEnv::new(context.platform.env(), app_dir);
            // What later buildpacks see of the node layer at build time (CA store, npm settings).
            env.add_layer_env(&layers::node::layer_env(app_dir))
                .prepend_path(node_layer.join("bin"));

            output.step(&dependencies_step);
            let cache = layers::cache::open(&context)?;
            if let Some(version) = &choice.version {
                let bin = layers::package_manager::install(
                    &context,
                    &mut output,
                    (choice.manager, version),
                    (&node_version, launch),
                    (&env, &cache),
                )?;
                env.prepend_path(bin);
            }
            dependencies::install(
                &context,
                &mut output,
                (&env, &cache),
                (&choice, &app.package),
                (&node_version, plan.previous_image_changes()),
            )?;
            dependencies::build((&env, &cache), &mut output, &app, choice.manager)?;
            if let Plan::IntoLaunchLayer { key, manifests, .. } = &plan {
                layers::node_modules::into_launch_layer(&context, (key, manifests))?;
            } else if launch {
                result = result.launch_sbom(sbom::launch_sbom(app_dir));
            }
        }
        if launch && app.package.has_start_script() && !app_dir.join("Procfile").is_file() {
            output.step(&format!(
                "Default process: web = `{} start`",
                choice.manager.command()
            ));
            result = result.launch(
                LaunchBuilder::new()
                    .process(
                        ProcessBuilder::new(process_type!("web"), [choice.manager.command(), "start"])
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

buildpack_main!(NodejsBuildpack);
