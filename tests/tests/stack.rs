//! The Toolforge stack images: labels, users, environment, and the build/run pairing.

use packaging::stack::read_config;
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use toolforge_tests::{docker, image_label};

/// For every `-dev` package installed in the build image, the shared libraries its `.so` links
/// resolve to: what a program linked in the build image needs at run time. A symlink gives a
/// path; a linker script (`libncurses.so` is `INPUT(libncurses.so.6 -ltinfo)`) gives library
/// names (`name:libncurses.so.6`), which the dynamic loader finds through its search path.
const LIBRARIES_OF_DEV_PACKAGES: &str = r#"
dpkg-query -W -f '${Package}\n' | grep -- '-dev$' | while read -r package; do
  dpkg -L "$package" | grep -E '\.so$' | while read -r link; do
    target=$(readlink -f "$link")
    if head -c 64 "$target" | grep -qE '^(/\* GNU ld script|INPUT|GROUP)'; then
      for name in $(grep -oE 'lib[A-Za-z0-9_+.-]+\.so\.[0-9]+' "$target"); do
        echo "$package name:$name"
      done
    elif [ -L "$link" ]; then
      echo "$package $target"
    fi
  done
done
"#;

/// Runtimes of -dev packages that are deliberately not in the run image: the sanitizers'
/// runtimes come with gcc (libgcc-14-dev) and only serve instrumented debug builds, which are
/// never deployed as tools.
const NOT_NEEDED_AT_RUN_TIME: [&str; 5] = [
    "libasan.so",
    "libhwasan.so",
    "liblsan.so",
    "libtsan.so",
    "libubsan.so",
];

fn run_in(image: &str, user: Option<&str>, script: &str, stdin: &str) -> String {
    let mut command = Command::new("docker");
    command.args(["run", "--rm", "--interactive"]);
    if let Some(user) = user {
        command.args(["--user", user]);
    }
    let mut child = command
        .args([image, "bash", "-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("docker can be started");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), stdin.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("docker runs");
    assert!(
        output.status.success(),
        "{script} failed in {image}:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn every_dev_package_has_its_runtime_library_in_the_run_image() {
    let config = read_config().expect("stacks/stack.toml");
    let pairs = run_in(&config.images.build, None, LIBRARIES_OF_DEV_PACKAGES, "");
    let pairs: BTreeSet<(String, String)> = pairs
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(package, library)| (package.to_string(), library.to_string()))
        .filter(|(_, library)| !NOT_NEEDED_AT_RUN_TIME.iter().any(|name| library.contains(name)))
        .collect();
    assert!(
        pairs.iter().any(|(package, _)| package == "libmariadb-dev"),
        "the check found no libraries at all: {pairs:?}"
    );

    let libraries: BTreeSet<&str> = pairs.iter().map(|(_, library)| library.as_str()).collect();
    let missing = run_in(
        &config.images.run,
        None,
        r#"libraries=$(ldconfig -p)
           while read -r library; do
             case "$library" in
               name:*) grep -qF "	${library#name:} (" <<<"$libraries" || echo "$library" ;;
               *) [ -e "$library" ] || echo "$library" ;;
             esac
           done"#,
        &(libraries.iter().copied().collect::<Vec<_>>().join("\n") + "\n"),
    );
    let missing: Vec<String> = missing
        .lines()
        .map(|library| {
            let packages: Vec<&str> = pairs
                .iter()
                .filter(|(_, l)| l == library)
                .map(|(package, _)| package.as_str())
                .collect();
            format!("{library} (from {})", packages.join(", "))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "the run image lacks the runtime libraries of these -dev packages of the build image; \
         add their packages to stacks/packages/run.txt:\n{}",
        missing.join("\n")
    );
}

#[test]
fn images_carry_the_platform_labels() {
    let config = read_config().expect("stacks/stack.toml");
    for image in [&config.images.run, &config.images.build] {
        assert_eq!(image_label(image, "io.buildpacks.base.id"), config.id);
        assert_eq!(image_label(image, "io.buildpacks.base.distro.name"), "debian");
        assert_eq!(image_label(image, "io.buildpacks.base.distro.version"), "13");
        assert_eq!(
            image_label(image, "io.buildpacks.base.maintainer"),
            config.maintainer
        );
        assert_eq!(image_label(image, "io.buildpacks.base.homepage"), config.homepage);
        assert!(
            image_label(image, "io.buildpacks.base.released").starts_with("20"),
            "{image} has no release date"
        );
    }
    assert_eq!(image_label(&config.images.run, "io.buildpacks.rebasable"), "true");
}

#[test]
fn build_and_run_users_differ_and_the_build_image_names_its_user() {
    let config = read_config().expect("stacks/stack.toml");
    let env = docker(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config.Env}}",
        &config.images.build,
    ])
    .expect("build image");
    assert!(
        env.contains(&format!("\"CNB_USER_ID={}\"", config.users.build.uid)),
        "{env}"
    );
    assert!(
        env.contains(&format!("\"CNB_GROUP_ID={}\"", config.users.build.gid)),
        "{env}"
    );
    assert_ne!(config.users.build.uid, config.users.run.uid);
    let user =
        |image: &str| docker(&["image", "inspect", "--format", "{{.Config.User}}", image]).expect("image");
    assert_eq!(
        user(&config.images.run).trim(),
        format!("{}:{}", config.users.run.uid, config.users.run.gid)
    );
    assert_eq!(
        user(&config.images.build).trim(),
        format!("{}:{}", config.users.build.uid, config.users.build.gid)
    );
}

