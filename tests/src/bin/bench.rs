//! Build timings: for each fixture, a cold build, a warm rebuild with no change, and the floor —
//! the same app built by a builder whose only buildpack does nothing, so the lifecycle's, pack's
//! and the stack's own cost. Prints a table; asserts nothing.
//!
//! `cargo run --release -p toolforge-tests --bin bench [--runs N] [--keep] [--edit FILE] [FIXTURE…]`
//! (`--keep`: the last image of each fixture stays, to look into; its name is printed.
//! `--edit FILE`: a third build after appending a comment line to the fixture's FILE, timed as
//! "warm, one-line change"; FILE must take `#` or `//` comments as its name says.)
//! (after `cargo packaging builder`).

use packaging::cnb_tools;
use std::path::Path;
use std::time::Duration;
use toolforge_tests::floor::{FLOOR_BUILDER, create_floor_builder};
use toolforge_tests::{Build, Image, docker, fixture_copy, mirror_args, pack_build, unique_image_name};

const DEFAULT_FIXTURES: [&str; 6] = [
    "procfile-web",
    "python-flask-pip",
    "nodejs-express-npm",
    "python-flask-vite",
    "php-public-html",
    "php-composer",
];

/// The command line.
struct Options {
    runs: usize,
    keep: bool,
    edit: Option<String>,
    fixtures: Vec<String>,
}

impl Options {
    fn parse() -> Self {
        let mut args: Vec<String> = std::env::args().skip(1).collect();
        let mut value_of = |flag: &str| {
            let index = args.iter().position(|arg| arg == flag)?;
            let value = args.get(index + 1).cloned();
            args.drain(index..(index + 2).min(args.len()));
            value
        };
        let runs = value_of("--runs").and_then(|n| n.parse().ok()).unwrap_or(3);
        let edit = value_of("--edit");
        let keep = args.iter().any(|arg| arg == "--keep");
        args.retain(|arg| arg != "--keep");
        let fixtures = if args.is_empty() {
            DEFAULT_FIXTURES.iter().map(ToString::to_string).collect()
        } else {
            args
        };
        Self {
            runs,
            keep,
            edit,
            fixtures,
        }
    }
}

/// Appends a comment line to `file` of `app`, then rebuilds `image`.
fn edit_and_build(app: &Path, file: &str, image: &str, args: &[&str], run: usize) -> Duration {
    let hash_comments = Path::new(file).extension().is_some_and(|extension| {
        ["py", "rb", "toml", "txt"]
            .iter()
            .any(|known| extension.eq_ignore_ascii_case(known))
    });
    let comment = if hash_comments { "#" } else { "//" };
    let path = app.join(file);
    let text = std::fs::read_to_string(&path).expect("the file to edit");
    std::fs::write(
        &path,
        format!("{text}{comment} bench: a one-line change ({run})\n"),
    )
    .expect("the edited file");
    timed(pack_build(app, image, &toolforge_tests::builder(), args))
}

fn main() {
    let Options {
        runs,
        keep,
        edit,
        fixtures,
    } = Options::parse();

    create_floor_builder();
    println!(
        "Build timings: median of {runs} runs each (pack {}, lifecycle from builder/builder.toml)\n",
        cnb_tools::PACK_VERSION
    );
    let edited = edit.as_ref().map_or(String::new(), |file| {
        format!(" warm, one-line change to {file} |")
    });
    println!(
        "| fixture | cold build | warm rebuild (no change) |{edited} floor: no-op cold | floor: no-op warm | image size |"
    );
    println!(
        "|---|---|---|{}---|---|---|",
        if edit.is_some() { "---|" } else { "" }
    );
    for name in &fixtures {
        // A copy: --edit changes it.
        let copy = fixture_copy(name);
        let app = copy.path();
        // Runtimes come from the self-built mirrors, through the host network.
        let mirror_args = mirror_args();
        let args: Vec<&str> = mirror_args.iter().map(String::as_str).collect();
        let mut cold = Vec::new();
        let mut warm = Vec::new();
        let mut changed = Vec::new();
        let mut floor_cold = Vec::new();
        let mut floor_warm = Vec::new();
        let mut size = 0;
        let mut kept = None;
        for run in 0..runs {
            let image = Image(unique_image_name(&format!("bench-{name}")));
            cold.push(timed(pack_build(
                app,
                &image.0,
                &toolforge_tests::builder(),
                &args,
            )));
            warm.push(timed(pack_build(
                app,
                &image.0,
                &toolforge_tests::builder(),
                &args,
            )));
            size = image_size(&image.0);
            if let Some(file) = &edit {
                changed.push(edit_and_build(app, file, &image.0, &args, run));
            }
            let floor = Image(unique_image_name(&format!("bench-floor-{name}")));
            floor_cold.push(timed(pack_build(app, &floor.0, FLOOR_BUILDER, &args)));
            floor_warm.push(timed(pack_build(app, &floor.0, FLOOR_BUILDER, &args)));
            if keep && run + 1 == runs {
                kept = Some(image.0.clone());
                // Not removed when it drops: the caller looks into it.
                std::mem::forget(image);
            }
        }
        if let Some(kept) = &kept {
            eprintln!("kept image: {kept}");
        }
        let changed = if changed.is_empty() {
            String::new()
        } else {
            format!(" {} |", median(&mut changed))
        };
        println!(
            "| {name} | {} | {} |{changed} {} | {} | {} MB |",
            median(&mut cold),
            median(&mut warm),
            median(&mut floor_cold),
            median(&mut floor_warm),
            size / 1_000_000
        );
    }
}

fn timed(build: Build) -> Duration {
    let build = build.expect_success();
    build.duration
}

fn median(durations: &mut [Duration]) -> String {
    durations.sort();
    format!("{:.1}s", durations[durations.len() / 2].as_secs_f64())
}

fn image_size(image: &str) -> u64 {
    docker(&["image", "inspect", "--format", "{{.Size}}", image])
        .ok()
        .and_then(|size| size.trim().parse().ok())
        .unwrap_or(0)
}
