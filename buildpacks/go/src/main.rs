//! toolforge/go: detect and build. Everything else is in its own module: go.mod (`go_mod`), the
//! app's settings (`config`), one module per layer (`layers`), and what can go wrong (`errors`).

mod config;
mod errors;
mod go_mod;
mod layers;

use crate::errors::{GoBuildpackError, error_message};
use crate::go_mod::{GoMod, GoVersion};
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::data::launch::{LaunchBuilder, ProcessBuilder};
use libcnb::data::process_type;
use libcnb::detect::{DetectContext, DetectResult};
use libcnb::generic::GenericPlatform;
use libcnb::{Buildpack, Platform, buildpack_main};
use libtoolforge::build_env::BuildEnv;
use libtoolforge::download::Downloader;
use libtoolforge::error::IoError;
use libtoolforge::languages::{self, LanguageMetadata};
use libtoolforge::output::BuildOutput;
use libtoolforge::sbom::Component;
use libtoolforge::version_request::VersionRequest;

pub(crate) struct GoBuildpack;

impl Buildpack for GoBuildpack {
    type Platform = GenericPlatform;
    /// buildpack.toml's `[metadata.toolforge.language]`: `go`, detected by go.mod.
    type Metadata = LanguageMetadata;
    type Error = GoBuildpackError;

    /// Passes when the app has a go.mod at its root, or states `go = true` in
    /// `[org.toolforge.languages]`; the language then goes into the build plan, so that
    /// toolforge/toolforge knows it was built.
    fn detect(&self, context: DetectContext<Self>) -> libcnb::Result<DetectResult, Self::Error> {
        let language = context.buildpack_descriptor.metadata.language();
        let detected = languages::detects(&context.app_dir, language, || {
            language.has_files(&context.app_dir)
        });
        languages::detect_result::<Self>(language, detected)
    }

    fn build(&self, context: BuildContext<Self>) -> libcnb::Result<BuildResult, Self::Error> {
        let mut output = BuildOutput::start("Go", "toolforge/go");
        languages::pass_on_plan_entries(&context)?;
        let app_dir = &context.app_dir;
        let go_mod = match std::fs::read_to_string(app_dir.join(go_mod::FILE)) {
            Ok(text) => GoMod::parse(&text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => GoMod::default(),
            Err(error) => Err(GoBuildpackError::GoMod(IoError::new("go.mod", error)))?,
        };
        let config = config::read(app_dir).map_err(GoBuildpackError::Config)?;
        let request = go_mod
            .version_request(config.version.as_deref())
            .map_err(GoBuildpackError::InvalidVersion)?
            .unwrap_or_else(|| VersionRequest::new("the newest release", None, GoVersion::ANY));

        let downloader = Downloader::from_env(context.platform.env());
        let runtime = layers::go::runtime();
        let release = runtime
            .choose(context.platform.env(), &downloader, &request, &mut output)
            .map_err(GoBuildpackError::Runtime)?;
        let go_layer = runtime.install(&context, &mut output, &release, &downloader, false)?;
        let (modules, build_cache) =
            layers::caches::open(&context, &mut output, &release.version.to_string())?;
        let mut env = BuildEnv::new(context.platform.env(), app_dir);
        // GOTOOLCHAIN=local: the go command never fetches another toolchain on its own; cgo
        // builds against the build image's compilers and libraries.
        env.prepend_path(go_layer.path().join("bin"))
            .set_default("GOTOOLCHAIN", "local")
            .set_default("CGO_ENABLED", "1")
            .set_default("GOMODCACHE", &modules)
            .set_default("GOCACHE", &build_cache);

        let packages = match (config.packages, go_mod.heroku_install) {
            (Some(packages), _) | (None, Some(packages)) => packages,
            (None, None) => layers::bin::main_packages(app_dir, &env)?,
        };
        if packages.is_empty() {
            Err(GoBuildpackError::NoMainPackage)?;
        }
        let toolchain = Component::runtime(runtime.name, &release);
        let binaries = layers::bin::build(&context, &mut output, &env, &packages, toolchain)?;

        let mut result = BuildResultBuilder::new();
        if !app_dir.join("Procfile").is_file() {
            let [binary] = binaries.as_slice() else {
                Err(GoBuildpackError::SeveralBinaries(binaries))?
            };
            output.step(&format!("Default process: web = `{binary}`"));
            result = result.launch(
                LaunchBuilder::new()
                    .process(
                        ProcessBuilder::new(process_type!("web"), [binary.as_str()])
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

buildpack_main!(GoBuildpack);
