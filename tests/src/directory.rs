//! Directory servers for the Toolforge runtime environment's tests and benchmark: a real OpenLDAP
//! server (Debian's `slapd`, holding `tools.mytool`) and misbehaving servers, in containers on a
//! Docker network the test creates, reachable from the tool's container by name.

use crate::{docker, fixture};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const LDAP_IMAGE: &str = "toolforge-test/ldap";

/// The LDAP server image, built from the stack's run image with Debian's slapd.
fn ldap_image() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        docker(&[
            "build",
            "--quiet",
            "--tag",
            LDAP_IMAGE,
            &fixture("ldap-server").display().to_string(),
        ])
        .unwrap_or_else(|error| panic!("cannot build {LDAP_IMAGE}: {error}"));
    });
    LDAP_IMAGE
}

/// A Docker network with servers on it, reachable by name from the tool's container; all removed
/// when dropped.
pub struct Directory {
    pub network: String,
    containers: Vec<String>,
    volumes: Vec<String>,
}

impl Directory {
    /// An empty network named after `purpose` and this process.
    ///
    /// # Panics
    ///
    /// When Docker cannot create it.
    #[must_use]
    pub fn new(purpose: &str) -> Self {
        let network = format!("toolforge-test-{purpose}-{}", std::process::id());
        let _ = docker(&["network", "rm", &network]);
        docker(&["network", "create", &network]).expect("create the test network");
        Self {
            network,
            containers: Vec::new(),
            volumes: Vec::new(),
        }
    }

    /// Starts a container of the LDAP image known as `name` on the network.
    fn start(&mut self, name: &str, command: &[&str]) {
        self.start_with(name, &[], command);
    }

    fn start_with(&mut self, name: &str, docker_args: &[&str], command: &[&str]) {
        let container = format!("{}-{name}", self.network);
        let mut args = vec![
            "run",
            "--detach",
            "--name",
            &container,
            "--network",
            &self.network,
            "--network-alias",
            name,
        ];
        args.extend(docker_args);
        if let Some((entrypoint, _)) = command.split_first() {
            args.extend(["--entrypoint", entrypoint]);
        }
        args.push(ldap_image());
        args.extend(command.iter().skip(1));
        docker(&args).unwrap_or_else(|error| panic!("cannot start {name}: {error}"));
        self.containers.push(container);
    }

    /// slapd with the tool's account, once it answers.
    ///
    /// # Panics
    ///
    /// When it does not answer within 30s.
    pub fn slapd(&mut self, name: &str) {
        self.start(name, &[]);
        let container = self.containers.last().expect("just started").clone();
        let started = Instant::now();
        loop {
            let search = docker(&[
                "exec",
                &container,
                "ldapsearch",
                "-x",
                "-LLL",
                "-H",
                "ldap://127.0.0.1",
                "-b",
                "dc=wikimedia,dc=org",
                "(uidNumber=52503)",
                "uid",
            ]);
            match search {
                Ok(found) if found.contains("uid: tools.mytool") => return,
                _ if started.elapsed() > Duration::from_secs(30) => {
                    panic!(
                        "slapd did not answer: {search:?}\n{:?}",
                        docker(&["logs", &container])
                    );
                }
                _ => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// SSSD reading the slapd started as `ldap-ro.test`, once it resolves the tool; returns the
    /// Docker volume holding its pipes, for the tool's container to mount at `/var/lib/sss/pipes`
    /// as Toolforge mounts the host's.
    ///
    /// # Panics
    ///
    /// When it does not resolve the tool within 30s.
    #[must_use]
    pub fn sssd(&mut self) -> String {
        let volume = format!("{}-sss-pipes", self.network);
        let _ = docker(&["volume", "rm", "--force", &volume]);
        docker(&["volume", "create", &volume]).expect("create the pipes volume");
        self.volumes.push(volume.clone());
        self.start_with(
            "sssd",
            &["--volume", &format!("{volume}:/var/lib/sss/pipes")],
            &["sssd", "--interactive", "--logger=stderr"],
        );
        let container = self.containers.last().expect("just started").clone();
        let started = Instant::now();
        loop {
            match docker(&["exec", &container, "getent", "passwd", "52503"]) {
                Ok(entry) if entry.starts_with("tools.mytool:") => return volume,
                failed if started.elapsed() > Duration::from_secs(30) => {
                    panic!(
                        "sssd did not resolve the tool: {failed:?}\n{:?}",
                        docker(&["logs", &container])
                    );
                }
                _ => std::thread::sleep(Duration::from_millis(300)),
            }
        }
    }

    /// A server that accepts connections and never answers.
    pub fn hanging(&mut self, name: &str) {
        self.start(
            name,
            &["socat", "TCP-LISTEN:389,fork,reuseaddr", "SYSTEM:sleep 600"],
        );
    }

    /// A server that answers with something that is not LDAP.
    pub fn garbage(&mut self, name: &str) {
        self.start(
            name,
            &[
                "socat",
                "TCP-LISTEN:389,fork,reuseaddr",
                "SYSTEM:echo HTTP/1.1 400 Bad Request",
            ],
        );
    }

    /// A host that is up with nothing listening on the LDAP port.
    pub fn down(&mut self, name: &str) {
        self.start(name, &["sleep", "infinity"]);
    }
}

impl Drop for Directory {
    fn drop(&mut self) {
        for container in &self.containers {
            let _ = docker(&["rm", "--force", container]);
        }
        for volume in &self.volumes {
            let _ = docker(&["volume", "rm", "--force", volume]);
        }
        let _ = docker(&["network", "rm", &self.network]);
    }
}
