//! The image's size by layer at the end of the build, and a warning when it exceeds the budget
//! (Toolforge's image quota unless the app or the platform says otherwise): an image too large is
//! otherwise only found when the push or the deployment fails.
//!
//! Sizes are uncompressed (what the files take unpacked); the registry stores layers compressed,
//! so the total is an upper bound of what counts against a registry quota.

pub(crate) mod budget;
mod parts;

use crate::ToolforgeBuildpack;
use crate::config::BuildConfig;
use budget::{Budget, Source};
use libcnb::Platform;
use libcnb::build::BuildContext;
use libtoolforge::output::BuildOutput;
use parts::{Part, Size, Sources};
use std::path::Path;

/// How many of the largest layers the warning names.
const LARGEST: usize = 3;

/// Measures the image this build exports and prints its size by layer; warns when it is over the
/// budget. Never fails: a build that measures wrong must still deliver its image.
pub(crate) fn report(
    context: &BuildContext<ToolforgeBuildpack>,
    config: &BuildConfig,
    output: &mut BuildOutput,
) {
    let layers_root = context.layers_dir.parent().unwrap_or(&context.layers_dir);
    let parts = parts::measure(&Sources {
        layers_root,
        app_dir: &context.app_dir,
        run_image_size_file: Path::new(parts::RUN_IMAGE_SIZE_FILE),
        launcher: Path::new(parts::LAUNCHER),
    });
    let (budget, source, note) = budget::in_force(config.image_size_budget.as_ref(), context.platform.env());
    if let Some(note) = note {
        output.warning(&note);
    }
    print(output, &parts, &budget, &source);
}

/// The report of `parts`, in image order, and the warning when they exceed `budget`.
fn print(output: &mut BuildOutput, parts: &[Part], budget: &Budget, source: &Source) {
    let total: u64 = parts.iter().map(|part| known_bytes(&part.size)).sum();
    let complete = parts.iter().all(|part| matches!(part.size, Size::Bytes(_)));
    let at_least = if complete { "" } else { "at least " };
    let budget_text = match budget {
        Budget::Bytes { written, .. } => format!("budget {written}"),
        Budget::Unlimited => "no budget".to_string(),
    };
    output.step(&format!(
        "Image size: {at_least}{} uncompressed ({budget_text})",
        format_size(total)
    ));
    for part in parts {
        match part.size {
            Size::Bytes(bytes) => output.detail(&format!("{}: {}", part.name, format_size(bytes))),
            Size::Unknown(why) => output.detail(&format!("{}: size unknown ({why})", part.name)),
        }
    }
    let Budget::Bytes { bytes, written } = budget else {
        return;
    };
    if total <= *bytes {
        return;
    }
    let mut measured: Vec<(&str, u64)> = parts
        .iter()
        .filter_map(|part| match part.size {
            Size::Bytes(bytes) => Some((part.name.as_str(), bytes)),
            Size::Unknown(_) => None,
        })
        .collect();
    measured.sort_by_key(|(_, bytes)| std::cmp::Reverse(*bytes));
    let largest: Vec<String> = measured
        .iter()
        .take(LARGEST)
        .map(|(name, bytes)| format!("- {name}: {}", format_size(*bytes)))
        .collect();
    output.warning(&format!(
        "The image is {at_least}{} uncompressed, more than its size budget of {written} ({source}).\n\
         Its largest layers:\n{}\n\
         Toolforge may refuse an image over the tool's quota (the registry stores layers compressed, \
         so it may still fit).\n\
         Make the largest layers smaller: keep build-only tools and files out of the image (see the \
         buildpacks' READMEs).\n\
         If the tool has a larger quota, raise the budget in project.toml: \
         [org.toolforge.build] image-size-budget = \"2 GiB\".",
        format_size(total),
        largest.join("\n"),
    ));
}

fn known_bytes(size: &Size) -> u64 {
    match size {
        Size::Bytes(bytes) => *bytes,
        Size::Unknown(_) => 0,
    }
}

/// `512 B`, `12.3 KiB`, `812.4 MiB`, `1.38 GiB`: binary units, as Toolforge's quota is given.
pub(crate) fn format_size(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let size = bytes as f64;
    if bytes >= 1 << 30 {
        format!("{:.2} GiB", size / f64::from(1 << 30))
    } else if bytes >= 1 << 20 {
        format!("{:.1} MiB", size / f64::from(1 << 20))
    } else if bytes >= 1 << 10 {
        format!("{:.1} KiB", size / f64::from(1 << 10))
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(parts: &[Part], budget: &str, source: &Source) -> String {
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut output = BuildOutput::start_with(
            Box::new(log.reopen().unwrap()),
            "Toolforge runtime environment",
            "toolforge/toolforge",
        );
        print(&mut output, parts, &Budget::parse(budget).unwrap(), source);
        drop(output);
        let text = std::fs::read_to_string(log.path()).unwrap();
        text.trim_start_matches("\n## Toolforge runtime environment (toolforge/toolforge)\n")
            .to_string()
    }

    fn part(name: &str, bytes: u64) -> Part {
        Part {
            name: name.to_string(),
            size: Size::Bytes(bytes),
        }
    }

    fn image() -> Vec<Part> {
        vec![
            part("run image", 262_144_000),
            part("toolforge/apt packages", 188_743_680),
            part("toolforge/nodejs nodejs", 0),
            part("toolforge/python python", 104_857_600),
            part("toolforge/python venv", 52_428_800),
            part("toolforge/toolforge environment", 6_815_744),
            part("app (/workspace)", 410_000_000),
            part("lifecycle launcher", 1_600_000),
        ]
    }

    #[test]
    fn within_the_budget() {
        insta::assert_snapshot!(printed(&image(), "1 GiB", &Source::Default));
    }

    #[test]
    fn over_the_budget_the_three_largest() {
        let text = printed(&image(), "800 MB", &Source::ProjectToml);
        assert!(text.contains(
            "Its largest layers:\n!          - app (/workspace): 391.0 MiB\n!          - run image: \
             250.0 MiB\n!          - toolforge/apt packages: 180.0 MiB\n"
        ));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn a_part_of_unknown_size_makes_the_total_a_lower_bound() {
        let mut parts = vec![Part {
            name: "run image".to_string(),
            size: Size::Unknown("the stack does not record it"),
        }];
        parts.extend([
            part("toolforge/procfile processes", 900),
            part("app (/workspace)", 2000),
        ]);
        insta::assert_snapshot!(printed(&parts, "1 KiB", &Source::Platform(budget::BUDGET_ENV)));
        let text = printed(&parts, "none", &Source::ProjectToml);
        assert!(
            text.starts_with("- Image size: at least 2.8 KiB uncompressed (no budget)\n"),
            "{text}"
        );
        assert!(!text.contains("WARNING"), "{text}");
    }

    #[test]
    fn sizes_in_binary_units() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(1023), "1023 B");
        assert_eq!(format_size(1536), "1.5 KiB");
        assert_eq!(format_size(410_000_000), "391.0 MiB");
        assert_eq!(format_size(1_481_763_717), "1.38 GiB");
    }
}
