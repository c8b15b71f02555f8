//! What toolforge/toolforge's exec.d program adds to every process start. For each scenario, one
//! container runs, 20 times each: the exec.d program alone, `launcher true` (the launcher, every
//! exec.d program, then `true`), and `/bin/true` (the cost of measuring from bash). Prints the
//! medians as a table; asserts nothing.
//!
//! `cargo run --release -p toolforge-tests --bin start-cost [--runs N]` (after `cargo packaging builder`).

use std::path::Path;
use toolforge_tests::directory::Directory;
use toolforge_tests::{Image, Run, app_with_files, build};

const EXEC_D: &str = "/layers/toolforge_toolforge/environment/exec.d/toolforge-environment";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args
        .iter()
        .position(|arg| arg == "--runs")
        .and_then(|index| args.get(index + 1))
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(20);

    let app = app_with_files(&[("Procfile", b"web: exec sleep infinity\n")]);
    let image = Image(build(app.path(), "start-cost").expect_success().image.clone());
    let mut directory = Directory::new("start-cost");
    directory.slapd("ldap-ro.test");
    directory.hanging("hanging.test");
    let scratch = tempfile::tempdir().expect("temporary directory");
    let ldap_yaml = scratch.path().join("ldap.yaml");
    std::fs::write(&ldap_yaml, "servers:\n  - ldap-ro.test\n").expect("write");
    let hanging_yaml = scratch.path().join("hanging.yaml");
    std::fs::write(&hanging_yaml, "servers:\n  - hanging.test\n").expect("write");
    let data = scratch.path().join("mytool");
    std::fs::create_dir(&data).expect("mkdir");
    std::os::unix::fs::chown(&data, Some(52503), Some(52503)).expect("chown");

    let tool = || Run::toolforge(&image.0).network(&directory.network);
    let with_ldap = |yaml: &Path| {
        tool()
            .mount(yaml, "/etc/ldap.yaml", true)
            .mount(&data, "/data/project/mytool", false)
            .env("TOOL_DATA_DIR", "/data/project/mytool")
    };
    let scenarios = [
        ("uid with a passwd entry (the build's user)", tool().user(None)),
        ("uid 52503, no mounts (synthetic account)", tool()),
        ("uid 52503, LDAP reachable, NFS home", with_ldap(&ldap_yaml)),
        ("uid 52503, LDAP hanging (the timeout)", with_ldap(&hanging_yaml)),
    ];

    println!("Process start cost of toolforge/toolforge: median of {runs} starts in one container\n");
    println!("| scenario | exec.d program alone | `launcher true` | `/bin/true` (measuring floor) |");
    println!("|---|---|---|---|");
    for (name, run) in scenarios {
        let script = format!(
            "for i in $(seq {runs}); do \
             for what in exec launcher floor; do \
             case $what in exec) set -- {EXEC_D};; launcher) set -- /cnb/lifecycle/launcher true;; floor) set -- /bin/true;; esac; \
             start=$(date +%s%N); \"$@\" 3>/dev/null 2>/dev/null; end=$(date +%s%N); \
             echo \"$what $(( (end - start) / 1000 ))\"; done; done"
        );
        let (code, stdout, stderr) = run.entrypoint_command("bash", &["-c", &script]).output();
        assert_eq!(code, 0, "{stderr}");
        let median = |what: &str| {
            let mut micros: Vec<u64> = stdout
                .lines()
                .filter_map(|line| line.strip_prefix(what)?.trim().parse().ok())
                .collect();
            micros.sort_unstable();
            micros.get(micros.len() / 2).map_or_else(
                || "n/a".to_string(),
                |micros| {
                    format!(
                        "{:.1} ms",
                        std::time::Duration::from_micros(*micros).as_secs_f64() * 1000.0
                    )
                },
            )
        };
        println!(
            "| {name} | {} | {} | {} |",
            median("exec "),
            median("launcher "),
            median("floor ")
        );
    }
}
