//! The two web servers in front of PHP-FPM, and what differs between them.

use crate::web::names::{APACHE_COMMAND, NGINX_COMMAND};
use crate::web::site::Site;
use crate::web::{apache, nginx};
use nix::sys::signal::Signal;
use std::process::Command;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Server {
    Apache,
    Nginx,
}

impl Server {
    /// The server a command name (the symlink's file name) stands for.
    pub(crate) fn from_command(command: &str) -> Option<Self> {
        match command {
            APACHE_COMMAND => Some(Self::Apache),
            NGINX_COMMAND => Some(Self::Nginx),
            _ => None,
        }
    }

    /// The server named by the launcher's first argument.
    pub(crate) fn from_argument(argument: &str) -> Option<Self> {
        [Self::Apache, Self::Nginx]
            .into_iter()
            .find(|server| server.argument() == argument)
    }

    /// The launcher's first argument for this server.
    pub(crate) fn argument(self) -> &'static str {
        match self {
            Self::Apache => "apache2",
            Self::Nginx => "nginx",
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Apache => "Apache httpd",
            Self::Nginx => "nginx",
        }
    }

    /// Where `-C` lands, for the help.
    pub(crate) fn include_section(self) -> &'static str {
        match self {
            Self::Apache => "<VirtualHost>",
            Self::Nginx => "server {} block",
        }
    }

    /// The configuration, from the run-time facts.
    pub(crate) fn render(self, site: &Site) -> String {
        match self {
            Self::Apache => apache::render(site),
            Self::Nginx => nginx::render(site),
        }
    }

    /// The file name of the configuration in the run-time directory.
    pub(crate) fn config_file(self) -> &'static str {
        match self {
            Self::Apache => apache::CONFIG_FILE,
            Self::Nginx => nginx::CONFIG_FILE,
        }
    }

    /// The server in the foreground, with the configuration written to [`Self::config_file`].
    pub(crate) fn command(self, site: &Site) -> Command {
        match self {
            Self::Apache => apache::command(site),
            Self::Nginx => nginx::command(site),
        }
    }

    /// The signal that stops the server once the requests in flight are answered.
    pub(crate) fn graceful_stop(self) -> Signal {
        match self {
            Self::Apache => apache::GRACEFUL_STOP,
            Self::Nginx => nginx::GRACEFUL_STOP,
        }
    }
}
