//! The `jdk` layer (build only) and the `jre` layer (the image): `OpenJDK` from the stack's Debian
//! repositories, through libtoolforge's Debian layers (signed packages, updated with the stack's
//! index, resolved against the run image). The JDK layer holds the whole JDK (its packages pull
//! in the runtime's); the image gets only `openjdk-N-jre-headless` and what the run image lacks
//! of its dependencies.
//!
//! Which releases exist is read off the index (`openjdk-N-jdk-headless`), so a stack whose
//! Debian offers more has them with no change here; another source (an inventory of JDK
//! archives) would be one more function returning the same [`Jdk`].

use crate::JavaBuildpack;
use crate::errors::JavaBuildpackError;
use crate::java_version::{self, Choice, JavaRequest};
use libcnb::additional_buildpack_binary_path;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use libtoolforge::command;
use libtoolforge::debian::{self, Apt, AptError, PackageSpec, Resolved};
use libtoolforge::debian_layer::{self, PackagesLayer};
use libtoolforge::output::BuildOutput;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Raised when what this module writes into the layers changes.
const LAYOUT: &str = "1";
/// Recorded as installed without being installed: its only job, making the Java trust store from
/// the system's, is the stack's (`/etc/ssl/certs/java/cacerts`, see stacks/README.md), and it
/// would need a Java to run.
const STUBS: &[&str] = &["ca-certificates-java"];
/// The heap as a share of the container's memory limit, unless the tool sets
/// `JAVA_TOOL_OPTIONS` itself: the JVM's default (25 %) leaves most of a Toolforge
/// container's memory unused.
pub(crate) const JAVA_TOOL_OPTIONS: &str = "-XX:MaxRAMPercentage=75.0";

/// What apt made of the request, kept in the `apt-state` layer for the next build.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Resolution {
    /// The feature releases the index offers, ascending.
    available: Vec<u32>,
    /// The packages of the release the request gets; `None` when it gets none.
    chosen: Option<Packages>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Packages {
    major: u32,
    jdk: Vec<Resolved>,
    jre: Vec<Resolved>,
}

/// The installed JDK and JRE.
pub(crate) struct Jdk {
    pub(crate) major: u32,
    /// The bytes of the JDK's layer, which the image does without.
    pub(crate) build_only_bytes: u64,
    pub(crate) layer_env: LayerEnv,
}

/// The JDK the request gets, into its layers; says which, and warns when it is not the one
/// asked for.
pub(crate) fn install(
    context: &BuildContext<JavaBuildpack>,
    output: &mut BuildOutput,
    request: Option<&JavaRequest>,
) -> libcnb::Result<Jdk, JavaBuildpackError> {
    // The list apt's index is kept for: the request, as the package it names.
    let named = request.map_or_else(
        || "default-jdk-headless".to_string(),
        |request| jdk_package(request.major),
    );
    let specs: Vec<PackageSpec> = PackageSpec::parse(&named).into_iter().collect();
    let (apt, resolution) = debian_layer::resolve(
        context,
        output,
        &specs,
        STUBS,
        |_| None,
        |apt| {
            let available = available(apt)?;
            let chosen = match java_version::choose(request, &available) {
                Ok(Choice { major, .. }) => Some(Packages {
                    major,
                    jdk: apt.resolve(&spec(&jdk_package(major)))?,
                    jre: apt.resolve(&spec(&jre_package(major)))?,
                }),
                Err(_) => None,
            };
            Ok(Resolution { available, chosen })
        },
    )?;
    let choice =
        java_version::choose(request, &resolution.available).map_err(JavaBuildpackError::NotAvailable)?;
    let packages = resolution
        .chosen
        .filter(|packages| packages.major == choice.major)
        .ok_or(JavaBuildpackError::NoResolution(choice.major))?;
    let major = packages.major;
    match (&choice.instead_of, request) {
        (Some(asked), _) => output.warning(&java_version::substitution_warning(asked, major).join("\n")),
        (None, Some(request)) => output.step(&format!("Java {major} ({} from {})", request.text, request.origin)),
        (None, None) => output.step(&format!(
            "Java {major} (the newest LTS release this builder has; pin one with `java.runtime.version={major}` in system.properties)"
        )),
    }

    output.step(&format!("JDK {major} for the build ({})", jdk_package(major)));
    let jdk = debian_layer::install(
        context,
        output,
        &apt,
        &PackagesLayer {
            build: true,
            launch: false,
            ..PackagesLayer::new(layer_name!("jdk"), &format!("JDK {major}")).layout(LAYOUT)
        },
        (&spec(&jdk_package(major)), &packages.jdk),
        |_, _| Ok(Vec::new()),
        |path| java_env(path, major, Scope::Build),
    )?;
    output.step(&format!(
        "Java {major} runtime for the image ({})",
        jre_package(major)
    ));
    debian_layer::install(
        context,
        output,
        &apt,
        &PackagesLayer {
            build: false,
            launch: true,
            ..PackagesLayer::new(layer_name!("jre"), &format!("Java {major} runtime"))
                .layout(LAYOUT)
                .run_image_check(additional_buildpack_binary_path!(
                    "toolforge-java-run-image-check"
                ))
        },
        (&spec(&jre_package(major)), &packages.jre),
        |_, _| Ok(Vec::new()),
        |path| {
            java_env(path, major, Scope::Launch).chainable_insert(
                Scope::Launch,
                ModificationBehavior::Default,
                "JAVA_TOOL_OPTIONS",
                JAVA_TOOL_OPTIONS,
            )
        },
    )?;
    Ok(Jdk {
        major,
        build_only_bytes: jdk.bytes(),
        layer_env: java_env(&jdk.path, major, Scope::Build),
    })
}

