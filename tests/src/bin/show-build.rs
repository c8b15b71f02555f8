//! Builds one app with the builder, runtimes from the self-built mirrors, and prints pack's whole
//! output, whether the build succeeds or fails: the build log a tool maintainer sees, for
//! documentation and issue notes. The image is removed afterwards. Asserts nothing.
//!
//! `cargo run -p toolforge-tests --bin show-build -- FIXTURE_OR_DIRECTORY`
//! (after `cargo packaging builder` and `cargo packaging mirror`).

use std::path::PathBuf;
use toolforge_tests::{Image, fixture, mirrored_build};

fn main() {
    let Some(app) = std::env::args().nth(1) else {
        eprintln!("usage: show-build FIXTURE_OR_DIRECTORY");
        std::process::exit(2);
    };
    let path = PathBuf::from(&app);
    let dir = if path.is_dir() { path } else { fixture(&app) };
    let built = mirrored_build(&dir, "show-build");
    let _image = Image(built.image.clone());
    println!("{}", built.output);
    println!(
        "(build {} in {:.1} s)",
        if built.success { "succeeded" } else { "failed" },
        built.duration.as_secs_f64()
    );
}
