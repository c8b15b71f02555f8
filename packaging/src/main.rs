//! `cargo packaging`: set-up, stack, buildpacks, builder, the example app, and the test suite.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use packaging::stack::StackOptions;
use packaging::{
    builder, buildpacks, cnb_tools, command, go_mirror, mirror, node_mirror, paths, setup, stack, step,
};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    about = "Sets up the machine, builds the Toolforge stack and builder, runs the example and the tests"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Step>,
}

#[derive(Subcommand)]
enum Step {
    /// A Docker engine that answers, pack and the lifecycle built from source.
    Setup,
    /// The run and build images of the stack.
    Stack(StackArgs),
    /// Compiles and packages every buildpack.
    Buildpacks,
    /// Everything, up to the builder image `toolforge/builder` (the default;
    /// `TOOLFORGE_BUILDER_IMAGE` names another).
    Builder(StackArgs),
    /// The runtimes the tests use, each with its inventory: Python built from Debian's source
    /// packages in the stack's build image (`stack` makes it), Node.js assembled from npm registry
    /// packages, Go's toolchain zips from the Go module proxy; cached, so a second run takes
    /// seconds.
    Mirror {
        /// Then serve the mirrors on 127.0.0.1 until interrupted, for `pack build --network host`.
        #[arg(long)]
        serve: bool,
    },
    /// Regenerates a buildpack's committed runtime inventory from upstream data, e.g.
    /// `cargo packaging inventory python ../shared/data/cpython-python-build-standalone-linux-x86_64.toml`
    /// or `cargo packaging inventory nodejs ../shared/data/nodejs-linux-x64.toml`; or, with no
    /// file, `cargo packaging inventory go` from the Go module proxy (the newest patch of the last
    /// four minors; downloads each toolchain for its sha256).
    Inventory {
        /// The runtime: `python`, `nodejs` or `go`.
        runtime: String,
        /// The upstream data: a TOML file of `[[releases]]` with version, url and sha256 (none for
        /// `go`).
        source: Option<PathBuf>,
    },
    /// Everything, then builds examples/hello with the builder and runs it as Toolforge would.
    Example(StackArgs),
    /// Creates the buildpack `toolforge/NAME`: the crate buildpacks/NAME (detect and build, a
    /// cached launch layer, errors with a snapshot test, a README), a fixture app and an
    /// end-to-end test, registered in the workspace and the builder.
    NewBuildpack {
        /// Lowercase ASCII letters, digits and `-`, starting with a letter: `go`, `java-maven`.
        name: String,
    },
    /// Everything, then formatting and lint checks and the whole test suite.
    Test(StackArgs),
    /// The property-based tests of the parsers of the app's files (Procfile, Aptfile, project.toml,
    /// version files, package.json, composer.json, ldap.yaml/conf) with many inputs each, in
    /// release mode; prints a table of cases, rejections, acceptances, panics and times.
    Fuzz {
        /// Inputs per parser.
        #[arg(long, default_value_t = packaging::fuzz::DEFAULT_CASES)]
        cases: u32,
    },
}

#[derive(Args, Clone, Default)]
struct StackArgs {
    /// Build the stack on this image instead of stacks/stack.toml's (pulled if not present).
    #[arg(long)]
    base_image: Option<String>,
    /// Trust the *.crt certificates in this directory in both stack images (sites behind a
    /// TLS-inspecting proxy).
    #[arg(long, env = "TOOLFORGE_EXTRA_CA_DIR")]
    extra_ca_dir: Option<PathBuf>,
}

