//! toolforge/toolforge, end to end: images built by the real pack and lifecycle, run as Toolforge
//! runs tools (uid 52503 with no passwd entry, no HOME from the platform), against a real
//! OpenLDAP server (Debian's `slapd`) and misbehaving servers in containers on a Docker network
//! that each test creates, with TOOL_DATA_DIR and the LDAP configuration bind-mounted as
//! Toolforge mounts NFS and /etc/ldap.yaml.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use toolforge_tests::directory::Directory;
use toolforge_tests::{
    Image, Run, app_with_files, build, fixture, fixture_copy, mirrored_build, mirrored_build_into,
};

const TOOL_HOME: &str = "/data/project/mytool";

/// What identity.py prints for the tool, known by name, with its NFS directory as home.
const IDENTITY_ON_NFS: [&str; 5] = [
    "name=tools.mytool",
    "pw_dir=/data/project/mytool",
    "home=/data/project/mytool",
    "expanduser=/data/project/mytool",
    "replica=/data/project/mytool/replica.my.cnf exists=True",
];

/// The identity fixture (a Python tool using only the standard library), built once for all the
/// tests of this file, under a fixed name that the next run replaces. The last run's image and
/// caches are removed first: made by another builder, they are not this run's to reuse (the
/// exporter's layer reuse then failed with "invalid diffID").
fn identity_image() -> &'static str {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let image = "toolforge-test/toolforge-identity".to_string();
        toolforge_tests::remove_image(&image);
        let built = mirrored_build_into(&fixture("toolforge-identity"), &image, &[]).expect_success();
        built.assert_output_contains("Toolforge runtime environment");
        image
    })
}

/// The tool's NFS directory: owned by the tool, with the wiki replica credentials in it.
fn tool_data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("replica.my.cnf"), "[client]\nuser = s52503\n").expect("write");
    std::os::unix::fs::chown(dir.path(), Some(52503), Some(52503)).expect("chown to the tool");
    std::os::unix::fs::chown(dir.path().join("replica.my.cnf"), Some(52503), Some(52503))
        .expect("chown to the tool");
    dir
}

/// A configuration file as Toolforge mounts it (world-readable).
fn config_file(name: &str, contents: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (dir, path)
}

/// The lines the exec.d program printed.
fn notes(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| line.starts_with("toolforge:"))
        .collect()
}

/// Runs `command` through the launcher; asserts it started and exited 0; returns stdout's lines
/// and the exec.d program's notes.
fn job(run: Run, command: &str) -> (Vec<String>, Vec<String>) {
    // The launcher runs its arguments as one bash script (joined with spaces), as Toolforge jobs start.
    let (code, stdout, stderr) = run.launcher(&[command]).output();
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        stdout.lines().map(ToString::to_string).collect(),
        notes(&stderr).into_iter().map(ToString::to_string).collect(),
    )
}

