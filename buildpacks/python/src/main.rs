mod app_files;
mod django;
mod environment;
mod errors;
mod layers;
mod package_manager;
mod python_version;

use crate::app_files::AppFiles;
use crate::errors::{PythonBuildpackError, error_message};
use crate::layers::venv::Inputs;
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::detect::{DetectContext, DetectResult};
use libcnb::generic::GenericPlatform;
use libcnb::{Buildpack, Platform, buildpack_main};
use libtoolforge::download::Downloader;
use libtoolforge::inventory::{self, Inventory, LoadError};
use libtoolforge::languages::{self, LanguageMetadata};
use libtoolforge::output::BuildOutput;

/// The production inventory: python-build-standalone releases (see `cargo packaging inventory`).
const INVENTORY: &str = include_str!("../inventory.toml");
/// An operator's own inventory (self-built runtimes), by URL; its archive URLs may be relative.
const INVENTORY_URL_ENV: &str = "BP_PYTHON_INVENTORY_URL";

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
        let files = AppFiles::read(&context.app_dir)?;

        let choice = files.package_manager()?;
        output.step(&format!(
            "Dependencies: {} (installed with {} {})",
            choice.file,
            choice.manager.tool(),
            choice.manager.version()
        ));
        for ignored in &choice.ignored {
            output.detail(&format!(
                "Ignoring {ignored}: {} comes first (see the buildpack's README for the order)",
                choice.file
            ));
        }

        let request = files.python_request()?;
        if files.uses_runtime_txt() {
            output.warning(
                "runtime.txt is read for compatibility; prefer a .python-version file containing the \
                 version (for example `3.13`),\nwhich pyenv, uv and other tools read too.",
            );
        }
        let downloader = Downloader::from_env(context.platform.env());
        let inventory = load_inventory(&context, &downloader)?;
        let release = request
            .resolve(&inventory)
            .ok_or_else(|| PythonBuildpackError::VersionNotAvailable {
                requested: request.to_string(),
                origin: request.origin(),
                available: inventory
                    .describe_versions(|version| format!("{}.{}", version.major, version.minor)),
            })?
            .clone();
        let python_version = release.version.to_string();
        output.step(&match request.origin() {
            Some(origin) => format!("Python {python_version} ({request} from {})", origin.file()),
            None => format!("Python {python_version} (the newest release; pin one in .python-version)"),
        });

        let python_layer = layers::python::install(&context, &mut output, &release, &downloader)?;
        output.step(&format!("{} {}", choice.manager.tool(), choice.manager.version()));
        let tool_bin = layers::tool::install(
            &context,
            &mut output,
            choice.manager,
            &python_layer,
            &python_version,
        )?;
        let download_cache = layers::download_cache::open(&context, choice.manager)?;
        output.step("Dependencies");
        let dependency_files = package_manager::dependency_files(&choice, &context.app_dir);
        let venv = layers::venv::install(
            &context,
            &mut output,
            &Inputs {
                choice: &choice,
                dependency_files: &dependency_files,
                python_layer: &python_layer,
                python_version: &python_version,
                tool_bin: &tool_bin,
                download_cache: &download_cache,
            },
        )?;

        django::collectstatic(&context, &mut output, &venv, &files)?;
        django::compile_app(&context, &mut output, &venv);
        output.done();
        BuildResultBuilder::new().build()
    }

    fn on_error(&self, error: libcnb::Error<Self::Error>) {
        libtoolforge::fail(&error, error_message);
    }
}

fn load_inventory(
    context: &BuildContext<PythonBuildpack>,
    downloader: &Downloader,
) -> Result<Inventory, PythonBuildpackError> {
    let url = context.platform.env().get_string_lossy(INVENTORY_URL_ENV);
    inventory::load(url, INVENTORY, downloader).map_err(|error| match error {
        LoadError::Fetch(error) => PythonBuildpackError::InventoryFetch(error),
        LoadError::Invalid(error) => PythonBuildpackError::Inventory(error),
    })
}

buildpack_main!(PythonBuildpack);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_inventory_has_current_pythons() {
        let inventory = Inventory::parse(INVENTORY, "inventory.toml", None).unwrap();
        let newest =
            |minor: u64| inventory.newest_matching(|version| version.major == 3 && version.minor == minor);
        for minor in 10..=14 {
            let release = newest(minor).unwrap_or_else(|| panic!("no 3.{minor}"));
            assert!(
                release
                    .url
                    .starts_with("https://github.com/astral-sh/python-build-standalone/")
            );
        }
    }
}
