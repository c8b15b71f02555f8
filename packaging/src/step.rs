//! Progress: one line per step, with its duration.

use std::time::Instant;

/// Runs `work` as a named step, printing its start, and its end with the duration and outcome.
///
/// # Errors
///
/// Returns what `work` returns, with the step's name added as context.
pub fn run<T>(name: &str, work: impl FnOnce() -> anyhow::Result<(T, String)>) -> anyhow::Result<T> {
    eprintln!("==> {name}");
    let started = Instant::now();
    match work() {
        Ok((value, outcome)) => {
            eprintln!("==> {name}: {outcome} ({:.1}s)", started.elapsed().as_secs_f64());
            Ok(value)
        }
        Err(error) => {
            eprintln!("==> {name}: FAILED ({:.1}s)", started.elapsed().as_secs_f64());
            Err(error.context(format!("step `{name}` failed")))
        }
    }
}
