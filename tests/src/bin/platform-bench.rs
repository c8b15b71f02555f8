//! Rebuild timings the way builds reach users: for each fixture, under (a) pack with its volume
//! cache, (b) the lifecycle's phases with an empty cache for every build (Toolforge today) and
//! (c) the phases with a cache image in a registry, a cold build, a rebuild with nothing
//! changed, a rebuild after a one-line code change, and the floor (the no-op builder's rebuild)
//! under each. Then where each no-change rebuild goes: per phase, and per buildpack within the
//! build phase. Prints tables; asserts nothing.
//!
//! `cargo run --release -p toolforge-tests --bin platform-bench [FIXTURE…]`
//! (after `cargo packaging builder` and `cargo packaging mirror`).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;
use toolforge_tests::floor::{FLOOR_BUILDER, create_floor_builder};
use toolforge_tests::platform::{
    Cache, Lifecycle, PlatformBuild, images, mirror_env, platform_build_with, registry, unique_reference,
};
use toolforge_tests::{Image, fixture_copy, mirror_args, pack_build, unique_image_name};

/// The fixtures, and the file a one-line change appends a comment to.
const DEFAULT_FIXTURES: [(&str, &str); 3] = [
    ("python-flask-pip", "app.py"),
    ("nodejs-express-npm", "server.js"),
    ("php-composer", "public_html/index.php"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `pack build` with pack's cache volumes.
    PackVolume,
    /// The phases, a new empty cache directory each build.
    PhasesEmpty,
    /// The phases, a cache image in the registry.
    PhasesCacheImage,
}

impl Mode {
    const ALL: [Self; 3] = [Self::PackVolume, Self::PhasesEmpty, Self::PhasesCacheImage];

    fn label(self) -> &'static str {
        match self {
            Self::PackVolume => "(a) pack, volume cache",
            Self::PhasesEmpty => "(b) phases, empty cache",
            Self::PhasesCacheImage => "(c) phases, cache image",
        }
    }
}

/// One timed build and where its time went.
struct Timing {
    total: Duration,
    /// (phase, time): the lifecycle's phases, and the platform's own steps.
    phases: Vec<(String, Duration)>,
    /// (buildpack, time) within the build phase, as each buildpack's `Done` line says.
    buildpacks: Vec<(String, String)>,
}

/// Builds `app` into `image` under `mode` with `builder` (ours or the floor's, local names).
fn build(mode: Mode, builder: &str, app: &Path, image: &str) -> Timing {
    match mode {
        Mode::PackVolume => {
            let args = mirror_args();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let built = pack_build(app, image, builder, &args).expect_success();
            Timing {
                total: built.duration,
                phases: pack_phases(&built.output, built.duration),
                buildpacks: buildpack_times(&built.output),
            }
        }
        Mode::PhasesEmpty | Mode::PhasesCacheImage => {
            let cache = if mode == Mode::PhasesEmpty {
                Cache::Empty
            } else {
                Cache::Image(format!("{image}-cache"))
            };
            let builder = registry_builder(builder);
            let built: PlatformBuild = platform_build_with(
                (&builder, &images().run),
                app,
                image,
                Lifecycle::Phases,
                &cache,
                &mirror_env(),
            )
            .expect_success();
            Timing {
                total: built.duration(),
                buildpacks: buildpack_times(built.phase_output("builder")),
                phases: built.phases,
            }
        }
    }
}

/// The registry's copy of a local builder.
fn registry_builder(local: &str) -> String {
    if local == FLOOR_BUILDER {
        static FLOOR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        FLOOR
            .get_or_init(|| registry().push(FLOOR_BUILDER, "toolforge-test/builder-floor:latest"))
            .clone()
    } else {
        images().builder.clone()
    }
}

/// pack's phases from its `--timestamps` lines (`2026/11/30 05:46:21.123456 ===> ANALYZING`):
/// `pack` is what comes before the first phase (containers, volumes), each phase runs until the
/// next one starts, and the export until pack ends.
fn pack_phases(output: &str, total: Duration) -> Vec<(String, Duration)> {
    let marks: Vec<(String, f64)> = output
        .lines()
        .filter_map(|line| {
            let (stamp, rest) = line.split_at_checked(26)?;
            let phase = rest.trim().strip_prefix("===> ")?;
            let time = stamp.split_whitespace().nth(1)?;
            let mut parts = time.split(':');
            let hours: f64 = parts.next()?.parse().ok()?;
            let minutes: f64 = parts.next()?.parse().ok()?;
            let seconds: f64 = parts.next()?.parse().ok()?;
            Some((phase.to_lowercase(), hours * 3600.0 + minutes * 60.0 + seconds))
        })
        .collect();
    let mut phases = Vec::new();
    let mut accounted = Duration::ZERO;
    for pair in marks.windows(2) {
        let duration = Duration::from_secs_f64((pair[1].1 - pair[0].1).max(0.0));
        accounted += duration;
        phases.push((pair[0].0.clone(), duration));
    }
    if let Some((last, _)) = marks.last() {
        // The last phase and pack's own work before the first one are not told apart here.
        phases.push((format!("{last} + pack"), total.saturating_sub(accounted)));
    }
    phases
}