impl From<StackArgs> for StackOptions {
    fn from(args: StackArgs) -> Self {
        Self {
            base_image: args.base_image,
            extra_ca_dir: args.extra_ca_dir,
        }
    }
}

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Step::Builder(StackArgs::default())) {
        Step::Setup => setup_machine().map(|_| ()),
        Step::Stack(args) => {
            step::run("docker", || Ok(((), setup::ensure_docker()?))).and_then(|()| build_stack(&args.into()))
        }
        Step::Buildpacks => package_buildpacks().map(|_| ()),
        // Not the stack too: without the options it was built with, it would be rebuilt differently.
        Step::Mirror { serve } => step::run("docker", || Ok(((), setup::ensure_docker()?)))
            .and_then(|()| build_mirror())
            .map(|()| {
                if serve {
                    serve_mirror();
                }
            }),
        Step::Builder(args) => create_builder(&args.into()).map(|_| ()),
        Step::Inventory { runtime, source } => step::run(&format!("inventory {runtime}"), || {
            Ok(((), packaging::inventory::regenerate(&runtime, source.as_deref())?))
        }),
        Step::Example(args) => create_builder(&args.into()).and_then(|pack| run_example(&pack)),
        Step::Test(args) => run_tests(&args.into()),
        Step::NewBuildpack { name } => new_buildpack(&name),
        Step::Fuzz { cases } => fuzz(cases),
    };
    match result {
        Ok(()) => {
            eprintln!("==> finished in {:.1}s", started.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn setup_machine() -> anyhow::Result<PathBuf> {
    step::run("docker", || Ok(((), setup::ensure_docker()?)))?;
    // The platform tests' OCI registry: CNCF distribution, as Debian packages it.
    step::run("registry", || {
        setup::apt_install(&["docker-registry"])?;
        Ok(((), "docker-registry installed".to_string()))
    })?;
    let pack = step::run("pack", cnb_tools::ensure_pack)?;
    let version = builder::lifecycle_version()?;
    step::run(&format!("lifecycle {version}"), || {
        cnb_tools::ensure_lifecycle(&version)
    })?;
    Ok(pack)
}

fn build_stack(options: &StackOptions) -> anyhow::Result<()> {
    let config = stack::read_config()?;
    let base = step::run("base image", || stack::ensure_base_image(&config, options))?;
    step::run("stack images", || {
        Ok(((), stack::build_images(&config, &base, options)?))
    })
}

fn package_buildpacks()
-> anyhow::Result<std::collections::BTreeMap<libcnb_data::buildpack::BuildpackId, PathBuf>> {
    step::run("buildpacks", || {
        let packaged = buildpacks::package_all()?;
        let names: Vec<String> = packaged.keys().map(ToString::to_string).collect();
        let outcome = format!("packaged {}", names.join(", "));
        Ok((packaged, outcome))
    })
}

/// Runs every step up to the builder; returns the pack binary to use.
fn create_builder(options: &StackOptions) -> anyhow::Result<PathBuf> {
    let pack = setup_machine()?;
    build_stack(options)?;
    let packaged = package_buildpacks()?;
    let version = builder::lifecycle_version()?;
    let (lifecycle, _) = cnb_tools::ensure_lifecycle(&version)?;
    let config = stack::read_config()?;
    step::run("builder", || {
        let rendered = builder::render(&packaged, &lifecycle, &config)?;
        Ok((
            (),
            builder::create(&pack, &rendered, &packaged, &lifecycle, &config)?,
        ))
    })?;
    Ok(pack)
}

/// The runtimes the tests serve to the buildpacks instead of the internet's. Every mirror is
/// attempted, so that one failing does not cost the others their build.
fn build_mirror() -> anyhow::Result<()> {
    let python = step::run("python mirror", || {
        Ok(((), mirror::ensure_python_mirror(&mirror::TEST_PYTHON_MINORS)?))
    });
    let nodejs = step::run("Node.js mirror", || {
        Ok((
            (),
            node_mirror::ensure_node_mirror(&node_mirror::TEST_NODE_VERSIONS)?,
        ))
    });
    let go = step::run("Go mirror", || {
        Ok(((), go_mirror::ensure_go_mirror(&go_mirror::TEST_GO_VERSIONS)?))
    });
    let failures: Vec<String> = [python, nodejs, go]
        .into_iter()
        .filter_map(Result::err)
        .map(|error| format!("{error:#}"))
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(anyhow::anyhow!("{}", failures.join("\n")))
    }
}

/// Serves the mirrors (`python/`, `nodejs/`, `go/`) until the process is interrupted.
fn serve_mirror() {
    let dir = paths::mirrors_dir();
    let server = packaging::file_server::FileServer::start(&dir);
    let url = &server.base_url;
    eprintln!(
        "==> serving {} at {url}\n    build with: pack build … --network host \
         --env BP_PYTHON_INVENTORY_URL={url}/python/inventory.toml \
         --env BP_NODEJS_INVENTORY_URL={url}/nodejs/inventory.toml \
         --env BP_GO_INVENTORY_URL={url}/go/inventory.toml\n    (Ctrl-C stops)",
        dir.display(),
    );
    loop {
        std::thread::park();
    }
}

const EXAMPLE_IMAGE: &str = "toolforge-example/hello";
const EXAMPLE_CONTAINER: &str = "toolforge-example";

fn run_example(pack: &Path) -> anyhow::Result<()> {
    let app = paths::workspace_root().join("examples").join("hello");
    step::run("example: pack build", || {
        command::run(
            cnb_tools::pack_command(pack)
                .args([
                    "build",
                    EXAMPLE_IMAGE,
                    "--builder",
                    &format!("{}:latest", packaging::builder_image()),
                ])
                .arg("--path")
                .arg(&app)
                .args(["--trust-builder", "--pull-policy", "never"]),
        )?;
        Ok(((), format!("built {EXAMPLE_IMAGE}")))
    })?;
    step::run("example: run as uid 52503", || {
        let _ = command::output(Command::new("docker").args(["rm", "--force", EXAMPLE_CONTAINER]));
        command::output(Command::new("docker").args([
            "run",
            "--detach",
            "--name",
            EXAMPLE_CONTAINER,
            "--user",
            "52503:52503",
            "--env",
            "PORT=8000",
            "--publish",
            "127.0.0.1::8000",
            EXAMPLE_IMAGE,
        ]))?;
        let port = command::output(Command::new("docker").args(["port", EXAMPLE_CONTAINER, "8000/tcp"]))?;
        let address = port
            .lines()
            .next()
            .context("docker port printed nothing")?
            .trim()
            .to_string();
        let url = format!("http://{address}/");
        let body = wait_for_http(&url, Duration::from_secs(30))?;
        eprintln!("{}", body.trim_end());
        Ok((
            (),
            format!("answers at {url} (stop it with `docker rm -f {EXAMPLE_CONTAINER}`)"),
        ))
    })
}

fn wait_for_http(url: &str, timeout: Duration) -> anyhow::Result<String> {
    let started = Instant::now();
    loop {
        match ureq::get(url).call() {
            Ok(mut response) => return Ok(response.body_mut().read_to_string()?),
            Err(error) if started.elapsed() > timeout => {
                let logs = command::output(Command::new("docker").args(["logs", EXAMPLE_CONTAINER]))
                    .unwrap_or_default();
                anyhow::bail!(
                    "{url} did not answer within {}s: {error}\ncontainer log:\n{logs}",
                    timeout.as_secs()
                );
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

fn new_buildpack(name: &str) -> anyhow::Result<()> {
    let root = paths::workspace_root();
    let created = packaging::new_buildpack::create(&root, name)?;
    if let Err(error) = packaging::new_buildpack::format(&root, &created) {
        eprintln!("    warning: {error:#}; run `cargo fmt --all`");
    }
    eprintln!("==> created toolforge/{name}:");
    for file in &created.files {
        eprintln!("    {}", file.display());
    }
    let edited: Vec<String> = created
        .edited
        .iter()
        .map(|file| file.display().to_string())
        .collect();
    eprintln!("==> registered it in {}", edited.join(" and "));
    eprintln!(
        "{}",
        packaging::new_buildpack::next_steps(&packaging::new_buildpack::Name::parse(name)?)
    );
    Ok(())
}

fn fuzz(cases: u32) -> anyhow::Result<()> {
    let (rows, failures) = packaging::fuzz::run(cases)?;
    println!("{}", packaging::fuzz::table(&rows));
    if failures.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{}", failures.join("\n"))
    }
}

fn run_tests(options: &StackOptions) -> anyhow::Result<()> {
    cargo_step("rustfmt", &["fmt", "--all", "--check"], "formatted")?;
    cargo_step(
        "clippy",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
        "no warnings",
    )?;
    create_builder(options)?;
    build_mirror()?;
    // The scaffold test builds a builder of its own on the same stack: it must ask for the same
    // extra CA certificates, or it would rebuild the stack images every other test uses.
    let mut test = cargo_command(&["test", "--workspace", "--locked"]);
    if let Some(dir) = &options.extra_ca_dir {
        test.env("TOOLFORGE_EXTRA_CA_DIR", dir);
    }
    step::run("cargo test", || {
        command::run(&mut test)?;
        Ok(((), "passed".to_string()))
    })
}

/// Runs cargo in the workspace as a step.
fn cargo_step(name: &str, args: &[&str], outcome: &str) -> anyhow::Result<()> {
    step::run(name, || {
        command::run(&mut cargo_command(args))?;
        Ok(((), outcome.to_string()))
    })
}

fn cargo_command(args: &[&str]) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(args).current_dir(paths::workspace_root());
    command
}
