mod config;
mod errors;
mod layers;
mod node_version;
mod package_json;
mod package_manager;

use crate::errors::{NodejsBuildpackError, Step, error_message};
use crate::layers::node_modules::{NodeModulesLayerKey, file_sha256};
use crate::node_version::Request;
use crate::package_json::{PACKAGE_JSON, PackageJson, line_of};
use crate::package_manager::{Choice, Manager};
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::data::launch::{LaunchBuilder, ProcessBuilder};
use libcnb::data::process_type;
use libcnb::detect::{DetectContext, DetectResult};
use libcnb::generic::GenericPlatform;
use libcnb::layer_env::Scope;
use libcnb::{Buildpack, Platform, buildpack_main};
use libtoolforge::download::Downloader;
use libtoolforge::inventory::{self, LoadError, Release};
use libtoolforge::languages::{self, Language, LanguageMetadata, Registry};
use libtoolforge::layer::Cache;
use libtoolforge::output::BuildOutput;
use std::path::{Path, PathBuf};
use std::process::Command;

const INVENTORY: &str = include_str!("../inventory.toml");
/// An operator's (or the tests') inventory instead of the built-in one.
const INVENTORY_URL_ENV: &str = "BP_NODEJS_INVENTORY_URL";

pub(crate) struct NodejsBuildpack;

impl Buildpack for NodejsBuildpack {
    type Platform = GenericPlatform;
    type Metadata = LanguageMetadata;
    type Error = NodejsBuildpackError;

    fn detect(&self, context: DetectContext<Self>) -> libcnb::Result<DetectResult, Self::Error> {
        let nodejs = context.buildpack_descriptor.metadata.language();
        let registry = Registry::of_builder(&context.buildpack_dir);
        languages::detect_result::<Self>(nodejs, detects(&context.app_dir, nodejs, &registry))
    }

    fn build(&self, context: BuildContext<Self>) -> libcnb::Result<BuildResult, Self::Error> {
        let mut output = BuildOutput::start("Node.js", "toolforge/nodejs");
        let app_dir = &context.app_dir;
        // Absent when the app states `nodejs = true` without one: Node.js alone is installed.
        let package_json_text = std::fs::read_to_string(app_dir.join(PACKAGE_JSON)).unwrap_or_default();
        let package = if package_json_text.is_empty() {
            PackageJson::default()
        } else {
            PackageJson::parse(&package_json_text).map_err(NodejsBuildpackError::PackageJson)?
        };
        let config = config::read(app_dir).map_err(NodejsBuildpackError::Config)?;
        let front_end_only = languages::another_language_detected(
            app_dir,
            context.buildpack_descriptor.metadata.language(),
            &Registry::of_builder(&context.buildpack_dir),
        );

        let downloader = Downloader::from_env(context.platform.env());
        let release = choose_node(&context, &mut output, &downloader, (&package, &package_json_text))?;
        let node_version = release.version.to_string();
        let launch = config
            .launch
            .unwrap_or_else(|| !front_end_only || procfile_calls_node(app_dir));
        if !launch {
            output.detail(if config.launch.is_some() {
                "Node.js is used at build time only (`launch = false` under [org.toolforge.nodejs])"
            } else {
                "Node.js is used at build time only: this is a Python or PHP app and no Procfile process \
                 calls node (`launch = true` under [org.toolforge.nodejs] ships it)"
            });
        }
        let node_layer = layers::node::install(&context, &mut output, &release, &downloader, launch)?;

        // The package manager.
        let choice =
            package_manager::choose(app_dir, package.package_manager.as_deref()).map_err(|error| {
                NodejsBuildpackError::Choice {
                    error,
                    line: line_of(&package_json_text, "\"packageManager\""),
                }
            })?;
        output.step(&format!(
            "Dependencies with {} {} (chosen by {})",
            choice.manager,
            choice.version.as_deref().unwrap_or("as bundled with Node.js"),
            choice.reason
        ));
        let cache = layers::cache::open(&context)?;
        let mut tools = Tools {
            path: vec![node_layer.join("bin")],
            cache,
            app_dir: app_dir.clone(),
            launch,
        };
        if let Some(version) = &choice.version {
            let bin = layers::package_manager::install(
                &context,
                &mut output,
                (choice.manager, version),
                &node_version,
                &tools,
            )?;
            tools.path.insert(0, bin);
        }

        install_dependencies(&context, &mut output, &tools, &choice, &node_version)?;
        if let Some(script) = package.build_script() {
            output.step(&format!("Running the `{script}` script"));
            run(
                &tools,
                &mut output,
                (choice.manager, &["run", script]),
                Step::BuildScript { script },
            )?;
        }
        if config.prune_dev_dependencies && !package.dev_dependencies.is_empty() {
            output.step("Removing development dependencies");
            run(
                &tools,
                &mut output,
                (choice.manager, &choice.manager.prune_args()),
                Step::Prune {
                    manager: choice.manager,
                },
            )?;
        }

        let mut result = BuildResultBuilder::new();
        if launch && package.has_start_script() && !app_dir.join("Procfile").is_file() {
            output.step(&format!(
                "Default process: web = `{} start`",
                choice.manager.command()
            ));
            result = result.launch(
                LaunchBuilder::new()
                    .process(
                        ProcessBuilder::new(process_type!("web"), [choice.manager.command(), "start"])
                            .default(true)
                            .build(),
                    )
                    .build(),
            );
        }
        output.done();
        result.build()
    }