/// `(buildpack id, "N.Ns")` from each `## Name (id)` section's `- Done (N.Ns)` line.
fn buildpack_times(output: &str) -> Vec<(String, String)> {
    let mut times = Vec::new();
    let mut current = None;
    for line in output.lines() {
        let line = line
            .get(line.find("## ").or_else(|| line.find("- Done (")).unwrap_or(0)..)
            .unwrap_or(line);
        if let Some(header) = line.strip_prefix("## ") {
            current = header.rsplit_once('(').map(|(_, id)| {
                id.trim_end_matches(')')
                    .rsplit('/')
                    .next()
                    .unwrap_or(id)
                    .to_string()
            });
        } else if let Some(done) = line.strip_prefix("- Done (")
            && let Some(id) = current.take()
        {
            times.push((id, done.trim_end_matches(')').to_string()));
        }
    }
    times
}

/// Appends a comment line to `file` of `app`.
fn one_line_change(app: &Path, file: &str) {
    let python = Path::new(file)
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("py"));
    let comment = if python { "#" } else { "//" };
    let path = app.join(file);
    let text = std::fs::read_to_string(&path).expect("the file to change");
    std::fs::write(
        &path,
        format!("{text}\n{comment} platform-bench: a one-line change\n"),
    )
    .expect("the changed file");
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

fn image_name(mode: Mode, purpose: &str) -> String {
    match mode {
        Mode::PackVolume => unique_image_name(purpose),
        Mode::PhasesEmpty | Mode::PhasesCacheImage => unique_reference(purpose),
    }
}

fn main() {
    let chosen: Vec<String> = std::env::args().skip(1).collect();
    let fixtures: Vec<(&str, &str)> = DEFAULT_FIXTURES
        .iter()
        .copied()
        .filter(|(name, _)| chosen.is_empty() || chosen.iter().any(|chosen| chosen == name))
        .collect();
    create_floor_builder();
    let ours = toolforge_tests::builder();
    println!(
        "Rebuilds as users get them (lifecycle phases: Platform API {}, as the Tekton catalog's \
         buildpacks-phases 0.3; one run each)\n",
        toolforge_tests::platform::PLATFORM_API
    );
    println!(
        "| fixture | mode | cold | rebuild, no change | rebuild, one-line change | floor rebuild | no change / floor |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut breakdowns = String::new();
    for (name, file) in &fixtures {
        for mode in Mode::ALL {
            let copy = fixture_copy(name);
            let app = copy.path();
            let image = image_name(mode, &format!("platform-bench-{name}"));
            // Pack's images and caches are local; the registry's go with the registry.
            let _local = (mode == Mode::PackVolume).then(|| Image(image.clone()));
            let cold = build(mode, &ours, app, &image);
            let warm = build(mode, &ours, app, &image);
            one_line_change(app, file);
            let changed = build(mode, &ours, app, &image);
            let floor_image = image_name(mode, &format!("platform-bench-floor-{name}"));
            let _floor_local = (mode == Mode::PackVolume).then(|| Image(floor_image.clone()));
            build(mode, FLOOR_BUILDER, app, &floor_image);
            let floor = build(mode, FLOOR_BUILDER, app, &floor_image);
            println!(
                "| {name} | {} | {} | {} | {} | {} | {:.1}× |",
                mode.label(),
                seconds(cold.total),
                seconds(warm.total),
                seconds(changed.total),
                seconds(floor.total),
                warm.total.as_secs_f64() / floor.total.as_secs_f64()
            );
            let phases: Vec<String> = warm
                .phases
                .iter()
                .map(|(phase, duration)| format!("{phase} {}", seconds(*duration)))
                .collect();
            let floor_phases: Vec<String> = floor
                .phases
                .iter()
                .map(|(phase, duration)| format!("{phase} {}", seconds(*duration)))
                .collect();
            let buildpacks: Vec<String> = warm
                .buildpacks
                .iter()
                .map(|(id, time)| format!("{id} {time}"))
                .collect();
            writeln!(
                breakdowns,
                "| {name} | {} | {} | {} | {} |",
                mode.label(),
                phases.join(", "),
                buildpacks.join(", "),
                floor_phases.join(", ")
            )
            .expect("a String takes writes");
        }
    }
    println!("\nWhere a rebuild with no change goes\n");
    println!("| fixture | mode | phases | build phase by buildpack | floor's phases |");
    println!("|---|---|---|---|---|");
    print!("{breakdowns}");
}
