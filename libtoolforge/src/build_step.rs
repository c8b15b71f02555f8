//! A build step made by a command: the app's own (`[[org.toolforge.build.steps]]`), a Heroku
//! hook (`bin/post_compile`, `heroku-postbuild`), or a buildpack's (Django's collectstatic).
//!
//! A step declares what shapes its result: `inputs` (globs of app files whose paths and contents
//! count), `input_env` (variables whose values count) and `key` (anything else: runtime versions,
//! other layers' keys); and what it makes: `outputs` (paths in the app). A step with inputs is
//! cached like every other layer: when the key of the last build that ran it is unchanged (the
//! command, the inputs' digest, the variables, the outputs, the stack), the outputs it saved are
//! copied back into the app and the command does not run. A step without inputs always runs. A
//! step may also fill a launch layer (`launch`): the directory `TOOLFORGE_STEP_LAYER` names,
//! kept in the image and cached with the same key.
//!
//! The command runs with `bash -c` (or the program `script` names) in the build's environment,
//! its output streamed under the step's name; a failure is [`StepError::Failed`] with the step's
//! name and the end of its output.

use crate::build_env::BuildEnv;
use crate::command::{self, CommandError};
use crate::error::{ErrorMessage, IoError};
use crate::layer::{Cache, LayerKey, cached_layer, change, copy_directory};
use crate::output::BuildOutput;
use globset::{GlobBuilder, GlobSetBuilder};
use libcnb::Buildpack;
use libcnb::build::BuildContext;
use libcnb::data::layer::LayerName;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The variable that names the step's launch layer, for a step with `launch`.
pub const STEP_LAYER_ENV: &str = "TOOLFORGE_STEP_LAYER";
/// Directories never read as inputs: version control, and what the build itself installs.
const NOT_INPUTS: [&str; 3] = [".git", "node_modules", ".venv"];

/// What a step runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Run {
    /// A shell command line (`python manage.py compilemessages`), run with `bash -c`.
    Shell(String),
    /// A script of the app (`bin/post_compile`), run as a program, or with bash when it is not
    /// executable.
    Script(PathBuf),
    /// A program and its arguments.
    Program(Vec<String>),
}

impl Run {
    fn describe(&self) -> String {
        match self {
            Self::Shell(line) => line.clone(),
            Self::Script(path) => path.display().to_string(),
            Self::Program(words) => words.join(" "),
        }
    }
}

/// A step; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildStep {
    /// As the log and errors name it (`translations`, `bin/post_compile`).
    pub name: String,
    pub run: Run,
    /// Globs relative to the app (`locale/**/*.po`); empty: the step always runs.
    pub inputs: Vec<String>,
    /// Variables whose values shape the result.
    pub input_env: Vec<String>,
    /// Anything else that shapes the result (a runtime's version), as text.
    pub key: Vec<String>,
    /// Paths relative to the app that the step makes, kept between builds.
    pub outputs: Vec<String>,
    /// Whether the step fills a launch layer (`TOOLFORGE_STEP_LAYER`).
    pub launch: bool,
}

/// What [`run`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ran,
    /// The inputs were unchanged: the outputs came back from the cache.
    Restored,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepKey {
    run: String,
    /// sha256 of the matched inputs' paths and contents.
    inputs: String,
    env: Vec<String>,
    key: Vec<String>,
    outputs: Vec<String>,
    stack: String,
}

impl LayerKey for StepKey {
    fn changes(&self, current: &Self) -> Vec<String> {
        let Self {
            run,
            inputs,
            env,
            key,
            outputs,
            stack,
        } = self;
        let mut changes = Vec::new();
        changes.extend(change("command", run, &current.run));
        if inputs != &current.inputs {
            changes.push("its inputs changed".to_string());
        }
        if env != &current.env {
            changes.push("its variables changed".to_string());
        }
        if key != &current.key {
            changes.push(format!("{} → {}", key.join(", "), current.key.join(", ")));
        }
        if outputs != &current.outputs {
            changes.push("its outputs changed".to_string());
        }
        changes.extend(change("stack", stack, &current.stack));
        changes
    }
}

/// What stops a step.
#[derive(Debug)]
pub enum StepError {
    /// The command failed.
    Failed { step: String, error: CommandError },
    /// Reading the inputs, or saving or restoring the outputs.
    Io { step: String, error: IoError },
    /// A glob of `inputs` that is not one, or an output outside the app.
    Invalid {
        step: String,
        entry: String,
        reason: String,
    },
}