    fn on_error(&self, error: libcnb::Error<Self::Error>) {
        libtoolforge::fail(&error, error_message);
    }
}

/// The Node.js release the app gets, said in the build log, with a warning past its end of life.
fn choose_node(
    context: &BuildContext<NodejsBuildpack>,
    output: &mut BuildOutput,
    downloader: &Downloader,
    (package, package_json_text): (&PackageJson, &str),
) -> Result<Release, NodejsBuildpackError> {
    let app_dir = &context.app_dir;
    let request = Request::read(app_dir, package.engines.node.as_deref()).map_err(|error| {
        NodejsBuildpackError::InvalidRange {
            error,
            line: line_of(package_json_text, "\"node\""),
        }
    })?;
    let inventory = inventory::load(
        context.platform.env().get_string_lossy(INVENTORY_URL_ENV),
        INVENTORY,
        downloader,
    )
    .map_err(|error| match error {
        LoadError::Fetch(error) => NodejsBuildpackError::InventoryFetch(error),
        LoadError::Invalid(error) => NodejsBuildpackError::Inventory(error),
    })?;
    let today = node_version::today();
    let release = request
        .resolve(&inventory, &today)
        .ok_or_else(|| NodejsBuildpackError::VersionNotAvailable {
            requested: request.to_string(),
            origin: request.origin(),
            line: line_of(package_json_text, "\"node\""),
            available: inventory.describe_versions(|version| format!("{}.x", version.major)),
        })?
        .clone();
    let node_version = release.version.to_string();
    output.step(&match request.origin() {
        Some(origin) => format!("Node.js {node_version} ({request} from {origin})"),
        None => {
            format!("Node.js {node_version} (the newest LTS; pin a range in package.json's engines.node)")
        }
    });
    if let Some(end) = node_version::schedule().ended(release.version.major, &today) {
        output.warning(&format!(
            "Node.js {} reached its end of life on {end}: it gets no security fixes.\nAsk for a \
                 supported major in {}, for example `24.x`.",
            release.version.major,
            request
                .origin()
                .map_or("package.json's engines.node", |origin| origin.file())
        ));
    }
    Ok(release)
}

/// Detection: the app's stated languages when it has `[org.toolforge.languages]`; otherwise a
/// package.json, unless the app is another language's (Python, PHP: any the builder's `registry`
/// has) and the package.json has no build script (a stray file from an editor or linter: the app
/// stays a Python or PHP app without Node.js).
fn detects(app_dir: &Path, nodejs: &Language, registry: &Registry) -> bool {
    languages::detects(app_dir, nodejs, || {
        nodejs.has_files(app_dir)
            && (!languages::another_language_detected(app_dir, nodejs, registry)
                || PackageJson::read(app_dir)
                    .ok()
                    .flatten()
                    .is_some_and(|package| package.build_script().is_some()))
    })
}

/// Whether a Procfile process runs a Node.js command.
fn procfile_calls_node(app_dir: &Path) -> bool {
    std::fs::read_to_string(app_dir.join("Procfile")).is_ok_and(|text| {
        text.split(|c: char| c.is_whitespace() || matches!(c, ':' | ';' | '&' | '|' | '(' | ')'))
            .any(|word| matches!(word, "node" | "npm" | "npx" | "pnpm" | "yarn"))
    })
}

/// How this buildpack runs Node.js tools: Node.js and the package manager first on PATH, the
/// caches, in the app's directory.
pub(crate) struct Tools {
    path: Vec<PathBuf>,
    /// The `cache` layer.
    cache: PathBuf,
    app_dir: PathBuf,
    /// Whether the layers go into the image.
    pub(crate) launch: bool,
}

impl Tools {
    pub(crate) fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        // What later buildpacks see of the node layer at build time (CA store, npm settings).
        let env = layers::node::layer_env(&self.app_dir).apply(Scope::Build, &libcnb::Env::from_current());
        let system_path = env.get("PATH").cloned().unwrap_or_default();
        let path = std::env::join_paths(
            self.path
                .iter()
                .cloned()
                .chain(std::env::split_paths(&system_path)),
        )
        .unwrap_or_else(|_| system_path.clone());
        command
            .current_dir(&self.app_dir)
            .envs(env.iter())
            .env("PATH", path)
            .envs(layers::cache::env(&self.cache, program));
        command
    }
}

