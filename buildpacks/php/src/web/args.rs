//! The command line of `heroku-php-apache2` and `heroku-php-nginx`, as Heroku's PHP buildpack
//! defines it (`print_help` in
//! <https://github.com/heroku/heroku-buildpack-php/blob/main/bin/heroku-php-apache2>):
//! `[options] [DOCUMENT_ROOT]`. Heroku parses with bash's `getopts`, so clustered flags (`-vt`),
//! attached values (`-p8000`) and `--help`/`--verbose`/`--test` work here too. Unlike `getopts`,
//! options may also follow `DOCUMENT_ROOT` (`heroku-php-apache2 public_html -v`), which Heroku
//! rejects as "too many arguments"; `--` ends the options.

use crate::web::error::Error;
use crate::web::server::Server;

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Request {
    Help,
    Run(Options),
}

/// The options as given; paths are checked later, relative to the current directory.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Options {
    /// `-C`: included in the `<VirtualHost>` (Apache) or `server {}` (nginx).
    pub(crate) server_include: Option<String>,
    /// `-F`: included at the end of FPM's `[www]` pool.
    pub(crate) fpm_include: Option<String>,
    /// `-i`: FPM's php.ini instead of the layer's.
    pub(crate) php_ini: Option<String>,
    /// `-l`: files to follow on stderr.
    pub(crate) logs: Vec<String>,
    /// `-p`: over `$PORT`.
    pub(crate) port: Option<u16>,
    pub(crate) verbose: bool,
    pub(crate) document_root: Option<String>,
    /// One line for each option that is accepted for compatibility and ignored.
    pub(crate) ignored: Vec<String>,
}

/// The server a command name stands for, and the arguments left for [`parse`]: the symlinks
/// name it (`heroku-php-apache2`), the launcher itself takes it as its first argument.
pub(crate) fn server(command: &str, mut args: Vec<String>) -> Result<(Server, Vec<String>), Error> {
    if let Some(server) = Server::from_command(command) {
        return Ok((server, args));
    }
    if args.is_empty() {
        return Err(Error::NoServer);
    }
    let name = args.remove(0);
    let server = Server::from_argument(&name).ok_or(Error::UnknownServer(name))?;
    Ok((server, args))
}

/// Parses the options and the optional `DOCUMENT_ROOT`, in any order.
pub(crate) fn parse(args: Vec<String>) -> Result<Request, Error> {
    let mut options = Options::default();
    let mut positional = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            positional.extend(args.by_ref());
        } else if let Some(long) = arg.strip_prefix("--") {
            if long_option(long, &mut options)? {
                return Ok(Request::Help);
            }
        } else if arg.len() > 1 && arg.starts_with('-') {
            if short_options(&arg[1..], &mut args, &mut options)? {
                return Ok(Request::Help);
            }
        } else {
            positional.push(arg);
        }
    }
    if positional.len() > 1 {
        return Err(Error::TooManyArguments);
    }
    options.document_root = positional.pop();
    Ok(Request::Run(options))
}

/// Applies `--name`; true for `--help`.
fn long_option(name: &str, options: &mut Options) -> Result<bool, Error> {
    match name {
        "help" => return Ok(true),
        "verbose" => options.verbose = true,
        "test" => options.ignored.push(ignored_test()),
        _ => return Err(Error::UnknownOption(format!("--{name}"))),
    }
    Ok(false)
}

/// Applies a cluster of short options (`v`, `vt`, `p8000`, `C` with its value in the next
/// argument); true for `-h`.
fn short_options(
    cluster: &str,
    rest: &mut impl Iterator<Item = String>,
    options: &mut Options,
) -> Result<bool, Error> {
    for (index, flag) in cluster.char_indices() {
        match flag {
            'h' => return Ok(true),
            'v' => options.verbose = true,
            't' => options.ignored.push(ignored_test()),
            'C' | 'c' | 'F' | 'f' | 'i' | 'l' | 'p' => {
                let attached = &cluster[index + flag.len_utf8()..];
                let value = if attached.is_empty() {
                    rest.next()
                        .ok_or_else(|| Error::MissingValue(format!("-{flag}")))?
                } else {
                    attached.to_owned()
                };
                apply_value(flag, value, options)?;
                return Ok(false);
            }
            _ => return Err(Error::UnknownOption(format!("-{flag}"))),
        }
    }
    Ok(false)
}

fn apply_value(flag: char, value: String, options: &mut Options) -> Result<(), Error> {
    match flag {
        'C' => options.server_include = Some(value),
        'F' => options.fpm_include = Some(value),
        'i' => options.php_ini = Some(value),
        'l' => options.logs.push(value),
        'p' => {
            let port = parse_port(&value).ok_or(Error::InvalidPort { value, from: "-p" })?;
            options.port = Some(port);
        }
        _ => options.ignored.push(format!(
            "-{flag} '{value}' (replace the whole configuration) is not supported; ignored, use -{} to add to it",
            flag.to_ascii_uppercase()
        )),
    }
    Ok(())
}

fn ignored_test() -> String {
    "-t (test the configuration) is not supported; ignored".to_owned()
}

/// A TCP port: digits only (no sign, no spaces), 1 to 65535.
pub(crate) fn parse_port(value: &str) -> Option<u16> {
    if value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|port| *port != 0)
}

