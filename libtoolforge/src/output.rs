//! Build output: what a tool maintainer reads in the build log.
//!
//! Every buildpack prints the same shape, so a log of several buildpacks reads as one story:
//!
//! ```text
//! ## Procfile (toolforge/procfile)
//! - Processes from Procfile
//!   - web: gunicorn app:app (default)
//! - Done (0.01s)
//! ```

use std::fmt::Write as _;
use std::io::Write;
use std::time::{Duration, Instant};

/// The output of one buildpack's build (or detect) phase.
pub struct BuildOutput {
    started: Instant,
    out: Box<dyn Write>,
}

impl BuildOutput {
    /// Starts a buildpack's section of the log, printing its header.
    #[must_use]
    pub fn start(name: &str, buildpack_id: &str) -> Self {
        Self::start_with(Box::new(std::io::stdout()), name, buildpack_id)
    }

    /// As [`Self::start`], writing to `out` (for tests).
    #[must_use]
    pub fn start_with(out: Box<dyn Write>, name: &str, buildpack_id: &str) -> Self {
        let mut output = Self {
            started: Instant::now(),
            out,
        };
        output.line(&format!("\n## {name} ({buildpack_id})"));
        output
    }

    /// A step: one thing the buildpack does or decided.
    pub fn step(&mut self, text: &str) {
        self.line(&format!("- {text}"));
    }

    /// A detail under the last step.
    pub fn detail(&mut self, text: &str) {
        self.line(&format!("  - {text}"));
    }

    /// Something the user should change, though the build goes on.
    pub fn warning(&mut self, text: &str) {
        let mut block = String::new();
        for (index, line) in text.trim_end().lines().enumerate() {
            let prefix = if index == 0 { "! WARNING: " } else { "!          " };
            // Infallible: writing to a String. A blank line is a bare `!`, as in errors.
            let _ = writeln!(block, "{}", format!("{prefix}{line}").trim_end());
        }
        self.line(block.trim_end());
    }

    /// Ends the section with the time it took.
    pub fn done(mut self) {
        let elapsed = self.started.elapsed();
        self.line(&format!("- Done ({})", format_duration(elapsed)));
    }

    fn line(&mut self, text: &str) {
        // Nothing sensible can be done when the build log cannot be written to.
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }
}

/// `0.01s`, `12.3s`, `2m 05s`: short, and precise where it matters.
#[must_use]
pub fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 1.0 {
        format!("{seconds:.2}s")
    } else if seconds < 60.0 {
        format!("{seconds:.1}s")
    } else {
        let whole = duration.as_secs();
        format!("{}m {:02}s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn output_shape() {
        let captured = Captured::default();
        let mut output =
            BuildOutput::start_with(Box::new(captured.clone()), "Procfile", "toolforge/procfile");
        output.step("Processes from Procfile");
        output.detail("web: gunicorn app:app (default)");
        output.warning("No web process.\nThis image can only run jobs.");
        let text = String::from_utf8(captured.0.lock().expect("not poisoned").clone()).expect("utf-8");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(Duration::from_millis(12)), "0.01s");
        assert_eq!(format_duration(Duration::from_millis(12_340)), "12.3s");
        assert_eq!(format_duration(Duration::from_secs(125)), "2m 05s");
    }
}
