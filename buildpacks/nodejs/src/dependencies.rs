//! The app's dependencies: installed with its package manager (or copied back from the last
//! build), its build script, and the development dependencies removed after it; around them,
//! Heroku's hooks (`heroku-prebuild`, `heroku-cleanup`) where Heroku runs them.

use crate::NodejsBuildpack;
use crate::app::App;
use crate::errors::{NodejsBuildpackError, Step};
use crate::layers;
use crate::package_json::{HEROKU_CLEANUP, HEROKU_POSTBUILD, HEROKU_PREBUILD, PackageJson};
use crate::package_manager::{Choice, Manager};
use libcnb::build::BuildContext;
use libtoolforge::build_env::BuildEnv;
use libtoolforge::output::BuildOutput;
use std::path::Path;

/// How the package manager runs: the build environment, and the `cache` layer.
pub(crate) type Tools<'a> = (&'a BuildEnv, &'a Path);

fn run(
    (env, cache): Tools,
    output: &mut BuildOutput,
    (manager, args): (Manager, &[&str]),
    step: Step,
) -> Result<(), NodejsBuildpackError> {
    output.detail(&format!("Running `{} {}`", manager.command(), args.join(" ")));
    libtoolforge::command::run_streamed(layers::cache::command(env, cache, manager.command()).args(args))
        .map_err(|error| NodejsBuildpackError::Command { step, error })
}

/// Installs the dependencies, or copies back the `node_modules` of the last build when the
/// lockfile, package.json, Node.js and the package manager are unchanged and installing writes
/// nothing else (`layers::node_modules::install_writes_elsewhere`). First the `heroku-prebuild`
/// script, at every build, as Heroku runs it before installing whether or not its cache is used.
/// `into_launch_layer`: `node_modules` goes into a launch-only layer after the build
/// ([`layers::node_modules::in_launch_layer`]), with why the previous image's could not be kept;
/// then no copy is kept in the cache: the previous image has it.
pub(crate) fn install(
    context: &BuildContext<NodejsBuildpack>,
    output: &mut BuildOutput,
    tools: Tools,
    (choice, package): (&Choice, &PackageJson),
    (node_version, into_launch_layer): (&str, Option<&[String]>),
) -> Result<(), libcnb::Error<NodejsBuildpackError>> {
    if let Some(script) = package.script(HEROKU_PREBUILD) {
        output.detail(&format!(
            "Running the `{script}` script (before installing dependencies, as on Heroku)"
        ));
        run(tools, output, (choice.manager, &["run", script]), Step::Prebuild)?;
    }
    // The key is made after the prebuild script: what it changes in package.json or the lockfile
    // decides whether the kept node_modules is still the one the install makes.
    let install_args = choice.manager.install_args(choice.has_lockfile);
    let install_step = Step::Install {
        manager: choice.manager,
        has_lockfile: choice.has_lockfile,
    };
    if let Some(previous_image_changes) = into_launch_layer {
        if !previous_image_changes.is_empty() {
            output.detail(&format!(
                "Not reusing the previous image's dependencies: {}",
                previous_image_changes.join("; ")
            ));
        }
        run(tools, output, (choice.manager, &install_args), install_step)?;
        return Ok(());
    }
    let app_dir = &context.app_dir;
    let key = layers::node_modules::key(context, choice, node_version);
    let kept = layers::node_modules::open(context, &key)?;
    // When installing writes more than node_modules, only the install itself, as a first build
    // runs it, makes what a first build makes (`npm ci` would empty a restored node_modules anyway).
    let writes_elsewhere = layers::node_modules::install_writes_elsewhere(app_dir, package);
    match &writes_elsewhere {
        Some(reason) if choice.has_lockfile => {
            output.detail(&format!(
                "Installing at every build (node_modules is not kept): {reason}"
            ));
        }
        None if choice.has_lockfile && kept.restorable(app_dir) => {
            output.detail("Reusing node_modules from the cache: the lockfile, package.json, Node.js and the package manager are unchanged; not installing");
            kept.restore(app_dir).map_err(NodejsBuildpackError::Io)?;
            return Ok(());
        }
        _ => {
            if let Some(line) = kept.cache.describe("node_modules") {
                output.detail(&line);
            }
        }
    }
    if !choice.has_lockfile {
        output.warning(&format!(
            "No lockfile: {} resolves the dependencies anew at every build.\nCommit the lockfile it \
             writes ({}) so that every build installs the same versions.",
            choice.manager,
            choice.manager.lockfile()
        ));
    }
    run(tools, output, (choice.manager, &install_args), install_step)?;
    // A copy the next build would not restore is not worth keeping.
    if choice.has_lockfile && writes_elsewhere.is_none() {
        kept.save(app_dir).map_err(NodejsBuildpackError::Io)?;
    }
    Ok(())
}

/// The build script, then the development dependencies removed unless the app keeps them, then
/// the `heroku-cleanup` script.
pub(crate) fn build(
    tools: Tools,
    output: &mut BuildOutput,
    app: &App,
    manager: Manager,
) -> Result<(), NodejsBuildpackError> {
    if let Some(script) = app.package.build_script() {
        output.step(&build_script_step(
            script,
            &app.package.build_scripts_passed_over(),
        ));
        run(
            tools,
            output,
            (manager, &["run", script]),
            Step::BuildScript { script },
        )?;
    }
    let prune = app.config.prune_dev_dependencies && !app.package.dev_dependencies.is_empty();
    if prune {
        output.step("Removing development dependencies");
        run(
            tools,
            output,
            (manager, &manager.prune_args()),
            Step::Prune { manager },
        )?;
    }
    if let Some(script) = app.package.script(HEROKU_CLEANUP) {
        let when = if prune {
            "after removing development dependencies"
        } else {
            "at the end of the build"
        };
        output.step(&format!("Running the `{script}` script ({when}, as on Heroku)"));
        run(tools, output, (manager, &["run", script]), Step::Cleanup)?;
    }
    Ok(())
}

/// The step that runs `script`, saying which build scripts it runs instead of, and that
/// `heroku-postbuild` is Heroku's.
fn build_script_step(script: &str, passed_over: &[&str]) -> String {
    let mut reasons = Vec::new();
    if !passed_over.is_empty() {
        let names: Vec<String> = passed_over.iter().map(|name| format!("`{name}`")).collect();
        reasons.push(format!("instead of {}", names.join(" and ")));
    }
    if script == HEROKU_POSTBUILD {
        reasons.push("as on Heroku".to_string());
    }
    if reasons.is_empty() {
        format!("Running the `{script}` script")
    } else {
        format!("Running the `{script}` script ({})", reasons.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_script_steps_say_what_runs_instead_of_what() {
        assert_eq!(build_script_step("build", &[]), "Running the `build` script");
        assert_eq!(
            build_script_step("heroku-postbuild", &["build"]),
            "Running the `heroku-postbuild` script (instead of `build`, as on Heroku)"
        );
        assert_eq!(
            build_script_step("heroku-postbuild", &[]),
            "Running the `heroku-postbuild` script (as on Heroku)"
        );
        assert_eq!(
            build_script_step("toolforge-build", &["heroku-postbuild", "build"]),
            "Running the `toolforge-build` script (instead of `heroku-postbuild` and `build`)"
        );
        assert_eq!(
            build_script_step("toolforge-build", &[]),
            "Running the `toolforge-build` script"
        );
    }
}