fn jdk_package(major: u32) -> String {
    format!("openjdk-{major}-jdk-headless")
}

fn jre_package(major: u32) -> String {
    format!("openjdk-{major}-jre-headless")
}

fn spec(name: &str) -> Vec<PackageSpec> {
    PackageSpec::parse(name).into_iter().collect()
}

/// Where Debian's package puts the release.
fn java_home(layer: &Path, major: u32) -> PathBuf {
    layer.join(format!("usr/lib/jvm/java-{major}-openjdk-amd64"))
}

/// The feature releases whose JDK the index has, ascending.
fn available(apt: &Apt) -> Result<Vec<u32>, AptError> {
    let names = command::output(apt.command("apt-cache").args(["pkgnames", "openjdk-"]))
        .map_err(AptError::Command)?;
    let mut majors: Vec<u32> = names
        .lines()
        .filter_map(|name| {
            name.strip_prefix("openjdk-")?
                .strip_suffix("-jdk-headless")?
                .parse()
                .ok()
        })
        .collect();
    majors.sort_unstable();
    majors.dedup();
    Ok(majors)
}

/// The packages' search paths ([`debian::layer_env`]), `JAVA_HOME`, and its `bin` first on PATH.
fn java_env(layer: &Path, major: u32, scope: Scope) -> LayerEnv {
    let home = java_home(layer, major);
    debian::layer_env(layer)
        .chainable_insert(
            scope.clone(),
            ModificationBehavior::Override,
            "JAVA_HOME",
            home.display().to_string(),
        )
        .chainable_insert(
            scope.clone(),
            ModificationBehavior::Prepend,
            "PATH",
            home.join("bin").display().to_string(),
        )
        .chainable_insert(scope, ModificationBehavior::Delimiter, "PATH", ":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment() {
        let layer = Path::new("/layers/toolforge_java/jre");
        let mut base = libcnb::Env::new();
        base.insert("PATH", "/usr/bin");
        let env = java_env(layer, 21, Scope::Launch).apply(Scope::Launch, &base);
        assert_eq!(
            env.get_string_lossy("JAVA_HOME").unwrap(),
            "/layers/toolforge_java/jre/usr/lib/jvm/java-21-openjdk-amd64"
        );
        assert!(
            env.get_string_lossy("PATH")
                .unwrap()
                .starts_with("/layers/toolforge_java/jre/usr/lib/jvm/java-21-openjdk-amd64/bin:")
        );
    }
}