#[test]
fn run_image_works_for_an_unknown_uid() {
    let config = read_config().expect("stacks/stack.toml");
    let output = run_in(
        &config.images.run,
        Some(toolforge_tests::TOOL_USER),
        "echo \"PATH=$PATH\"; locale -a; id -u; command -v bash mariadb psql openssl curl; \
         test -x /bin/bash && echo /bin/bash is there; \
         perl -MIO::Socket::INET -e 'print qq(perl ok\\n)'",
        "",
    );
    assert!(
        output.contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        "{output}"
    );
    assert!(output.lines().any(|line| line == "C.utf8"), "{output}");
    assert!(output.lines().any(|line| line == "en_US.utf8"), "{output}");
    for expected in [
        "52503",
        "/bin/bash is there",
        "/usr/bin/bash",
        "/usr/bin/mariadb",
        "/usr/bin/psql",
        "perl ok",
    ] {
        assert!(
            output.lines().any(|line| line == expected),
            "missing {expected:?} in:\n{output}"
        );
    }
}

#[test]
fn extra_certificate_authorities_are_trusted_in_both_images() {
    // The test set-up passes the host's /usr/local/share/ca-certificates (see README.md).
    let host_dir = std::path::Path::new("/usr/local/share/ca-certificates");
    let Ok(entries) = std::fs::read_dir(host_dir) else {
        return;
    };
    let names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "crt"))
        .filter_map(|path| Some(path.file_name()?.to_string_lossy().into_owned()))
        .collect();
    let config = read_config().expect("stacks/stack.toml");
    for image in [&config.images.run, &config.images.build] {
        let listing = run_in(
            image,
            None,
            "ls /usr/local/share/ca-certificates/toolforge/; ls /etc/ssl/certs/",
            "",
        );
        for name in &names {
            assert!(
                listing.lines().any(|line| line == name),
                "{image} lacks {name}:\n{listing}"
            );
            let pem = name.replace(".crt", ".pem");
            assert!(
                listing.lines().any(|line| line == pem),
                "{image} does not trust {name}"
            );
        }
    }
}

/// Java's trust store (`/etc/ssl/certs/java/cacerts`, where Debian's JDKs look) holds every
/// certificate of the system store, each marked trusted for the JDK, and any uid reads it.
#[test]
fn javas_trust_store_is_the_system_store_for_every_uid() {
    let config = read_config().expect("stacks/stack.toml");
    let count = r#"grep -c "BEGIN CERTIFICATE" /etc/ssl/certs/ca-certificates.crt
        store=$(openssl pkcs12 -in /etc/ssl/certs/java/cacerts -nokeys -passin pass:)
        echo "$store" | grep -c "BEGIN CERTIFICATE"
        echo "$store" | grep -c "Trusted key usage""#;
    for image in [&config.images.run, &config.images.build] {
        let counts = run_in(image, Some("52503:52503"), count, "");
        let counts: Vec<u32> = counts
            .lines()
            .filter_map(|line| line.trim().parse().ok())
            .collect();
        assert_eq!(counts.len(), 3, "{image}: {counts:?}");
        assert!(counts[0] > 100, "{image}: {counts:?}");
        assert!(
            counts.iter().all(|count| *count == counts[0]),
            "{image}: {counts:?}"
        );
    }
}

#[test]
fn build_image_keeps_the_run_image_package_list() {
    let config = read_config().expect("stacks/stack.toml");
    let status = run_in(
        &config.images.build,
        None,
        "grep -c '^Package: ' /usr/local/lib/toolforge-stack/run-image/dpkg-status; \
         grep -qx 'Package: gcc' /usr/local/lib/toolforge-stack/run-image/dpkg-status && echo has-gcc || echo no-gcc",
        "",
    );
    let mut lines = status.lines();
    let count: usize = lines
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a package count");
    assert!(count > 100, "{status}");
    assert_eq!(
        lines.next(),
        Some("no-gcc"),
        "the run image's package list includes build packages"
    );
}

#[test]
fn accounts_resolve_through_files_then_sssd_and_the_build_image_has_libnss_wrapper() {
    let config = read_config().expect("stacks/stack.toml");
    // Without SSSD's pipes mounted, sss answers "unavailable" at once and files decide.
    let output = run_in(
        &config.images.run,
        Some(toolforge_tests::TOOL_USER),
        "grep -E '^(passwd|group):' /etc/nsswitch.conf; \
         ls /usr/lib/x86_64-linux-gnu/libnss_sss.so.2; \
         getent passwd root; getent passwd 52503 || echo \"no account: $?\"",
        "",
    );
    assert_eq!(
        output.lines().collect::<Vec<_>>(),
        [
            "passwd: files sss",
            "group: files sss",
            "/usr/lib/x86_64-linux-gnu/libnss_sss.so.2",
            "root:x:0:0:root:/root:/bin/bash",
            "no account: 2",
        ],
        "{output}"
    );
    let output = run_in(
        &config.images.build,
        None,
        "ls /usr/lib/x86_64-linux-gnu/libnss_wrapper.so",
        "",
    );
    assert_eq!(output.trim(), "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so");
}
