//! The environment Python's build tools run with.

use std::path::Path;
use std::process::Command;

/// Debian's bundle of the system's certificate authorities, including any the stack added.
pub(crate) const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Variables for every build tool: trust the system's CA store (pip, Poetry and Pipenv would use
/// certifi's bundled list, uv its own), never prompt, no progress bars, and the user's build
/// environment (`pack build --env`, project.toml) on top.
pub(crate) fn tool_env(platform_env: &libcnb::Env, path_dirs: &[&Path]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    if Path::new(SYSTEM_CA_BUNDLE).is_file() {
        for name in ["SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"] {
            env.push((name.to_string(), SYSTEM_CA_BUNDLE.to_string()));
        }
        env.push(("UV_NATIVE_TLS".to_string(), "1".to_string()));
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
        env.push((name.to_string(), value.to_string()));
    }
    for (name, value) in platform_env {
        env.push((
            name.to_string_lossy().into_owned(),
            value.to_string_lossy().into_owned(),
        ));
    }
    let system_path = std::env::var("PATH").unwrap_or_default();
    let mut path: Vec<String> = path_dirs.iter().map(|dir| dir.display().to_string()).collect();
    path.push(system_path);
    env.push(("PATH".to_string(), path.join(":")));
    env
}

/// `python -m compileall` for `path`, as the image needs it: every file recompiled (`-f`: the
/// exporter resets every file's mtime, so timestamp-checked bytecode would be stale) and never
/// checked against its source at run time, where nothing may be written.
pub(crate) fn compile_bytecode(venv: &Path, path: &Path) -> Command {
    let mut command = Command::new(venv.join("bin/python"));
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
        let env = tool_env(
            &platform,
            &[Path::new("/layers/venv/bin"), Path::new("/layers/python/bin")],
        );
        let last = |name: &str| env.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        assert!(
            last("PATH")
                .unwrap()
                .starts_with("/layers/venv/bin:/layers/python/bin:")
        );
        // Later entries win when applied in order.
        assert_eq!(last("PIP_NO_INPUT").as_deref(), Some("0"));
    }
}