#[test]
fn the_tools_account_comes_from_ldap_and_home_is_its_nfs_directory() {
    let image = identity_image();
    let mut directory = Directory::new("ldap");
    directory.slapd("ldap-ro.test");
    let data = tool_data_dir();
    let (_yaml_dir, yaml) = config_file("ldap.yaml", "servers:\n  - ldap-ro.test\n");
    let toolforge = || {
        Run::toolforge(image)
            .network(&directory.network)
            .env("TOOL_DATA_DIR", TOOL_HOME)
            .mount(data.path(), TOOL_HOME, false)
            .mount(&yaml, "/etc/ldap.yaml", true)
    };

    let (lines, notes) = job(
        toolforge(),
        "id; whoami; id -Gn tools.mytool; getent group tools.mytool; python identity.py",
    );
    assert_eq!(
        lines[..4],
        [
            "uid=52503(tools.mytool) gid=52503(tools.mytool) groups=52503(tools.mytool)",
            "tools.mytool",
            "tools.mytool project-tools",
            "tools.mytool:x:52503:alice,bob",
        ]
    );
    assert_eq!(lines[4..], IDENTITY_ON_NFS);
    assert!(notes.is_empty(), "{notes:?}");

    // The web service, started by process name, sees the same.
    let web = toolforge().process("web").start();
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("user=tools.mytool\n"), "{body}");
    assert!(body.contains("home=/data/project/mytool\n"), "{body}");
    assert!(!web.logs().contains("toolforge:"), "{}", web.logs());
    drop(web);

    // nslcd's /etc/ldap.conf, when it is the only configuration mounted.
    let (_conf_dir, conf) = config_file(
        "ldap.conf",
        "# nslcd\nuri ldap://ldap-ro.test\nbase dc=wikimedia,dc=org\n",
    );
    let (lines, notes) = job(
        Run::toolforge(image)
            .network(&directory.network)
            .mount(&conf, "/etc/ldap.conf", true),
        "whoami; echo $HOME",
    );
    // Its LDAP home is not mounted here, so HOME is private.
    assert_eq!(lines, ["tools.mytool", "/tmp/home-52503"]);
    assert!(notes.is_empty(), "{notes:?}");
}

#[test]
fn with_sssd_pipes_mounted_the_account_comes_from_sssd() {
    let image = identity_image();
    let mut directory = Directory::new("sssd");
    directory.slapd("ldap-ro.test");
    let pipes = directory.sssd();
    let data = tool_data_dir();
    let (lines, notes) = job(
        Run::toolforge(image)
            .env("TOOL_DATA_DIR", TOOL_HOME)
            .mount(data.path(), TOOL_HOME, false)
            .mount(Path::new(&pipes), "/var/lib/sss/pipes", true),
        "id; id -Gn tools.mytool; echo \"[$LD_PRELOAD] $USER\"; python identity.py",
    );
    // No LDAP configuration is mounted and libnss-wrapper is not preloaded: SSSD answered.
    assert_eq!(
        lines[..3],
        [
            "uid=52503(tools.mytool) gid=52503(tools.mytool) groups=52503(tools.mytool)",
            "tools.mytool project-tools",
            "[] tools.mytool",
        ]
    );
    assert_eq!(lines[3..], IDENTITY_ON_NFS);
    assert!(notes.is_empty(), "{notes:?}");
}

#[test]
fn without_mounts_the_tool_starts_and_serves_as_a_synthetic_account() {
    let image = identity_image();
    // No PORT from the platform: the image's default, 8000.
    let web = Run::toolforge(image)
        .without_env("PORT")
        .process("web")
        .read_only()
        .start();
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        "user=uid52503\nuid=52503\nhome=/tmp/home-52503\nport=8000\n"
    );
    assert!(!web.logs().contains("toolforge:"), "{}", web.logs());
    drop(web);

    let (lines, notes) = job(
        Run::toolforge(image).read_only(),
        "whoami; echo \"$USER $HOME\"; python identity.py",
    );
    assert_eq!(
        lines,
        [
            "uid52503",
            "uid52503 /tmp/home-52503",
            "name=uid52503",
            "pw_dir=/tmp/home-52503",
            "home=/tmp/home-52503",
            "expanduser=/tmp/home-52503",
            "replica=/tmp/home-52503/replica.my.cnf exists=False",
        ]
    );
    assert!(notes.is_empty(), "{notes:?}");

    // A PORT the platform sets wins.
    let (lines, _) = job(Run::toolforge(image).env("PORT", "9000"), "echo $PORT");
    assert_eq!(lines, ["9000"]);
}

#[test]
fn the_builds_own_user_and_root_keep_their_accounts() {
    let image = identity_image();
    let command = "whoami; echo \"$HOME [$LD_PRELOAD]\"";
    let (lines, notes) = job(Run::toolforge(image).user(None), command);
    assert_eq!(lines, ["toolforge", "/home/toolforge []"]);
    assert!(notes.is_empty(), "{notes:?}");
    let (lines, notes) = job(Run::toolforge(image).user(Some("0:0")), command);
    assert_eq!(lines, ["root", "/root []"]);
    assert!(notes.is_empty(), "{notes:?}");
}