/// The text of `-h`.
pub(crate) fn help(command: &str, server: Server) -> String {
    let name = server.name();
    let usage = if Server::from_command(command).is_some() {
        command.to_owned()
    } else {
        format!("{command} {}", server.argument())
    };
    format!(
        "\
Boots PHP-FPM together with {name}, in the foreground, on Toolforge.

Usage: {usage} [options] [DOCUMENT_ROOT]

DOCUMENT_ROOT is relative to the current directory (the app, /workspace) or absolute;
it must exist. Default: the current directory. Options may come before or after it.

Options:
  -C FILE   {name} configuration file to include in the {section}
  -F FILE   PHP-FPM configuration file to include at the end of the [www] pool section
  -i FILE   php.ini for PHP-FPM instead of the buildpack's (the conf.d scan dir still applies)
  -l FILE   log file to follow on stderr (created if missing; repeatable)
  -p PORT   port to listen on (default: $PORT, else 8000)
  -v        verbose: the memory limit, CPUs and PHP-FPM workers
  -h        this help
Accepted and ignored (Heroku compatibility): -c FILE, -f FILE (full configuration
replacement), -t (configuration test).

Environment:
  WEB_CONCURRENCY     PHP-FPM workers (default: the memory limit / PHP_FPM_WORKER_MIB, 2 to 32)
  PHP_FPM_WORKER_MIB  memory per PHP-FPM worker in MiB (default 128)
",
        section = server.include_section(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The arguments of a command line without quoting.
    fn strings(args: &str) -> Vec<String> {
        args.split_whitespace().map(ToString::to_string).collect()
    }

    fn run(args: &str) -> Options {
        match parse(strings(args)) {
            Ok(Request::Run(options)) => options,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn error(args: &str) -> String {
        match parse(strings(args)) {
            Err(error) => error.to_string(),
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn no_arguments_serve_the_current_directory() {
        assert_eq!(run(""), Options::default());
    }

    #[test]
    fn every_option() {
        let options =
            run("-C httpd.inc.conf -F fpm.inc.conf -i php.ini -l a.log -l b.log -p 8080 -v public_html");
        assert_eq!(
            options,
            Options {
                server_include: Some("httpd.inc.conf".into()),
                fpm_include: Some("fpm.inc.conf".into()),
                php_ini: Some("php.ini".into()),
                logs: strings("a.log b.log"),
                port: Some(8080),
                verbose: true,
                document_root: Some("public_html".into()),
                ignored: vec![],
            }
        );
    }

    #[test]
    fn getopts_forms_clusters_and_attached_values() {
        let options = run("-vp8080 -Cinc.conf --verbose");
        assert_eq!(options.port, Some(8080));
        assert_eq!(options.server_include.as_deref(), Some("inc.conf"));
        assert!(options.verbose);
    }

    #[test]
    fn options_after_the_document_root() {
        let options = run("public_html -p 9000");
        assert_eq!(options.document_root.as_deref(), Some("public_html"));
        assert_eq!(options.port, Some(9000));
    }

    #[test]
    fn double_dash_ends_the_options() {
        assert_eq!(run("-- -odd").document_root.as_deref(), Some("-odd"));
    }

    #[test]
    fn help_wins() {
        assert_eq!(parse(strings("-v -h")).ok(), Some(Request::Help));
        assert_eq!(parse(strings("--help")).ok(), Some(Request::Help));
        assert_eq!(parse(strings("-vh")).ok(), Some(Request::Help));
    }

    #[test]
    fn heroku_only_options_are_ignored_with_a_line_each() {
        let options = run("-c httpd.conf -f php-fpm.conf -t --test");
        assert_eq!(
            options.ignored,
            [
                "-c 'httpd.conf' (replace the whole configuration) is not supported; ignored, use -C to add to it",
                "-f 'php-fpm.conf' (replace the whole configuration) is not supported; ignored, use -F to add to it",
                "-t (test the configuration) is not supported; ignored",
                "-t (test the configuration) is not supported; ignored",
            ]
        );
    }

    #[test]
    fn usage_errors() {
        assert_eq!(error("-x"), "invalid option -x (see -h)");
        assert_eq!(error("-vx"), "invalid option -x (see -h)");
        assert_eq!(error("--port"), "invalid option --port (see -h)");
        assert_eq!(error("-C"), "option -C requires an argument (see -h)");
        assert_eq!(error("a b"), "too many arguments: one DOCUMENT_ROOT at most");
        assert_eq!(error("-p http"), "invalid port 'http' (from -p): 1 to 65535");
    }

    #[test]
    fn help_shows_how_it_was_called() {
        let usage = |command, server| {
            let help = help(command, server);
            help.lines()
                .find(|line| line.starts_with("Usage: "))
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            usage("heroku-php-nginx", Server::Nginx),
            "Usage: heroku-php-nginx [options] [DOCUMENT_ROOT]"
        );
        assert_eq!(
            usage("toolforge-php-web", Server::Apache),
            "Usage: toolforge-php-web apache2 [options] [DOCUMENT_ROOT]"
        );
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port("8000"), Some(8000));
        assert_eq!(parse_port("65535"), Some(65535));
        for bad in ["", "0", "65536", "+80", " 80", "-1", "80a"] {
            assert_eq!(parse_port(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn server_from_the_command_name_or_the_first_argument() {
        assert_eq!(
            server("heroku-php-nginx", strings("-v")).unwrap(),
            (Server::Nginx, strings("-v"))
        );
        assert_eq!(
            server("toolforge-php-web", strings("apache2 x")).unwrap(),
            (Server::Apache, strings("x"))
        );
        assert!(matches!(
            server("toolforge-php-web", strings("")),
            Err(Error::NoServer)
        ));
        assert_eq!(
            server("toolforge-php-web", strings("lighttpd"))
                .unwrap_err()
                .to_string(),
            "unknown server 'lighttpd': apache2 or nginx"
        );
    }
}
