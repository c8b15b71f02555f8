//! The `processes` launch layer: makes `launcher NAME` run the Procfile's process NAME.
//!
//! Toolforge jobs start as `launcher COMMAND`. The lifecycle's launcher only treats its
//! `argv[0]` as a process type (`/cnb/process/NAME`); `launcher NAME` looks NAME up as a command,
//! on a PATH from which the launcher removes `/cnb/process`. So this layer puts a command per
//! process in a directory that is *appended* to PATH: real commands keep priority (a process
//! named like a command never shadows it, and cannot call itself), and a Procfile name that is
//! no command runs the process.
//!
//! It also sets `BASH_ENV` to a file defining bash's `command_not_found_handle`, so that
//! `launcher nosuch` says which processes exist instead of only `command not found`.

use crate::procfile::Procfile;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libcnb::layer::UncachedLayerDefinition;
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const COMMANDS_DIR: &str = "commands";
const BASH_ENV_FILE: &str = "command-not-found.bash";

pub(crate) fn create(
    context: &BuildContext<crate::ProcfileBuildpack>,
    procfile: &Procfile,
) -> libcnb::Result<(), crate::errors::ProcfileBuildpackError> {
    let layer = context.uncached_layer(
        layer_name!("processes"),
        UncachedLayerDefinition {
            build: false,
            launch: true,
        },
    )?;
    let layer_path = layer.path();
    write_files(&layer_path, procfile).map_err(crate::errors::ProcfileBuildpackError::WriteLayer)?;
    layer.write_env(layer_env(&layer_path))?;
    Ok(())
}

fn write_files(layer_path: &Path, procfile: &Procfile) -> std::io::Result<()> {
    let commands = layer_path.join(COMMANDS_DIR);
    std::fs::create_dir_all(&commands)?;
    for process in &procfile.processes {
        let path = commands.join(&process.name);
        std::fs::write(&path, process_command(&process.name, &process.command))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    let names: Vec<&str> = procfile
        .processes
        .iter()
        .map(|process| process.name.as_str())
        .collect();
    std::fs::write(layer_path.join(BASH_ENV_FILE), command_not_found_handler(&names))
}

/// The environment at launch: the commands directory last on PATH, and `BASH_ENV` unless the
/// platform sets its own.
fn layer_env(layer_path: &Path) -> LayerEnv {
    LayerEnv::new()
        .chainable_insert(
            Scope::Launch,
            ModificationBehavior::Append,
            "PATH",
            layer_path.join(COMMANDS_DIR),
        )
        .chainable_insert(Scope::Launch, ModificationBehavior::Delimiter, "PATH", ":")
        .chainable_insert(
            Scope::Launch,
            ModificationBehavior::Default,
            "BASH_ENV",
            layer_path.join(BASH_ENV_FILE),
        )
}

/// A script that runs the process as `/cnb/process/NAME` would: `bash -c COMMAND ARGS…`.
fn process_command(name: &str, command: &str) -> String {
    format!(
        "#!/bin/bash\n# The Procfile's `{name}` process, so that `launcher {name}` runs it.\nexec /bin/bash -c {} \"$@\"\n",
        shell_quote(command)
    )
}

fn command_not_found_handler(names: &[&str]) -> String {
    format!(
        "# Set as BASH_ENV by toolforge/procfile: explains a command that is neither on PATH nor a process.\n\
         command_not_found_handle() {{\n  \
           printf '%s\\n' \"bash: $1: command not found. It is no command on PATH and no process in the Procfile, whose processes are: {}.\" >&2\n  \
           return 127\n\
         }}\n",
        names.join(", ")
    )
}

/// Single-quotes `text` for bash, so that nothing in it is expanded.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn env_appends_commands_to_path_and_defaults_bash_env() {
        let mut base = libcnb::Env::new();
        base.insert("PATH", "/usr/bin");
        let env = layer_env(Path::new("/layers/toolforge_procfile/processes")).apply(Scope::Launch, &base);
        assert_eq!(
            env.get_string_lossy("PATH").as_deref(),
            Some("/usr/bin:/layers/toolforge_procfile/processes/commands")
        );
        assert_eq!(
            env.get_string_lossy("BASH_ENV").as_deref(),
            Some("/layers/toolforge_procfile/processes/command-not-found.bash")
        );
    }

    #[test]
    fn quoting_survives_bash() {
        let command = r#"echo "it's $0" 'single' \$HOME"#;
        let output = Command::new("bash")
            .args([
                "-c",
                &format!(
                    "eval {}",
                    shell_quote(&format!("printf %s {}", shell_quote(command)))
                ),
            ])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout), command);
    }

    #[test]
    fn process_command_runs_with_arguments_like_cnb_process() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("worker");
        std::fs::write(
            &script,
            process_command("worker", r#"echo "arg0=$0 arg1=$1 it's""#),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let output = Command::new(&script).args(["first", "second"]).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "arg0=first arg1=second it's\n"
        );
    }

    #[test]
    fn unknown_commands_list_the_processes() {
        let dir = tempfile::tempdir().unwrap();
        let bash_env = dir.path().join(BASH_ENV_FILE);
        std::fs::write(&bash_env, command_not_found_handler(&["web", "worker"])).unwrap();
        let output = Command::new("bash")
            .args(["-c", "nosuch"])
            .env("BASH_ENV", &bash_env)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(127));
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            "bash: nosuch: command not found. It is no command on PATH and no process in the Procfile, whose processes are: web, worker.\n"
        );
    }
}
