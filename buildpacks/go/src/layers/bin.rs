//! The `bin` launch layer: the app's binaries, built by `go build`. The lifecycle puts a launch
//! layer's `bin/` on PATH, so a Procfile says `web: mytool` and a job `launcher mytool --flag`.

use crate::GoBuildpack;
use crate::errors::GoBuildpackError;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libcnb::layer::UncachedLayerDefinition;
use libtoolforge::build_env::BuildEnv;
use libtoolforge::command;
use libtoolforge::output::BuildOutput;
use libtoolforge::sbom::{self, Component, purl_segment};
use std::path::Path;

/// `go build -trimpath` of `packages` into the layer's `bin/`; returns the binaries' names,
/// sorted. `-modcacherw` keeps the module cache deletable when its layer is replaced. The
/// layer's SBOM lists `toolchain` (its standard library is linked in) and the modules linked
/// into the binaries.
pub(crate) fn build(
    context: &BuildContext<GoBuildpack>,
    output: &mut BuildOutput,
    env: &BuildEnv,
    packages: &[String],
    toolchain: Component,
) -> libcnb::Result<Vec<String>, GoBuildpackError> {
    let layer = context.uncached_layer(
        layer_name!("bin"),
        UncachedLayerDefinition {
            build: false,
            launch: true,
        },
    )?;
    let bin = layer.path().join("bin");
    output.step(&format!("Building {}", packages.join(" ")));
    let mut go = env.command("go");
    go.args(["build", "-trimpath", "-modcacherw"])
        .args(vendor_flag(&context.app_dir))
        .arg("-o")
        .arg(format!("{}/", bin.display()))
        .args(packages);
    command::run_streamed(&mut go).map_err(GoBuildpackError::Build)?;
    let mut names: Vec<String> = std::fs::read_dir(&bin)
        .map_err(GoBuildpackError::ReadBinaries)?
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    output.detail(&format!("Built {}", names.join(", ")));
    let modules = linked_modules(output, env, &bin, &names);
    sbom::write(&layer, std::iter::once(toolchain).chain(modules))?;
    Ok(names)
}

/// The modules linked into the binaries, from the build information Go compiles into each
/// (`go version -m`): what was linked, not what go.sum lists. A warning and none when Go cannot
/// read it: the SBOM is no reason to fail a build that succeeded.
fn linked_modules(output: &mut BuildOutput, env: &BuildEnv, bin: &Path, names: &[String]) -> Vec<Component> {
    let mut go = env.command("go");
    go.args(["version", "-m"])
        .args(names.iter().map(|name| bin.join(name)));
    match command::output(&mut go) {
        Ok(build_info) => sbom::linked_modules(&build_info)
            .into_iter()
            .map(|(path, version)| {
                let purl = format!("pkg:golang/{}@{}", purl_segment(&path), purl_segment(&version));
                Component::library(&path, &version, Some(purl))
            })
            .collect(),
        Err(error) => {
            output.warning(&format!(
                "The image's SBOM lists no Go modules: `go version -m` failed ({})",
                error.output_tail.lines().last().unwrap_or("no output")
            ));
            Vec::new()
        }
    }
}

/// The main packages of the app's module, for `go build` when the app names none.
pub(crate) fn main_packages(app_dir: &Path, env: &BuildEnv) -> Result<Vec<String>, GoBuildpackError> {
    let mut go = env.command("go");
    go.args(["list", "-modcacherw"]).args(vendor_flag(app_dir)).args([
        "-f",
        "{{if eq .Name \"main\"}}{{.ImportPath}}{{end}}",
        "./...",
    ]);
    let listed = command::output(&mut go).map_err(GoBuildpackError::List)?;
    Ok(listed
        .lines()
        .filter(|line| !line.is_empty())
        .map(ToString::to_string)
        .collect())
}

/// `-mod=vendor` when the app vendors its modules.
fn vendor_flag(app_dir: &Path) -> Option<&'static str> {
    app_dir
        .join("vendor/modules.txt")
        .is_file()
        .then_some("-mod=vendor")
}
