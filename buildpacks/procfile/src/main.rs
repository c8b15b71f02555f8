mod errors;
#[cfg(test)]
mod fuzz;
mod heroku_paths;
mod processes_layer;
mod procfile;

use crate::errors::{PROCFILE, ProcfileBuildpackError, error_message};
use crate::procfile::Procfile;
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::data::launch::{LaunchBuilder, ProcessBuilder, ProcessType};
use libcnb::detect::{DetectContext, DetectResult, DetectResultBuilder};
use libcnb::generic::{GenericMetadata, GenericPlatform};
use libcnb::{Buildpack, buildpack_main};
use libtoolforge::error::utf8_text;
use libtoolforge::output::BuildOutput;
use std::path::{Path, PathBuf};

/// Files that are almost certainly meant to be the Procfile. Detection passes on them so that
/// the build can say what to rename, rather than silently producing an image with no process.
const NEAR_MISSES: [&str; 4] = ["procfile", "ProcFile", "PROCFILE", "Procfile.txt"];

pub(crate) struct ProcfileBuildpack;

impl Buildpack for ProcfileBuildpack {
    type Platform = GenericPlatform;
    type Metadata = GenericMetadata;
    type Error = ProcfileBuildpackError;

    fn detect(&self, context: DetectContext<Self>) -> libcnb::Result<DetectResult, Self::Error> {
        if context.app_dir.join(PROCFILE).is_file() || misnamed_procfile(&context.app_dir).is_some() {
            DetectResultBuilder::pass().build()
        } else {
            DetectResultBuilder::fail().build()
        }
    }

    fn build(&self, context: BuildContext<Self>) -> libcnb::Result<BuildResult, Self::Error> {
        let mut output = BuildOutput::start("Procfile", "toolforge/procfile");
        let path = context.app_dir.join(PROCFILE);
        if !path.is_file() {
            let misnamed = misnamed_procfile(&context.app_dir).unwrap_or_else(|| PathBuf::from(PROCFILE));
            return Err(ProcfileBuildpackError::Misnamed(misnamed).into());
        }
        let mut procfile = read_procfile(&path)?;
        let rewritten = heroku_paths::rewrite(&mut procfile);

        output.step("Processes from Procfile");
        for process in &procfile.processes {
            let default = if process.name == "web" { " (default)" } else { "" };
            output.detail(&format!("{}: {}{default}", process.name, process.command));
        }
        for rewritten in &rewritten {
            output.warning(&rewritten.warning());
        }
        for duplicate in &procfile.duplicates {
            output.warning(&format!(
                "Procfile lines {} and {} both define `{}`; line {} is used.\nRemove one of them.",
                duplicate.first_line, duplicate.winning_line, duplicate.name, duplicate.winning_line
            ));
        }
        for process in &procfile.processes {
            if let Some(command) = command_on_path(&process.name) {
                output.warning(&format!(
                    "The process `{name}` has the name of the command {command}, so `launcher {name}` runs \
                     that command, not the process.\nStart the process with `--entrypoint {name}`, or \
                     rename it in the Procfile.",
                    name = process.name,
                    command = command.display()
                ));
            }
        }
        if procfile.process("web").is_none() {
            output.step(
                "No `web` process, so the image has no default process: start processes by name \
                 (`launcher NAME`), as Toolforge jobs do",
            );
        }
        processes_layer::create(&context, &procfile)?;
        output.done();

        BuildResultBuilder::new().launch(launch(&procfile)?).build()
    }

    fn on_error(&self, error: libcnb::Error<Self::Error>) {
        libtoolforge::fail(&error, error_message);
    }
}

fn misnamed_procfile(app_dir: &Path) -> Option<PathBuf> {
    // `is_file` alone is not enough on case-insensitive file systems; list the directory instead.
    let entries = std::fs::read_dir(app_dir).ok()?;
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.file_name())
        .find(|name| NEAR_MISSES.iter().any(|near_miss| name == near_miss))
        .map(PathBuf::from)
}

/// The command `name` resolves to on the build's PATH, whose system directories are the run
/// image's too.
fn command_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

fn read_procfile(path: &Path) -> Result<Procfile, ProcfileBuildpackError> {
    parse_procfile(std::fs::read(path).map_err(ProcfileBuildpackError::Read)?)
}

fn parse_procfile(bytes: Vec<u8>) -> Result<Procfile, ProcfileBuildpackError> {
    let text = utf8_text(bytes).map_err(|line| ProcfileBuildpackError::NotUtf8 { line })?;
    text.parse().map_err(ProcfileBuildpackError::Parse)
}

fn launch(
    procfile: &Procfile,
) -> Result<libcnb::data::launch::Launch, libcnb::Error<ProcfileBuildpackError>> {
    let mut launch = LaunchBuilder::new();
    for process in &procfile.processes {
        // The parser only accepts names that are valid process types.
        let process_type: ProcessType = process.name.parse()?;
        launch.process(
            ProcessBuilder::new(process_type, ["bash", "-c", process.command.as_str()])
                .default(process.name == "web")
                .build(),
        );
    }
    Ok(launch.build())
}

buildpack_main!(ProcfileBuildpack);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_is_default_and_nothing_else_is_promoted() {
        let with_web: Procfile = "worker: w\nweb: x".parse().unwrap();
        let defaults: Vec<bool> = launch(&with_web)
            .unwrap()
            .processes
            .iter()
            .map(|p| p.default)
            .collect();
        assert_eq!(defaults, [false, true]);

        let jobs_only: Procfile = "update: u".parse().unwrap();
        let launch = launch(&jobs_only).unwrap();
        assert!(!launch.processes[0].default);
        assert_eq!(launch.processes[0].command, ["bash", "-c", "u"]);
    }

    #[test]
    fn near_misses_are_found() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(misnamed_procfile(dir.path()), None);
        std::fs::write(dir.path().join("Procfile.txt"), "web: x").unwrap();
        assert_eq!(misnamed_procfile(dir.path()), Some(PathBuf::from("Procfile.txt")));
    }
}