impl StepError {
    #[must_use]
    pub fn message(&self) -> ErrorMessage {
        match self {
            Self::Failed { step, error } => error
                .message(
                    format!("Build step `{step}` failed"),
                    &format!("The build step `{step}` failed; its output is quoted here."),
                    true,
                )
                .fix(format!(
                    "run the step's command in the app's directory locally, correct what it reports and commit the fix, or remove the step `{step}`."
                )),
            Self::Io { step, error } => {
                let message = error.message();
                ErrorMessage::platform(format!("Build step `{step}`: {}", message.title), message.detail)
            }
            Self::Invalid { step, entry, reason } => ErrorMessage::app(
                format!("Invalid input or output of build step `{step}`"),
                format!("`{entry}`: {reason}."),
            )
            .fix("write inputs as globs relative to the app, such as `locale/**/*.po`, and outputs as paths inside it, such as `locale/`."),
        }
    }
}

/// Runs `step` in `env`, unless its inputs are unchanged and its outputs come back from the
/// cache (the layer `name`, and `<name>-launch` for a launch step); says which in the log.
/// Warns when a glob matches nothing or an output is missing after the step ran.
///
/// # Errors
///
/// libcnb's layer errors; [`StepError`].
pub fn run<B>(
    context: &BuildContext<B>,
    output: &mut BuildOutput,
    env: &BuildEnv,
    name: LayerName,
    step: &BuildStep,
) -> libcnb::Result<Outcome, B::Error>
where
    B: Buildpack,
    B::Error: From<StepError>,
{
    let failed = |error: StepError| libcnb::Error::BuildpackError(B::Error::from(error));
    let launch_layer = if step.launch {
        let launch_name: LayerName = format!("{name}-launch").parse().map_err(|_| {
            failed(io_error(
                step,
                "name the launch layer",
                std::io::Error::other(name.to_string()),
            ))
        })?;
        Some(launch_name)
    } else {
        None
    };
    if step.inputs.is_empty() {
        return run_uncached(context, output, env, launch_layer, step);
    }
    run_cached(context, output, env, (name, launch_layer), step)
}

/// A step without inputs: it runs, every build.
fn run_uncached<B>(
    context: &BuildContext<B>,
    output: &mut BuildOutput,
    env: &BuildEnv,
    launch_layer: Option<LayerName>,
    step: &BuildStep,
) -> libcnb::Result<Outcome, B::Error>
where
    B: Buildpack,
    B::Error: From<StepError>,
{
    output.step(&format!("Build step `{}`: {}", step.name, step.run.describe()));
    let launch_dir = match launch_layer {
        Some(launch_name) => Some(
            context
                .uncached_layer(
                    launch_name,
                    libcnb::layer::UncachedLayerDefinition {
                        build: false,
                        launch: true,
                    },
                )?
                .path(),
        ),
        None => None,
    };
    execute(env, &context.app_dir, step, launch_dir.as_deref())
        .map_err(|error| libcnb::Error::BuildpackError(B::Error::from(error)))?;
    Ok(Outcome::Ran)
}

