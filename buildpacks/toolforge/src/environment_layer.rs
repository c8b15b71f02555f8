//! The `environment` launch layer: the exec.d program that sets up every process start, its
//! configuration, libnss-wrapper copied from the build image's Debian package, and PORT's
//! default. Rewritten by every build: it is small, and identical contents export as the same
//! image layer, so an unchanged app reuses it.

use crate::ToolforgeBuildpack;
use crate::config::EnvConfig;
use crate::errors::ToolforgeBuildpackError;
use libcnb::additional_buildpack_binary_path;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libcnb::layer::UncachedLayerDefinition;
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use std::path::{Path, PathBuf};
use toolforge_toolforge::exec_d::{CONFIG_FILE, Config};

/// Where Debian's libnss-wrapper puts the library (the build and run images are the same Debian).
pub(crate) const NSS_WRAPPER_IN_BUILD_IMAGE: &str = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so";
/// The port Toolforge's web services listen on.
pub(crate) const DEFAULT_PORT: u16 = 8000;

pub(crate) fn create(
    context: &BuildContext<ToolforgeBuildpack>,
    config: &EnvConfig,
) -> libcnb::Result<PathBuf, ToolforgeBuildpackError> {
    let source = Path::new(NSS_WRAPPER_IN_BUILD_IMAGE);
    if !source.is_file() {
        return Err(ToolforgeBuildpackError::NssWrapperMissing(source.to_path_buf()).into());
    }
    let layer = context.uncached_layer(
        layer_name!("environment"),
        UncachedLayerDefinition {
            build: false,
            launch: true,
        },
    )?;
    let layer_path = layer.path();
    let library = layer_path.join("lib").join("libnss_wrapper.so");
    write_files(&layer_path, &library, config).map_err(ToolforgeBuildpackError::WriteLayer)?;
    layer.write_exec_d_programs([(
        "toolforge-environment",
        additional_buildpack_binary_path!("toolforge-environment"),
    )])?;
    layer.write_env(layer_env())?;
    Ok(library)
}

fn write_files(layer_path: &Path, library: &Path, config: &EnvConfig) -> std::io::Result<()> {
    std::fs::create_dir_all(layer_path.join("lib"))?;
    std::fs::copy(NSS_WRAPPER_IN_BUILD_IMAGE, library)?;
    let exec_d_config = Config {
        keep_home: config.keep_home,
        nss_wrapper: Some(library.to_path_buf()),
    };
    let text = toml::to_string(&exec_d_config).map_err(std::io::Error::other)?;
    std::fs::write(layer_path.join(CONFIG_FILE), text)
}

/// PORT for web services, unless the platform sets it (Toolforge does, to the same value).
fn layer_env() -> LayerEnv {
    LayerEnv::new().chainable_insert(
        Scope::Launch,
        ModificationBehavior::Default,
        "PORT",
        DEFAULT_PORT.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn port_is_a_default_for_launch_only() {
        let env = layer_env();
        let launch = env.apply(Scope::Launch, &libcnb::Env::new());
        assert_eq!(launch.get("PORT"), Some(&OsString::from("8000")));
        let mut platform = libcnb::Env::new();
        platform.insert("PORT", "9000");
        assert_eq!(
            env.apply(Scope::Launch, &platform).get("PORT"),
            Some(&OsString::from("9000"))
        );
        assert_eq!(env.apply(Scope::Build, &libcnb::Env::new()).get("PORT"), None);
    }
}