/// Whether and how the tool's NFS directory is there.
enum Nfs {
    Unset,
    /// TOOL_DATA_DIR is set, the directory is not mounted.
    NotMounted,
    Writable,
    ReadOnly,
}

/// One fault: the LDAP configuration and the tool's directory, and what the process must see.
struct Fault {
    what: &'static str,
    ldap_yaml: String,
    user: &'static str,
    nfs: Nfs,
    whoami: &'static str,
    home: &'static str,
    /// The start of the one line the exec.d program prints.
    note: &'static str,
}

impl Fault {
    /// Runs the tool through the fault; asserts it starts with the account and the one line.
    fn check(&self, image: &str, directory: &Directory, data: &Path) {
        let (_yaml_dir, yaml) = config_file("ldap.yaml", &self.ldap_yaml);
        let run = Run::toolforge(image)
            .user(Some(self.user))
            .network(&directory.network)
            .mount(&yaml, "/etc/ldap.yaml", true);
        let run = match self.nfs {
            Nfs::Unset => run,
            Nfs::NotMounted => run.env("TOOL_DATA_DIR", TOOL_HOME),
            Nfs::Writable => run.env("TOOL_DATA_DIR", TOOL_HOME).mount(data, TOOL_HOME, false),
            Nfs::ReadOnly => run.env("TOOL_DATA_DIR", TOOL_HOME).mount(data, TOOL_HOME, true),
        };
        let started = Instant::now();
        let (lines, notes) = job(
            run,
            "whoami; echo $HOME; python -c 'import os, pwd; pwd.getpwuid(os.getuid())'",
        );
        let elapsed = started.elapsed();
        assert_eq!(lines, [self.whoami, self.home], "{}", self.what);
        assert_eq!(notes.len(), 1, "{}: {notes:?}", self.what);
        assert!(notes[0].starts_with(self.note), "{}: {notes:?}", self.what);
        // LDAP's timeout is what bounds a hanging server; the rest is Docker's start.
        assert!(elapsed < Duration::from_secs(15), "{}: {elapsed:?}", self.what);
    }
}

fn servers(name: &str) -> String {
    format!("servers:\n  - {name}\n")
}

