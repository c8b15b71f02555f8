//! After the dependencies: Django's static files, and the app's own bytecode.

use crate::PythonBuildpack;
use crate::app_files::AppFiles;
use crate::environment::compile_bytecode;
use crate::errors::PythonBuildpackError;
use libcnb::Platform;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libtoolforge::build_env::BuildEnv;
use libtoolforge::build_step::{self, BuildStep, Run};
use libtoolforge::output::BuildOutput;
use std::path::Path;
use std::process::Command;

/// The step's name in the log, and what its errors are told by.
pub(crate) const COLLECTSTATIC_STEP: &str = "Django collectstatic";
/// Heroku's name for the opt-out, so that tools migrating keep theirs.
const DISABLE_COLLECTSTATIC_ENV: &str = "DISABLE_COLLECTSTATIC";

/// Runs `manage.py collectstatic --noinput` when the app is a Django project, unless the build
/// environment sets `DISABLE_COLLECTSTATIC=1`.
pub(crate) fn collectstatic(
    context: &BuildContext<PythonBuildpack>,
    output: &mut BuildOutput,
    (venv, env): (&Path, &BuildEnv),
    files: &AppFiles,
) -> libcnb::Result<(), PythonBuildpackError> {
    if !files.has("manage.py") {
        return Ok(());
    }
    let python = venv.join("bin/python");
    let django_installed = Command::new(&python)
        .args(["-c", "import django"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !django_installed {
        return Ok(());
    }
    let disabled = context
        .platform
        .env()
        .get_string_lossy(DISABLE_COLLECTSTATIC_ENV)
        .is_some_and(|value| !value.is_empty() && value != "0");
    if disabled {
        output.step(&format!(
            "Django: skipping collectstatic ({DISABLE_COLLECTSTATIC_ENV} is set)"
        ));
        return Ok(());
    }
    let step = BuildStep {
        name: COLLECTSTATIC_STEP.to_string(),
        // The venv's python: `env` has it first on PATH.
        run: Run::Program(vec![
            "python".to_string(),
            "manage.py".to_string(),
            "collectstatic".to_string(),
            "--noinput".to_string(),
        ]),
        // Always run: what it collects depends on the settings, the apps and their static
        // files, wherever STATIC_ROOT is; no input list would be complete.
        inputs: Vec::new(),
        input_env: Vec::new(),
        key: Vec::new(),
        outputs: Vec::new(),
        launch: false,
    };
    build_step::run(context, output, env, layer_name!("collectstatic"), &step)?;
    Ok(())
}

/// Compiles the app's Python files, so that starting it compiles nothing (the tool's uid cannot
/// write to the app directory, so Python would compile them at every start). A file that does not
/// compile only gets a warning: apps often carry scripts that never run. With the runtime's own
/// `python`.
///
/// Only for apps whose build needs Python after the environment anyway (Django, own packages,
/// `bin/post_compile`, build steps): for the others, the runtime is kept from the previous image
/// without its files when nothing changed, and a rebuild must make what a cold build makes, so
/// neither compiles the app. What that costs at start is the compiling of the app's own modules
/// (the runtime's and the dependencies' are compiled in their layers), a few milliseconds each.
pub(crate) fn compile_app(context: &BuildContext<PythonBuildpack>, output: &mut BuildOutput, python: &Path) {
    let result = libtoolforge::command::output(&mut compile_bytecode(python, &context.app_dir));
    if let Err(error) = result {
        output.warning(&format!(
            "Some of the app's Python files do not compile, so Python compiles them at every start:\n{}",
            error.output_tail
        ));
    }
}
