//! The app's files this buildpack reads, each read and parsed once per build: project.toml's
//! `[org.toolforge.php]`, composer.json and composer.lock.

use crate::composer::{Composer, PlatformRequirements};
use crate::config::{self, PhpConfig};
use crate::errors::PhpBuildpackError;
use std::path::Path;

pub(crate) struct App {
    pub(crate) config: PhpConfig,
    pub(crate) composer: Composer,
    /// composer.json's and its locked packages' `require.php` and `ext-*`.
    pub(crate) requirements: PlatformRequirements,
}

impl App {
    pub(crate) fn read(app_dir: &Path) -> Result<Self, PhpBuildpackError> {
        let config = config::read(app_dir).map_err(PhpBuildpackError::Config)?;
        let composer = Composer::read(app_dir).map_err(PhpBuildpackError::Composer)?;
        let requirements = composer.requirements().map_err(PhpBuildpackError::Composer)?;
        Ok(Self {
            config,
            composer,
            requirements,
        })
    }
}
