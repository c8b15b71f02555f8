//! The environment Python's build tools run with.

use libtoolforge::build_env::{BuildEnv, system_ca_bundle};
use std::path::Path;
use std::process::Command;

/// The environment of every Python build tool: [`BuildEnv`]'s, with the system's CA store
/// also where pip and uv need telling (pip, Poetry and Pipenv would use certifi's bundled list,
/// uv its own), never a prompt, no progress bars; the user's build environment (`pack build
/// --env`, project.toml) wins.
pub(crate) fn build_env(platform_env: &libcnb::Env, app_dir: &Path) -> BuildEnv {
    let mut env = BuildEnv::new(platform_env, app_dir);
    if let Some(bundle) = system_ca_bundle() {
        env.set_default("PIP_CERT", bundle)
            .set_default("UV_NATIVE_TLS", "1");
    }
    for (name, value) in [
        ("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
        ("PIP_NO_INPUT", "1"),
        ("PIP_PROGRESS_BAR", "off"),
        ("PYTHONUNBUFFERED", "1"),
        ("UV_NO_PROGRESS", "1"),
        ("UV_PYTHON_DOWNLOADS", "never"),
        ("PIPENV_NOSPIN", "1"),
        ("PIPENV_YES", "1"),
        ("POETRY_NO_INTERACTION", "1"),
    ] {
        env.set_default(name, value);
    }
    env
}

/// `python -m compileall` for `path`, as the image needs it: every file recompiled (`-f`: the
/// exporter resets every file's mtime, so timestamp-checked bytecode would be stale) and never
/// checked against its source at run time, where nothing may be written. `python` is the
/// interpreter: a venv's, or the runtime's own (the same interpreter, so the same bytecode).
pub(crate) fn compile_bytecode(python: &Path, path: &Path) -> Command {
    let mut command = Command::new(python);
    command
        .args([
            "-m",
            "compileall",
            "-q",
            "-f",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
        ])
        // Hidden directories (.git, .venv) hold no code of the app's.
        .args(["-x", r"/\."])
        .arg(path);
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_dirs_come_first_and_user_env_wins() {
        let mut platform = libcnb::Env::new();
        platform.insert("PIP_NO_INPUT", "0");
        let mut env = build_env(&platform, Path::new("/workspace"));
        env.prepend_path("/layers/python/bin")
            .prepend_path("/layers/venv/bin");
        let env = env.env();
        assert!(
            env.get_string_lossy("PATH")
                .unwrap()
                .starts_with("/layers/venv/bin:/layers/python/bin:")
        );
        assert_eq!(env.get_string_lossy("PIP_NO_INPUT").as_deref(), Some("0"));
        assert_eq!(env.get_string_lossy("PIP_PROGRESS_BAR").as_deref(), Some("off"));
    }
}
