//! The web launcher, `toolforge-php-web`, behind `heroku-php-apache2` and `heroku-php-nginx`:
//! Heroku's command line (`[options] [DOCUMENT_ROOT]`) for PHP-FPM plus Apache httpd or nginx,
//! all from the PHP layer, run as the tool's uid on a read-only root file system.
//!
//! The buildpack installs it as `<layer>/bin/toolforge-php-web` with the two commands as symlinks
//! to it; the file name it was called by picks the server. At each start it reads the container's
//! limits, writes the configurations into `${TMPDIR:-/tmp}/php-web.<port>/` (its uid's alone;
//! never executables: Docker's and Kubernetes' /tmp may be `noexec`), starts FPM, waits for its
//! socket, starts the server, and supervises both (`supervise`).
//!
//! The pure parts, each tested on its own: the command line (`args`), the container's resources
//! and the worker count (`resources`), and the three configurations (`fpm`, `apache`, `nginx`,
//! rendered from a `site::Site`).
//!
//! The modules depend one way: `names`, `exit`, `resources` and `hidden` on nothing; `error` on
//! `names` and `exit`; `site` on `error`; `fpm` on `site`, `apache` and `nginx` on `site` and
//! `hidden`; `server` on those; `args` on `error` and `server`; `supervise` on `error` and `exit`
//! only (it is handed a server's name and stop signal, not the server). This module ties them
//! together.

mod apache;
mod args;
mod error;
mod exit;
mod fpm;
mod hidden;
mod names;
mod nginx;
mod resources;
mod server;
mod site;
mod supervise;

use args::{Options, Request};
use error::Error;
use libtoolforge::private_dir;
use nix::unistd::getuid;
use resources::{CGROUP_ROOT, MEMINFO, Memory};
use server::Server;
use site::Site;
use std::env;
use std::ffi::OsString;
use std::fs::{self, OpenOptions, Permissions};
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use supervise::Supervisor;

pub use names::{APACHE_COMMAND, LAUNCHER, NGINX_COMMAND};

/// The port when neither `-p` nor `$PORT` gives one (Toolforge sets `PORT=8000`).
const DEFAULT_PORT: u16 = 8000;

/// The document root a process's command line gives the launcher (`"."` when it names none), or
/// `None` when the command is not the launcher or asks only for the help. For the build, which
/// warns when a Procfile's `web` process serves the whole app directory. The words are split at
/// white space, as a Procfile's simple commands are.
#[must_use]
pub fn document_root_argument(command_line: &str) -> Option<String> {
    let mut words = command_line.split_whitespace().map(str::to_owned);
    let program = words.next()?;
    let command = Path::new(&program).file_name()?.to_str()?;
    if command != LAUNCHER && Server::from_command(command).is_none() {
        return None;
    }
    let (_, args) = args::server(command, words.collect()).ok()?;
    match args::parse(args).ok()? {
        Request::Run(options) => Some(options.document_root.unwrap_or_else(|| ".".to_owned())),
        Request::Help => None,
    }
}