#[test]
fn faults_fall_back_to_a_synthetic_account_with_one_line() {
    let image = identity_image();
    let mut directory = Directory::new("faults");
    directory.slapd("ldap-ro.test");
    directory.hanging("hanging.test");
    directory.garbage("garbage.test");
    directory.down("down.test");
    let data = tool_data_dir();
    let tool = "52503:52503";
    let faults = [
        Fault {
            what: "LDAP down",
            ldap_yaml: servers("down.test"),
            user: tool,
            nfs: Nfs::Writable,
            whoami: "tools.mytool",
            home: TOOL_HOME,
            note: "toolforge: using the synthetic user tools.mytool: LDAP lookup failed \
                   (ldap://down.test:389: I/O error: Connection refused (os error 111))",
        },
        Fault {
            what: "LDAP hanging",
            ldap_yaml: servers("hanging.test"),
            user: tool,
            nfs: Nfs::Writable,
            whoami: "tools.mytool",
            home: TOOL_HOME,
            note: "toolforge: using the synthetic user tools.mytool: LDAP lookup failed \
                   (ldap://hanging.test:389: no answer within 2.0s)",
        },
        Fault {
            what: "LDAP garbage",
            ldap_yaml: servers("garbage.test"),
            user: tool,
            nfs: Nfs::Writable,
            whoami: "tools.mytool",
            home: TOOL_HOME,
            note: "toolforge: using the synthetic user tools.mytool: LDAP lookup failed (ldap://garbage.test:389:",
        },
        Fault {
            what: "malformed ldap.yaml",
            ldap_yaml: "servers: [ldap-ro.test\n".to_string(),
            user: tool,
            nfs: Nfs::Unset,
            whoami: "uid52503",
            home: "/tmp/home-52503",
            note: "toolforge: using the synthetic user uid52503: /etc/ldap.yaml is not usable: did not find \
                   expected ',' or ']'",
        },
        Fault {
            what: "uid unknown to LDAP",
            ldap_yaml: servers("ldap-ro.test"),
            user: "52504:52504",
            nfs: Nfs::Unset,
            whoami: "uid52504",
            home: "/tmp/home-52504",
            note: "toolforge: using the synthetic user uid52504: LDAP has no account with uid 52504",
        },
        Fault {
            what: "TOOL_DATA_DIR not mounted",
            ldap_yaml: servers("ldap-ro.test"),
            user: tool,
            nfs: Nfs::NotMounted,
            whoami: "tools.mytool",
            home: "/tmp/home-52503",
            note: "toolforge: TOOL_DATA_DIR /data/project/mytool is not a mounted directory, so HOME is \
                   /tmp/home-52503",
        },
        Fault {
            what: "TOOL_DATA_DIR read-only",
            ldap_yaml: servers("ldap-ro.test"),
            user: tool,
            nfs: Nfs::ReadOnly,
            whoami: "tools.mytool",
            home: "/tmp/home-52503",
            note: "toolforge: TOOL_DATA_DIR /data/project/mytool is not writable, so HOME is /tmp/home-52503",
        },
    ];
    for fault in &faults {
        fault.check(image, &directory, data.path());
    }
}

#[test]
fn keep_home_leaves_home_alone_and_a_bad_table_names_its_line() {
    let app = app_with_files(&[
        ("Procfile", b"web: exec sleep infinity\n"),
        (
            "project.toml",
            b"[_]\nschema-version = \"0.2\"\n\n[org.toolforge.env]\nkeep-home = true\n",
        ),
    ]);
    let built = build(app.path(), "toolforge-keep-home").expect_success();
    built.assert_output_contains("HOME is kept as the image has it");
    // A web process that never listens is stopped at the start check's deadline, without a warning.
    built.assert_output_contains("Start check: web process still running after 5.");
    assert!(!built.output.contains("! WARNING"), "{}", built.output);
    let image = Image(built.image.clone());
    let (lines, _) = job(Run::toolforge(&image.0), "echo $HOME; whoami");
    // Docker's HOME for a uid without an account; the account is still served.
    assert_eq!(lines, ["/", "uid52503"]);

    let app = app_with_files(&[
        ("Procfile", b"web: exec sleep infinity\n"),
        ("project.toml", b"[org.toolforge.env]\nkeep-home = \"yes\"\n"),
    ]);
    let failed = build(app.path(), "toolforge-bad-env").expect_failure();
    failed.assert_one_error(&[
        "! ERROR: Invalid project.toml (project.toml, line 2)",
        "`org.toolforge.env.keep-home`: invalid type: string \"yes\", expected",
        "! To fix: `[org.toolforge.env]` takes one setting",
    ]);
    drop(Image(failed.image.clone()));
}

/// A web process that dies at start: the build succeeds, with a warning that shows its last
/// lines; `start-check = false` turns the check off.
#[test]
fn a_web_process_that_dies_at_start_gets_a_warning_unless_the_check_is_off() {
    let app_py: &[u8] = b"import sys\nprint('cannot start: missing setting', file=sys.stderr)\nsys.exit(1)\n";
    let app = app_with_files(&[
        ("requirements.txt", b""),
        ("Procfile", b"web: python app.py\n"),
        ("app.py", app_py),
    ]);
    let built = mirrored_build(app.path(), "toolforge-start-check").expect_success();
    drop(Image(built.image.clone()));
    for line in [
        "- Start check: the web process exited at start",
        "! WARNING: The web process exited ",
        "after it started (exit status: 1).",
        "cannot start: missing setting",
        "To turn this check off, set `start-check = false` under `[org.toolforge.build]` in project.toml.",
    ] {
        built.assert_output_contains(line);
    }

    let app = app_with_files(&[
        ("requirements.txt", b""),
        ("Procfile", b"web: python app.py\n"),
        ("app.py", app_py),
        ("project.toml", b"[org.toolforge.build]\nstart-check = false\n"),
    ]);
    let built = mirrored_build(app.path(), "toolforge-start-check-off").expect_success();
    drop(Image(built.image.clone()));
    built.assert_output_contains(
        "- Start check: off ([org.toolforge.build] start-check = false in project.toml)",
    );
    assert!(
        !built.output.contains("The web process exited"),
        "{}",
        built.output
    );
}

