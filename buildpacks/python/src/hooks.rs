//! Heroku's build hooks: `bin/pre_compile` runs before Python and the dependencies are
//! installed, `bin/post_compile` after them (and after Django's collectstatic), as Heroku's
//! Python buildpack runs them (<https://devcenter.heroku.com/articles/python-build-hooks>,
//! which its CNB dropped). Each runs in the app's directory with the build's environment, every
//! build; a script without its executable bit runs with bash, and the build says how to set it.

use crate::PythonBuildpack;
use crate::errors::PythonBuildpackError;
use libcnb::build::BuildContext;
use libcnb::data::layer::LayerName;
use libcnb::data::layer_name;
use libtoolforge::build_env::BuildEnv;
use libtoolforge::build_step::{self, BuildStep, Run};
use libtoolforge::output::BuildOutput;
use std::path::Path;

pub(crate) const PRE_COMPILE: &str = "bin/pre_compile";
pub(crate) const POST_COMPILE: &str = "bin/post_compile";

/// Runs the hook `script` (relative to the app) if the app has it.
pub(crate) fn run(
    context: &BuildContext<PythonBuildpack>,
    output: &mut BuildOutput,
    env: &BuildEnv,
    script: &str,
) -> libcnb::Result<(), PythonBuildpackError> {
    let path = context.app_dir.join(script);
    if !path.is_file() {
        return Ok(());
    }
    if !build_step::is_executable(&path) {
        output.warning(&not_executable_warning(script));
    }
    let step = BuildStep {
        name: script.to_string(),
        run: Run::Script(Path::new(script).to_path_buf()),
        inputs: Vec::new(),
        input_env: Vec::new(),
        key: Vec::new(),
        outputs: Vec::new(),
        launch: false,
    };
    build_step::run(context, output, env, layer_for(script), &step)?;
    Ok(())
}

fn layer_for(script: &str) -> LayerName {
    if script == PRE_COMPILE {
        layer_name!("pre_compile")
    } else {
        layer_name!("post_compile")
    }
}

fn not_executable_warning(script: &str) -> String {
    format!(
        "{script} is not executable, so it runs with bash (Heroku makes it executable first).\n\
         To fix: `git update-index --chmod=+x {script}` and commit, or `chmod +x {script}`."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_says_how_to_fix_it() {
        insta::assert_snapshot!(not_executable_warning(POST_COMPILE));
    }
}
