//! PHP and Composer at build time: the PHP layer's environment, in the app.

use libcnb::Env;
use std::path::PathBuf;
use std::process::Command;

/// How this buildpack runs PHP and Composer at build time: the layer's environment, in the app.
pub(crate) struct Tools {
    pub(crate) env: Env,
    pub(crate) app_dir: PathBuf,
}

impl Tools {
    pub(crate) fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.current_dir(&self.app_dir).env_clear().envs(&self.env);
        command
    }
}
