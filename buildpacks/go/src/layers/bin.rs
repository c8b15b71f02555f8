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
use std::path::Path;

/// `go build -trimpath` of `packages` into the layer's `bin/`; returns the binaries' names,
/// sorted. `-modcacherw` keeps the module cache deletable when its layer is replaced.
pub(crate) fn build(
    context: &BuildContext<GoBuildpack>,
    output: &mut BuildOutput,
    env: &BuildEnv,
    packages: &[String],
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
    Ok(names)
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