/// A step with inputs: restored when they are unchanged, else run and its outputs saved.
fn run_cached<B>(
    context: &BuildContext<B>,
    output: &mut BuildOutput,
    env: &BuildEnv,
    (name, launch_layer): (LayerName, Option<LayerName>),
    step: &BuildStep,
) -> libcnb::Result<Outcome, B::Error>
where
    B: Buildpack,
    B::Error: From<StepError>,
{
    let failed = |error: StepError| libcnb::Error::BuildpackError(B::Error::from(error));
    let app_dir = &context.app_dir;
    if let Some(outside) = step.outputs.iter().find(|path| {
        let path = Path::new(path);
        path.is_absolute()
            || path
                .components()
                .any(|part| part == std::path::Component::ParentDir)
    }) {
        return Err(failed(StepError::Invalid {
            step: step.name.clone(),
            entry: outside.clone(),
            reason: "an output must be a path inside the app, such as `locale/`".to_string(),
        }));
    }
    let (files, unmatched) = matching_files(app_dir, &step.inputs).map_err(|(glob, reason)| {
        failed(StepError::Invalid {
            step: step.name.clone(),
            entry: glob,
            reason: format!("not a glob: {reason}"),
        })
    })?;
    for glob in unmatched {
        output.warning(&format!(
            "Build step `{}`: the input `{glob}` matches no file of the app.",
            step.name
        ));
    }
    let key = StepKey {
        run: step.run.describe(),
        inputs: digest(app_dir, &files).map_err(|error| failed(io_error(step, "read its inputs", error)))?,
        env: step
            .input_env
            .iter()
            .map(|variable| {
                format!(
                    "{variable}={}",
                    env.env().get_string_lossy(variable).unwrap_or_default()
                )
            })
            .collect(),
        key: step.key.clone(),
        outputs: step.outputs.clone(),
        stack: crate::stack::key(&context.target),
    };
    let (saved, cache) = cached_layer(context, name, false, false, &key)?;
    let launch = match launch_layer {
        Some(launch_name) => Some(cached_layer(context, launch_name, false, true, &key)?),
        None => None,
    };
    let saved_dir = saved.path().join("outputs");
    let launch_reused = launch.as_ref().is_none_or(|(_, cache)| *cache == Cache::Reused);
    if cache == Cache::Reused
        && launch_reused
        && step.outputs.iter().all(|path| saved_dir.join(path).exists())
    {
        for path in &step.outputs {
            restore(&saved_dir.join(path), &app_dir.join(path))
                .map_err(|error| failed(io_error(step, "restore its outputs", error)))?;
        }
        output.step(&format!(
            "Build step `{}`: inputs unchanged ({} files), outputs restored from the cache: {}",
            step.name,
            files.len(),
            if step.outputs.is_empty() {
                "none".to_string()
            } else {
                step.outputs.join(", ")
            }
        ));
        return Ok(Outcome::Restored);
    }
    output.step(&format!("Build step `{}`: {}", step.name, step.run.describe()));
    if let Some(line) = cache.describe("outputs") {
        output.detail(&line);
    }
    let launch_dir = launch.as_ref().map(|(layer, _)| layer.path());
    if let Some(dir) = &launch_dir {
        clear(dir).map_err(|error| failed(io_error(step, "empty its launch layer", error)))?;
    }
    execute(env, app_dir, step, launch_dir.as_deref()).map_err(failed)?;
    clear(&saved_dir).map_err(|error| failed(io_error(step, "save its outputs", error)))?;
    for path in &step.outputs {
        let made = app_dir.join(path);
        if made.exists() {
            restore(&made, &saved_dir.join(path))
                .map_err(|error| failed(io_error(step, "save its outputs", error)))?;
        } else {
            output.warning(&format!(
                "Build step `{}` declares the output `{path}`, which it did not make.",
                step.name
            ));
        }
    }
    Ok(Outcome::Ran)
}

fn io_error(step: &BuildStep, what: &str, error: std::io::Error) -> StepError {
    StepError::Io {
        step: step.name.clone(),
        error: IoError::new(what, error),
    }
}

/// Runs the step's command, streaming its output.
fn execute(
    env: &BuildEnv,
    app_dir: &Path,
    step: &BuildStep,
    launch_dir: Option<&Path>,
) -> Result<(), StepError> {
    let mut command = match &step.run {
        Run::Shell(line) => {
            let mut command = env.command("bash");
            command.args(["-c", line]);
            command
        }
        Run::Script(path) if is_executable(&app_dir.join(path)) => env.command(app_dir.join(path)),
        Run::Script(path) => {
            let mut command = env.command("bash");
            command.arg(path);
            command
        }
        Run::Program(words) => {
            let mut command = env.command(words.first().map_or("true", String::as_str));
            command.args(words.iter().skip(1));
            command
        }
    };
    if let Some(dir) = launch_dir {
        command.env(STEP_LAYER_ENV, dir);
    }
    run_command(&mut command).map_err(|error| StepError::Failed {
        step: step.name.clone(),
        error,
    })
}

fn run_command(command: &mut Command) -> Result<(), CommandError> {
    command::run_streamed(command)
}

/// Whether `path` has an executable bit.
#[must_use]
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|metadata| metadata.permissions().mode() & 0o111 != 0)
}

/// The app's files (relative paths, sorted) that `globs` match, and the globs that match none.
///
/// # Errors
///
/// The first glob that is not one, and why.
pub fn matching_files(
    app_dir: &Path,
    globs: &[String],
) -> Result<(Vec<PathBuf>, Vec<String>), (String, String)> {
    let mut set = GlobSetBuilder::new();
    for glob in globs {
        let pattern = glob.trim_end_matches('/');
        // `locale/` means everything under it.
        let pattern = if glob.ends_with('/') {
            format!("{pattern}/**")
        } else {
            pattern.to_string()
        };
        set.add(
            GlobBuilder::new(&pattern)
                .literal_separator(true)
                .build()
                .map_err(|error| (glob.clone(), error.kind().to_string()))?,
        );
    }
    let set = set.build().map_err(|error| (String::new(), error.to_string()))?;
    let mut all = Vec::new();
    walk_files(app_dir, app_dir, &mut all);
    all.sort();
    let mut used = vec![false; globs.len()];
    let files: Vec<PathBuf> = all
        .into_iter()
        .filter(|path| {
            let matched = set.matches(path);
            for index in &matched {
                used[*index] = true;
            }
            !matched.is_empty()
        })
        .collect();
    let unmatched = globs
        .iter()
        .zip(used)
        .filter(|(_, used)| !used)
        .map(|(glob, _)| glob.clone())
        .collect();
    Ok((files, unmatched))
}

