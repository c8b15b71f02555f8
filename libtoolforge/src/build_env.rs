//! The environment a buildpack runs its build tools in (pip, npm, composer…).
//!
//! One [`BuildEnv`] per build: it starts from the buildpack's own environment (which holds what
//! earlier buildpacks' layers set), adds the system CA store for every ecosystem's tools and the
//! buildpack's own defaults, then the user's build environment (`pack build --env`,
//! project.toml's `[[io.buildpacks.build.env]]`), which wins over both; then each layer's build
//! environment as the buildpack adds layers, and the directories it puts first on PATH.
//! [`BuildEnv::command`] runs a tool with exactly that, in the app's directory, for
//! [`crate::command::run_streamed`] or [`crate::command::output`].

use libcnb::Env;
use libcnb::layer_env::{LayerEnv, Scope};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's bundle of the system's certificate authorities, including any the stack added (a
/// TLS-inspecting proxy's CA). Java's tools read a trust store instead, not a PEM bundle: a JVM
/// buildpack will add one made from this file (and `JAVA_TOOL_OPTIONS` pointing at it) here.
pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The variables that make build tools of any ecosystem trust [`SYSTEM_CA_BUNDLE`] rather than
/// a list of their own: OpenSSL and most tools built on it, Python's requests, curl, git, and
/// Node.js (which adds these to its own). A build step of one language often runs another's
/// tools (node-gyp runs Python, Composer scripts run git), so every buildpack sets them all.
pub const CA_BUNDLE_VARIABLES: [&str; 5] = [
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
    "NODE_EXTRA_CA_CERTS",
];

/// [`SYSTEM_CA_BUNDLE`], when this system has it.
#[must_use]
pub fn system_ca_bundle() -> Option<&'static Path> {
    Some(Path::new(SYSTEM_CA_BUNDLE)).filter(|bundle| bundle.is_file())
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct BuildEnv {
    /// The buildpack process's environment: the lifecycle's, with earlier buildpacks' layers.
    inherited: Env,
    /// The CA store and the buildpack's defaults, in the order set.
    defaults: Vec<(OsString, OsString)>,
    /// The user's build environment.
    user: Env,
    /// Each layer's environment, applied with [`Scope::Build`] in the order added.
    layers: Vec<LayerEnv>,
    /// First on PATH, the last one prepended first.
    path: Vec<PathBuf>,
    app_dir: PathBuf,
}

impl BuildEnv {
    /// The environment for a build of the app in `app_dir`; `user` is the build's platform
    /// environment (`context.platform.env()`).
    #[must_use]
    pub fn new(user: &Env, app_dir: &Path) -> Self {
        Self::with_inherited(Env::from_current(), user, app_dir, system_ca_bundle())
    }

    /// As [`Self::new`], with the inherited environment and the CA bundle given (for tests).
    #[must_use]
    pub fn with_inherited(inherited: Env, user: &Env, app_dir: &Path, ca_bundle: Option<&Path>) -> Self {
        let mut env = Self {
            inherited,
            defaults: Vec::new(),
            user: user.clone(),
            layers: Vec::new(),
            path: Vec::new(),
            app_dir: app_dir.to_path_buf(),
        };
        if let Some(bundle) = ca_bundle {
            for name in CA_BUNDLE_VARIABLES {
                env.set_default(name, bundle);
            }
        }
        env
    }

    /// A variable the buildpack's tools need (`PIP_NO_INPUT=1`), unless the user's build
    /// environment sets it otherwise.
    pub fn set_default(&mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        self.defaults
            .push((name.as_ref().to_os_string(), value.as_ref().to_os_string()));
        self
    }

    /// A layer's environment, as later buildpacks will see it at build time.
    pub fn add_layer_env(&mut self, layer_env: &LayerEnv) -> &mut Self {
        self.layers.push(layer_env.clone());
        self
    }

    /// Puts `dir` first on PATH, before the directories prepended earlier.
    pub fn prepend_path(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.path.insert(0, dir.into());
        self
    }

    /// The whole environment, as a command gets it.
    #[must_use]
    pub fn env(&self) -> Env {
        let mut env = self.inherited.clone();
        for (name, value) in &self.defaults {
            env.insert(name, value);
        }
        for (name, value) in &self.user {
            env.insert(name, value);
        }
        for layer_env in &self.layers {
            env = layer_env.apply(Scope::Build, &env);
        }
        if !self.path.is_empty() {
            let current = env.get("PATH").cloned().unwrap_or_default();
            let dirs = self.path.iter().cloned().chain(std::env::split_paths(&current));
            if let Ok(path) = std::env::join_paths(dirs) {
                env.insert("PATH", path);
            }
        }
        env
    }

    /// `program` with this environment (and nothing else), in the app's directory.
    #[must_use]
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command.current_dir(&self.app_dir).env_clear().envs(&self.env());
        command
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libcnb::layer_env::ModificationBehavior;

    fn env_of(pairs: &[(&str, &str)]) -> Env {
        let mut env = Env::new();
        for (name, value) in pairs {
            env.insert(name, value);
        }
        env
    }

    fn build_env(user: &[(&str, &str)]) -> BuildEnv {
        BuildEnv::with_inherited(
            env_of(&[
                ("PATH", "/usr/bin:/bin"),
                ("HOME", "/home/cnb"),
                ("SSL_CERT_FILE", "/old"),
            ]),
            &env_of(user),
            Path::new("/workspace"),
            Some(Path::new(SYSTEM_CA_BUNDLE)),
        )
    }

    fn get(env: &BuildEnv, name: &str) -> Option<String> {
        env.env().get_string_lossy(name)
    }

    #[test]
    fn ca_store_for_every_tool_over_the_inherited_environment() {
        let env = build_env(&[]);
        for name in CA_BUNDLE_VARIABLES {
            assert_eq!(get(&env, name).as_deref(), Some(SYSTEM_CA_BUNDLE), "{name}");
        }
        assert_eq!(get(&env, "HOME").as_deref(), Some("/home/cnb"));
        let without = BuildEnv::with_inherited(Env::new(), &Env::new(), Path::new("/w"), None);
        assert_eq!(get(&without, "SSL_CERT_FILE"), None);
    }

    #[test]
    fn the_user_wins_over_defaults_and_layers_apply_after() {
        let mut env = build_env(&[
            ("PIP_NO_INPUT", "0"),
            ("GIT_SSL_CAINFO", "/mine.pem"),
            ("NPM_CONFIG_FUND", "true"),
        ]);
        env.set_default("PIP_NO_INPUT", "1")
            .set_default("UV_NO_PROGRESS", "1");
        env.add_layer_env(
            &LayerEnv::new()
                .chainable_insert(
                    Scope::All,
                    ModificationBehavior::Default,
                    "NPM_CONFIG_FUND",
                    "false",
                )
                .chainable_insert(
                    Scope::All,
                    ModificationBehavior::Override,
                    "VIRTUAL_ENV",
                    "/layers/venv",
                )
                .chainable_insert(
                    Scope::Launch,
                    ModificationBehavior::Override,
                    "NODE_ENV",
                    "production",
                ),
        );
        assert_eq!(get(&env, "PIP_NO_INPUT").as_deref(), Some("0"));
        assert_eq!(get(&env, "UV_NO_PROGRESS").as_deref(), Some("1"));
        assert_eq!(get(&env, "GIT_SSL_CAINFO").as_deref(), Some("/mine.pem"));
        // A layer's default does not replace the user's value; its override does.
        assert_eq!(get(&env, "NPM_CONFIG_FUND").as_deref(), Some("true"));
        assert_eq!(get(&env, "VIRTUAL_ENV").as_deref(), Some("/layers/venv"));
        assert_eq!(
            get(&env, "NODE_ENV"),
            None,
            "launch-only variables stay out of the build"
        );
    }

    #[test]
    fn path_prepends_come_first_latest_first() {
        let mut env = build_env(&[]);
        env.prepend_path("/layers/python/bin")
            .prepend_path("/layers/venv/bin");
        assert_eq!(
            get(&env, "PATH").as_deref(),
            Some("/layers/venv/bin:/layers/python/bin:/usr/bin:/bin")
        );
        // The user's PATH replaces the inherited one; the prepends stay first.
        let mut env = build_env(&[("PATH", "/opt/mine")]);
        env.prepend_path("/layers/node/bin");
        assert_eq!(get(&env, "PATH").as_deref(), Some("/layers/node/bin:/opt/mine"));
    }

    #[test]
    fn commands_get_exactly_this_environment_in_the_app() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = BuildEnv::with_inherited(
            env_of(&[("PATH", "/usr/bin:/bin")]),
            &env_of(&[("TOOL_SETTING", "x")]),
            dir.path(),
            None,
        );
        env.set_default("ANOTHER", "y");
        let output = crate::command::output(env.command("sh").args(["-c", "pwd; env | sort"])).unwrap();
        let mut lines = output.lines();
        assert_eq!(
            Path::new(lines.next().unwrap()).canonicalize().unwrap(),
            dir.path().canonicalize().unwrap()
        );
        let vars: Vec<&str> = lines
            .filter(|line| {
                !line.starts_with("PWD=") && !line.starts_with("SHLVL=") && !line.starts_with("_=")
            })
            .collect();
        assert_eq!(vars, ["ANOTHER=y", "PATH=/usr/bin:/bin", "TOOL_SETTING=x"]);
    }
}