/// Runs the launcher; every error is one line on stderr and exit code 1.
#[must_use]
pub fn main() -> ExitCode {
    let mut args = env::args_os();
    let command = args
        .next()
        .as_deref()
        .and_then(|argv0| Path::new(argv0).file_name())
        .and_then(|name| name.to_str())
        .unwrap_or(LAUNCHER)
        .to_owned();
    match run(&command, args) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("{command}: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: &str, args: impl Iterator<Item = OsString>) -> Result<u8, Error> {
    // First: as PID 1, a SIGTERM that arrives before the handler is lost.
    let mut supervisor = Supervisor::new(command)?;
    let args = args
        .map(|arg| {
            arg.into_string()
                .map_err(|arg| Error::NotUtf8(arg.to_string_lossy().into_owned()))
        })
        .collect::<Result<_, _>>()?;
    let (server, args) = args::server(command, args)?;
    let options = match args::parse(args)? {
        Request::Help => {
            print!("{}", args::help(command, server));
            return Ok(0);
        }
        Request::Run(options) => options,
    };
    for ignored in &options.ignored {
        eprintln!("{command}: {ignored}");
    }
    let site = site(command, &options)?;
    write_configs(&site, server)?;
    for log in &options.logs {
        follow(&mut supervisor, log)?;
    }
    supervisor.start_fpm(fpm::command(&site), &site.fpm_socket())?;
    if !supervisor.is_stopping() {
        supervisor.start_server(server.name(), server.command(&site), server.graceful_stop())?;
        let workers = site.fpm_workers;
        let noun = if workers == 1 { "worker" } else { "workers" };
        eprintln!(
            "{command}: PHP-FPM ({workers} {noun}) and {} on port {}, document root {}",
            server.name(),
            site.port,
            site.document_root.display()
        );
    }
    Ok(supervisor.supervise())
}

/// The run-time facts: the command line's paths checked, the port, the container's resources.
fn site(command: &str, options: &Options) -> Result<Site, Error> {
    let cwd = env::current_dir().map_err(Error::CurrentDir)?;
    let port = port(options.port, env::var("PORT").ok())?;
    let (cpus, fpm_workers) = cpus_and_workers(command, options.verbose);
    let file = |option, file: &Option<String>| {
        file.as_deref()
            .map(|file| site::readable_file(&cwd, option, file))
            .transpose()
    };
    let document_root = site::document_root(&cwd, options.document_root.as_deref())?;
    let app_dir = cwd.canonicalize().map_err(Error::CurrentDir)?;
    let site = Site {
        command: command.to_owned(),
        layer: layer()?,
        run_dir: site::run_dir(env::var("TMPDIR").ok().as_deref(), port),
        port,
        app_dir_is_document_root: document_root == app_dir,
        document_root,
        fpm_workers,
        cpus,
        server_include: file('C', &options.server_include)?,
        fpm_include: file('F', &options.fpm_include)?,
        php_ini: file('i', &options.php_ini)?,
    };
    site.check_paths()?;
    Ok(site)
}

/// The container's CPUs and the PHP-FPM workers (`WEB_CONCURRENCY`, else from the memory).
fn cpus_and_workers(command: &str, verbose: bool) -> (u32, u32) {
    let cgroup_root = Path::new(CGROUP_ROOT);
    let memory = Memory::detect(cgroup_root, Path::new(MEMINFO));
    let cpus = resources::cpus(cgroup_root, resources::available_cpus());
    let web_concurrency = resources::web_concurrency(env::var("WEB_CONCURRENCY").ok().as_deref());
    let worker_mib = env::var("PHP_FPM_WORKER_MIB").ok();
    let workers = web_concurrency.unwrap_or_else(|| resources::workers_for(memory, worker_mib.as_deref()));
    if verbose {
        let from = if web_concurrency.is_some() {
            "WEB_CONCURRENCY"
        } else {
            "the memory"
        };
        eprintln!("{command}: {memory}, {cpus} CPUs, {workers} PHP-FPM workers (from {from})");
    }
    (cpus, workers)
}

/// `-p`, else `$PORT`, else 8000.
fn port(option: Option<u16>, env_port: Option<String>) -> Result<u16, Error> {
    match (option, env_port.filter(|port| !port.is_empty())) {
        (Some(port), _) => Ok(port),
        (None, Some(value)) => args::parse_port(&value).ok_or(Error::InvalidPort { value, from: "$PORT" }),
        (None, None) => Ok(DEFAULT_PORT),
    }
}

/// The PHP layer: this program is its `bin/toolforge-php-web` (`current_exe` resolves the
/// symlink it was called by).
fn layer() -> Result<PathBuf, Error> {
    let executable = env::current_exe().map_err(Error::CurrentExe)?;
    site::layer_of(&executable).ok_or_else(|| {
        Error::CurrentExe(std::io::Error::other(format!(
            "{} is not in a bin directory",
            executable.display()
        )))
    })
}

/// The run-time directory (private to the uid) with the configurations, and without the socket
/// of an earlier FPM, which would pass for the new one's. In the shared /tmp, a name someone else
/// made first (a symbolic link, another uid's directory) is refused, as the exec.d program
/// refuses it for its directories; an earlier start's directory is private again.
fn write_configs(site: &Site, server: Server) -> Result<(), Error> {
    let dir = &site.run_dir;
    let run_dir_error = |error| Error::RunDir {
        dir: dir.clone(),
        error,
    };
    private_dir::create(dir, getuid().as_raw()).map_err(run_dir_error)?;
    fs::set_permissions(dir, Permissions::from_mode(0o700)).map_err(run_dir_error)?;
    match fs::remove_file(site.fpm_socket()) {
        Err(error) if error.kind() != ErrorKind::NotFound => return Err(run_dir_error(error)),
        _ => {}
    }
    for (file, content) in [
        (fpm::CONFIG_FILE, fpm::render(site)),
        (server.config_file(), server.render(site)),
    ] {
        let file = dir.join(file);
        fs::write(&file, content).map_err(|error| Error::WriteConfig { file, error })?;
    }
    Ok(())
}

/// `-l`: the file (created with its directory if missing, as on Heroku) followed on stderr.
fn follow(supervisor: &mut Supervisor, file: &str) -> Result<(), Error> {
    let path = Path::new(file);
    let log_error = |error| Error::LogFile {
        file: file.to_owned(),
        error,
    };
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(log_error)?;
    }
    OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(log_error)?;
    supervisor.follow(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_dir_is_a_private_directory_of_this_uid() {
        let tmp = tempfile::tempdir().unwrap();
        let site = |run_dir: PathBuf| Site {
            run_dir,
            ..site::tests::example_site()
        };
        let fresh = site(tmp.path().join("php-web.8000"));
        write_configs(&fresh, Server::Nginx).unwrap();
        let mode = |dir: &Path| fs::symlink_metadata(dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&fresh.run_dir), 0o700);
        assert!(fresh.run_dir.join("nginx.conf").is_file());
        // An earlier start's, left open to others: reused, and private again.
        fs::set_permissions(&fresh.run_dir, Permissions::from_mode(0o777)).unwrap();
        write_configs(&fresh, Server::Apache).unwrap();
        assert_eq!(mode(&fresh.run_dir), 0o700);

        // A symbolic link in its place (planted in the shared /tmp): the configurations would be
        // written wherever it points.
        let elsewhere = tmp.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        let elsewhere_mode = mode(&elsewhere);
        let link = tmp.path().join("php-web.8001");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        let error = write_configs(&site(link), Server::Nginx).unwrap_err().to_string();
        assert!(
            error.starts_with("cannot create the run-time directory "),
            "{error}"
        );
        assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
        assert_eq!(mode(&elsewhere), elsewhere_mode, "its mode is left alone");

        // A file in its place.
        let file = tmp.path().join("php-web.8002");
        fs::write(&file, "").unwrap();
        assert!(write_configs(&site(file), Server::Nginx).is_err());
    }

    #[test]
    fn document_root_arguments() {
        let root = |command_line| document_root_argument(command_line);
        assert_eq!(root("heroku-php-apache2").as_deref(), Some("."));
        assert_eq!(
            root("heroku-php-nginx -C nginx.conf public/").as_deref(),
            Some("public/")
        );
        assert_eq!(
            root("vendor/bin/heroku-php-apache2 -p8080 -v web").as_deref(),
            Some("web")
        );
        assert_eq!(root("toolforge-php-web nginx").as_deref(), Some("."));
        assert_eq!(root("heroku-php-apache2 --help"), None);
        assert_eq!(root("heroku-php-apache2 -x"), None);
        assert_eq!(root("toolforge-php-web lighttpd"), None);
        assert_eq!(root("gunicorn nginx"), None);
        assert_eq!(root("php -S 0.0.0.0:8000"), None);
        assert_eq!(root(""), None);
    }

    #[test]
    fn port_from_the_option_the_environment_or_the_default() {
        assert_eq!(port(Some(9000), Some("8000".into())).unwrap(), 9000);
        assert_eq!(port(None, Some("8001".into())).unwrap(), 8001);
        assert_eq!(port(None, Some(String::new())).unwrap(), 8000);
        assert_eq!(port(None, None).unwrap(), 8000);
        assert_eq!(
            port(None, Some("eighty".into())).unwrap_err().to_string(),
            "invalid port 'eighty' (from $PORT): 1 to 65535"
        );
    }
}
