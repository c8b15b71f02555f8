//! The exec.d program: runs before every process of the image (`--entrypoint web`, `launcher
//! <command>`), tells the launcher the variables to set on fd 3, and explains on stderr what it
//! could not do. It always exits 0: a failure here must never stop a tool from starting.

use std::io::Write;
use std::path::PathBuf;
use toolforge_toolforge::exec_d::{self, CONFIG_FILE, Config};

fn main() {
    // One line instead of a panic report, and the process starts anyway (see the end).
    std::panic::set_hook(Box::new(|info| {
        eprintln!("toolforge: the environment program failed ({info}); starting without it");
    }));
    let result = std::panic::catch_unwind(|| {
        let config = read_config();
        let (variables, notes) = exec_d::run(&config);
        for note in notes {
            eprintln!("{note}");
        }
        if let Err(error) = write_output(&variables) {
            eprintln!("toolforge: cannot hand the environment to the launcher: {error}");
        }
    });
    drop(result);
    // A lookup abandoned at the deadline (SSSD, a hung NFS mount, an LDAP server that never
    // answers) may still block its thread: exit without joining it. A thread asleep in NFS is
    // ended by the kernel at exit (NFS sleeps are killable), so the launcher sees this process end.
    std::process::exit(0);
}

/// The build's configuration, next to the `exec.d` directory this program is in.
fn read_config() -> Config {
    let path = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join(CONFIG_FILE)))
        .unwrap_or_else(|| PathBuf::from(CONFIG_FILE));
    match std::fs::read_to_string(&path).map(|text| toml::from_str(&text)) {
        Ok(Ok(config)) => config,
        Ok(Err(error)) => {
            eprintln!("toolforge: ignoring {}: {}", path.display(), error.message());
            Config::default()
        }
        Err(error) => {
            eprintln!("toolforge: cannot read {}: {error}", path.display());
            Config::default()
        }
    }
}

/// The exec.d output (a TOML table of variables) on file descriptor 3, as the buildpack spec asks:
/// <https://github.com/buildpacks/spec/blob/main/buildpack.md#execd>
/// Opened through /proc so that no unsafe code is needed, and so that a missing fd 3 (the
/// program run by hand) is an error rather than a crash.
fn write_output(variables: &std::collections::BTreeMap<String, String>) -> std::io::Result<()> {
    let text = toml::to_string(variables).map_err(std::io::Error::other)?;
    let mut fd3 = std::fs::OpenOptions::new().write(true).open("/proc/self/fd/3")?;
    fd3.write_all(text.as_bytes())
}