fn walk_files(root: &Path, dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let Ok(metadata) = path.symlink_metadata() else {
            continue;
        };
        if metadata.is_dir() {
            if dir == root && NOT_INPUTS.iter().any(|name| entry.file_name() == *name) {
                continue;
            }
            walk_files(root, &path, found);
        } else if let Ok(relative) = path.strip_prefix(root) {
            found.push(relative.to_path_buf());
        }
    }
}

/// sha256 of each file's path and contents, in order.
fn digest(app_dir: &Path, files: &[PathBuf]) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(file.to_string_lossy().as_bytes());
        hasher.update([0]);
        let path = app_dir.join(file);
        if path.is_symlink() {
            hasher.update(std::fs::read_link(&path)?.to_string_lossy().as_bytes());
        } else {
            hasher.update(std::fs::read(&path)?);
        }
        hasher.update([0]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// `source` (a file or a directory) copied to `destination`, replacing what is there.
fn restore(source: &Path, destination: &Path) -> std::io::Result<()> {
    if destination.symlink_metadata().is_ok() {
        if destination.is_dir() && !destination.is_symlink() {
            std::fs::remove_dir_all(destination)?;
        } else {
            std::fs::remove_file(destination)?;
        }
    }
    let parent = destination.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(parent)?;
    copy_directory(source, parent)?;
    // cp -a SOURCE PARENT names the copy after SOURCE; rename when the names differ.
    let copied = parent.join(source.file_name().unwrap_or_default());
    if copied != destination {
        std::fs::rename(copied, destination)?;
    }
    Ok(())
}

/// Removes everything in `dir` (which is created if missing).
fn clear(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, file).unwrap();
        }
        dir
    }

    #[test]
    fn globs_match_files_and_report_the_ones_matching_nothing() {
        let dir = app(&[
            "locale/de/LC_MESSAGES/django.po",
            "locale/de/LC_MESSAGES/django.mo",
            "app.py",
            ".git/config",
            "node_modules/x/y.po",
        ]);
        let globs = vec![
            "locale/**/*.po".to_string(),
            "*.py".to_string(),
            "docs/**".to_string(),
        ];
        let (files, unmatched) = matching_files(dir.path(), &globs).unwrap();
        assert_eq!(
            files,
            [
                PathBuf::from("app.py"),
                PathBuf::from("locale/de/LC_MESSAGES/django.po")
            ]
        );
        assert_eq!(unmatched, ["docs/**"]);
        let (files, _) = matching_files(dir.path(), &["locale/".to_string()]).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(
            matching_files(dir.path(), &["a[".to_string()]).unwrap_err().0,
            "a["
        );
    }

    #[test]
    fn the_digest_follows_contents_and_names() {
        let dir = app(&["a.po", "b.po"]);
        let files = vec![PathBuf::from("a.po"), PathBuf::from("b.po")];
        let before = digest(dir.path(), &files).unwrap();
        assert_eq!(before, digest(dir.path(), &files).unwrap());
        std::fs::write(dir.path().join("b.po"), "changed").unwrap();
        assert_ne!(before, digest(dir.path(), &files).unwrap());
    }

    #[test]
    fn outputs_are_copied_and_replaced() {
        let dir = app(&["locale/de.mo", "saved/old"]);
        let saved = dir.path().join("saved/locale");
        restore(&dir.path().join("locale"), &saved).unwrap();
        assert!(saved.join("de.mo").is_file());
        std::fs::write(dir.path().join("locale/de.mo"), "stale").unwrap();
        restore(&saved, &dir.path().join("locale")).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("locale/de.mo")).unwrap(),
            "locale/de.mo"
        );
        restore(&dir.path().join("app-file"), &dir.path().join("x")).unwrap_err();
    }

    #[test]
    fn a_changed_input_is_a_change() {
        let key = |inputs: &str| StepKey {
            run: "make".into(),
            inputs: inputs.into(),
            env: vec![],
            key: vec![],
            outputs: vec!["out/".into()],
            stack: "debian 13 amd64".into(),
        };
        assert_eq!(key("a").changes(&key("b")), ["its inputs changed"]);
        assert!(key("a").changes(&key("a")).is_empty());
    }
}
