//! PHP web serving throughput: wrk on 127.0.0.1 against the hello-world fixture
//! (`tests/fixtures/php-public-html`) served by `heroku-php-apache2`, by `heroku-php-nginx`, and
//! by PHP's built-in `php -S` for comparison, each as Toolforge runs a web service (uid 52503,
//! read-only root, 512 MiB, so 4 PHP-FPM workers). Prints a table; asserts nothing.
//!
//! `cargo run --release -p toolforge-tests --bin php-web-bench [--runs N] [--duration SECONDS]`
//! (after `cargo packaging builder`; installs Debian's `wrk` when it is missing).

use std::process::Command;
use std::time::Duration;
use toolforge_tests::{Image, Run, WebContainer, fixture, mirrored_build};

const FIXTURE: &str = "php-public-html";
/// Two threads (the machines have two cores, shared with the servers), 16 connections.
const WRK_ARGS: [&str; 5] = ["-t2", "-c16", "--latency", "--timeout", "5s"];
const MEMORY: &str = "512m";

struct Server {
    name: &'static str,
    /// The command run with `launcher`, as a Procfile's `web:` would be.
    command: &'static str,
}

const SERVERS: [Server; 3] = [
    Server {
        name: "Apache httpd (mpm_event) + PHP-FPM",
        command: "heroku-php-apache2 public_html",
    },
    Server {
        name: "nginx + PHP-FPM",
        command: "heroku-php-nginx public_html",
    },
    Server {
        name: "`php -S` (built-in server, one process)",
        command: "php -S 0.0.0.0:8000 -t public_html",
    },
];

/// One wrk run's figures.
struct Measured {
    requests_per_second: f64,
    p99: Duration,
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let runs = take_option(&mut args, "--runs").unwrap_or(3);
    let duration = take_option(&mut args, "--duration").unwrap_or(10);
    if let Err(error) = packaging::setup::apt_install(&["wrk"]) {
        eprintln!("cannot install wrk: {error:#}");
        std::process::exit(1);
    }

    let built = mirrored_build(&fixture(FIXTURE), "php-web-bench").expect_success();
    let image = Image(built.image.clone());
    println!(
        "PHP hello world ({FIXTURE}), wrk {} -d{duration}s on 127.0.0.1; container: uid 52503, \
         read-only root, --memory {MEMORY}; median of {runs} runs after a 3 s warm-up\n",
        WRK_ARGS.join(" ")
    );
    println!("| server | requests/s | p99 latency | runs (requests/s) |");
    println!("|---|---|---|---|");
    for server in &SERVERS {
        let web = Run::toolforge(&image.0)
            .read_only()
            .memory(MEMORY)
            .launcher(&[server.command])
            .start();
        let _ = wrk(&web, 3);
        let mut measured: Vec<Measured> = (0..runs).filter_map(|_| wrk(&web, duration)).collect();
        if measured.is_empty() {
            println!("| {} | failed | | |\n{}", server.name, web.logs());
            continue;
        }
        measured.sort_by(|a, b| a.requests_per_second.total_cmp(&b.requests_per_second));
        let median = &measured[measured.len() / 2];
        let all: Vec<String> = measured
            .iter()
            .map(|m| format!("{:.0}", m.requests_per_second))
            .collect();
        println!(
            "| {} | {:.0} | {:.1} ms | {} |",
            server.name,
            median.requests_per_second,
            median.p99.as_secs_f64() * 1000.0,
            all.join(" / ")
        );
    }
}

fn take_option(args: &mut Vec<String>, name: &str) -> Option<u64> {
    let index = args.iter().position(|arg| arg == name)?;
    let value = args.get(index + 1).and_then(|value| value.parse().ok());
    args.drain(index..(index + 2).min(args.len()));
    value
}

/// Runs wrk against the container's `/`; `None` when wrk fails.
fn wrk(web: &WebContainer, seconds: u64) -> Option<Measured> {
    let output = Command::new("wrk")
        .args(WRK_ARGS)
        .arg(format!("-d{seconds}s"))
        .arg(format!("{}/", web.base_url))
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        eprintln!("wrk failed: {text}{}", String::from_utf8_lossy(&output.stderr));
        return None;
    }
    parse_wrk(&text)
}

/// `Requests/sec:   6571.23` and the `99%` line of `--latency`'s distribution.
fn parse_wrk(text: &str) -> Option<Measured> {
    let requests_per_second = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()?;
    let p99 = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("99%"))
        .and_then(|value| parse_duration(value.trim()))?;
    Some(Measured {
        requests_per_second,
        p99,
    })
}

/// wrk's durations: `812.00us`, `19.31ms`, `1.02s`.
fn parse_duration(text: &str) -> Option<Duration> {
    let (number, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic())?);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}