fn run(
    tools: &Tools,
    output: &mut BuildOutput,
    (manager, args): (Manager, &[&str]),
    step: Step,
) -> Result<(), NodejsBuildpackError> {
    output.detail(&format!("Running `{} {}`", manager.command(), args.join(" ")));
    libtoolforge::command::run_streamed(tools.command(manager.command()).args(args))
        .map_err(|error| NodejsBuildpackError::Command { step, error })
}

/// Installs the dependencies, or copies back the `node_modules` of the last build when the
/// lockfile, package.json, Node.js and the package manager are unchanged.
fn install_dependencies(
    context: &BuildContext<NodejsBuildpack>,
    output: &mut BuildOutput,
    tools: &Tools,
    choice: &Choice,
    node_version: &str,
) -> Result<(), libcnb::Error<NodejsBuildpackError>> {
    let app_dir = &context.app_dir;
    let key = NodeModulesLayerKey {
        node_version: node_version.to_string(),
        package_manager: format!(
            "{} {}",
            choice.manager,
            choice.version.as_deref().unwrap_or("bundled")
        ),
        lockfile_sha256: file_sha256(&app_dir.join(choice.manager.lockfile())),
        package_json_sha256: file_sha256(&app_dir.join(PACKAGE_JSON)),
        stack: libtoolforge::stack::key(&context.target),
    };
    let kept = layers::node_modules::open(context, &key)?;
    if choice.has_lockfile && kept.cache == Cache::Reused && !app_dir.join("node_modules").exists() {
        output.detail("Reusing node_modules from the cache: the lockfile, package.json, Node.js and the package manager are unchanged; not installing");
        kept.restore(app_dir)?;
        return Ok(());
    }
    if let Some(line) = kept.cache.describe("node_modules") {
        output.detail(&line);
    }
    if !choice.has_lockfile {
        output.warning(&format!(
            "No lockfile: {} resolves the dependencies anew at every build.\nCommit the lockfile it \
             writes ({}) so that every build installs the same versions.",
            choice.manager,
            choice.manager.lockfile()
        ));
    }
    run(
        tools,
        output,
        (choice.manager, &choice.manager.install_args(choice.has_lockfile)),
        Step::Install {
            manager: choice.manager,
            has_lockfile: choice.has_lockfile,
        },
    )?;
    if choice.has_lockfile {
        kept.save(app_dir)?;
    }
    Ok(())
}

buildpack_main!(NodejsBuildpack);

#[cfg(test)]
mod tests {
    use super::*;
    use libtoolforge::inventory::Inventory;

    fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn nodejs() -> Language {
        languages::declared_in(include_str!("../buildpack.toml")).unwrap()
    }

    #[test]
    fn detection() {
        let registry = Registry::new([nodejs(), Language::new("python", "Python", &["requirements.txt"])]);
        let detects = |dir: &Path| detects(dir, &nodejs(), &registry);
        assert!(detects(app(&[("package.json", "{}")]).path()));
        assert!(!detects(app(&[("requirements.txt", "")]).path()));
        // A stray package.json in a Python app: no.
        let stray = app(&[
            ("package.json", "{\"devDependencies\": {}}"),
            ("requirements.txt", ""),
        ]);
        assert!(!detects(stray.path()));
        let front_end = app(&[
            ("package.json", "{\"scripts\": {\"build\": \"vite build\"}}"),
            ("requirements.txt", ""),
        ]);
        assert!(detects(front_end.path()));
        // Stated languages win.
        let stated = app(&[
            ("package.json", "{}"),
            ("project.toml", "[org.toolforge.languages]\npython = true\n"),
        ]);
        assert!(!detects(stated.path()));
        let stated = app(&[("project.toml", "[org.toolforge.languages]\nnodejs = true\n")]);
        assert!(detects(stated.path()));
    }

    #[test]
    fn procfile_commands() {
        assert!(procfile_calls_node(
            app(&[("Procfile", "web: node server.js\n")]).path()
        ));
        assert!(procfile_calls_node(
            app(&[("Procfile", "worker: cd x && npm run work\n")]).path()
        ));
        assert!(!procfile_calls_node(
            app(&[("Procfile", "web: gunicorn app:app\n")]).path()
        ));
        assert!(!procfile_calls_node(app(&[]).path()));
    }

    #[test]
    fn built_in_inventory_has_current_majors() {
        let inventory = Inventory::parse(INVENTORY, "inventory.toml", None).unwrap();
        for major in [20, 22, 24, 26] {
            let release = inventory
                .newest_matching(|version| version.major == major)
                .unwrap_or_else(|| panic!("no Node.js {major}"));
            assert!(release.url.starts_with("https://nodejs.org/download/release/"));
        }
    }
}