/// The lines of `output` that contain `text`, for a log whose lines pack may prefix.
fn lines_with<'a>(output: &'a str, text: &str) -> Vec<&'a str> {
    output.lines().filter(|line| line.contains(text)).collect()
}

#[test]
fn the_image_size_by_layer_and_a_warning_over_the_budget() {
    let built = build(&fixture("procfile-web"), "toolforge-image-size").expect_success();
    drop(Image(built.image.clone()));
    built.assert_output_contains(" uncompressed (budget 1 GiB)");
    assert_eq!(
        lines_with(&built.output, "- Image size: ").len(),
        1,
        "{}",
        built.output
    );
    for part in [
        "  - run image: ",
        "  - toolforge/procfile processes: ",
        "  - toolforge/toolforge environment: ",
        "  - app (/workspace): ",
        "  - lifecycle launcher: ",
    ] {
        let lines = lines_with(&built.output, part);
        assert_eq!(lines.len(), 1, "{part:?} in:\n{}", built.output);
        assert!(
            ["B", "KiB", "MiB"].iter().any(|unit| lines[0].ends_with(unit)),
            "{part:?} has no size in:\n{}",
            built.output
        );
    }
    assert!(
        !built.output.contains("size unknown"),
        "the stack records the run image's size:\n{}",
        built.output
    );
    assert!(!built.output.contains("WARNING"), "{}", built.output);

    // Over its budget, the build goes on with the three largest layers named.
    let app = fixture_copy("procfile-web");
    std::fs::write(
        app.path().join("project.toml"),
        "[org.toolforge.build]\nimage-size-budget = \"1 MB\"\n",
    )
    .expect("write project.toml");
    let over = build(app.path(), "toolforge-image-size-budget").expect_success();
    drop(Image(over.image.clone()));
    over.assert_output_contains(" uncompressed (budget 1 MB)");
    over.assert_output_contains(", more than its size budget of 1 MB (set in project.toml).");
    let start = over
        .output
        .find("Its largest layers:")
        .unwrap_or_else(|| panic!("no largest layers in:\n{}", over.output));
    let largest: Vec<&str> = over.output[start..].lines().skip(1).take(4).collect();
    assert!(largest[0].contains("!          - run image: "), "{}", over.output);
    assert!(largest[1].contains("!          - "), "{}", over.output);
    assert!(largest[2].contains("!          - "), "{}", over.output);
    assert!(
        largest[3].contains("Toolforge may refuse an image"),
        "{}",
        over.output
    );
    over.assert_output_contains("image-size-budget = \"2 GiB\"");

    let app = app_with_files(&[
        ("Procfile", b"web: exec sleep infinity\n"),
        (
            "project.toml",
            b"[org.toolforge.build]\nimage-size-budget = \"1.5 gigabytes\"\n",
        ),
    ]);
    let failed = build(app.path(), "toolforge-bad-budget").expect_failure();
    failed.assert_one_error(&[
        "! ERROR: Invalid project.toml (project.toml, line 2)",
        "`1.5 gigabytes` is not a",
        "`image-size-budget = \"1.5 GiB\"`",
    ]);
    drop(Image(failed.image.clone()));
}
