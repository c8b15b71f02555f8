//! What identifies the stack a build runs on, for cache keys: layers compiled against the build
//! image's libraries are reused only on the same stack, and with the same Debian packages layered
//! on it by the buildpacks before.

use crate::debian::PACKAGES_DIGEST_ENV;
use crate::layer::change;
use libcnb::Target;
use serde::{Deserialize, Serialize};

/// Written by stacks/build.Dockerfile: the digest of everything the build and run images were
/// made from.
const STACK_DIGEST_FILE: &str = "/usr/local/lib/toolforge-stack/stack-digest";

/// `debian 13 amd64 <digest>`: the distribution, architecture and, on Toolforge's stack, the
/// digest of the images' inputs (other stacks have no such file and are keyed on the rest).
#[must_use]
pub fn key(target: &Target) -> String {
    let digest = std::fs::read_to_string(STACK_DIGEST_FILE).unwrap_or_default();
    let digest: String = digest.trim().chars().take(12).collect();
    format!(
        "{} {} {} {digest}",
        target.distro_name, target.distro_version, target.arch
    )
    .trim_end()
    .to_string()
}

/// What compiled dependencies (a virtual environment, `node_modules`, `vendor`, built wheels)
/// were linked against: the stack, and the Debian packages earlier buildpacks of this build
/// layered on it. A key field of every layer that holds compiled code, so that an extension built
/// against a `-dev` package that was then removed is never reused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeLibraries {
    /// [`key`].
    pub stack: String,
    /// [`PACKAGES_DIGEST_ENV`], set by a buildpack before this one that installed Debian packages.
    pub debian_packages: Option<String>,
}

impl NativeLibraries {
    /// The stack of `target` and the Debian packages this build's environment says were layered.
    #[must_use]
    pub fn of(target: &Target) -> Self {
        Self::with_packages(target, std::env::var(PACKAGES_DIGEST_ENV).ok().as_deref())
    }

    fn with_packages(target: &Target, debian_packages: Option<&str>) -> Self {
        Self {
            stack: key(target),
            debian_packages: debian_packages
                .map(str::trim)
                .filter(|digest| !digest.is_empty())
                .map(str::to_string),
        }
    }

    /// What differs from `current`, in words, for [`crate::layer::LayerKey::changes`].
    #[must_use]
    pub fn changes(&self, current: &Self) -> Vec<String> {
        let Self {
            stack,
            debian_packages,
        } = self;
        let packages = match (debian_packages, &current.debian_packages) {
            (None, Some(_)) => Some("Debian packages installed".to_string()),
            (Some(_), None) => Some("Debian packages removed".to_string()),
            (Some(old), Some(new)) if old != new => Some("Debian packages changed".to_string()),
            _ => None,
        };
        change("stack", stack, &current.stack)
            .into_iter()
            .chain(packages)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            os: "linux".into(),
            arch: "amd64".into(),
            arch_variant: None,
            distro_name: "debian".into(),
            distro_version: "13".into(),
        }
    }

    #[test]
    fn debian_packages_layered_by_an_earlier_buildpack_are_part_of_the_key() {
        let bare = NativeLibraries::with_packages(&target(), None);
        let graphviz = NativeLibraries::with_packages(&target(), Some("1f2e3d4c5b6a"));
        let other = NativeLibraries::with_packages(&target(), Some("0a0b0c0d0e0f"));
        assert_eq!(bare, NativeLibraries::with_packages(&target(), Some(" ")));
        assert!(bare.changes(&bare.clone()).is_empty());
        assert!(graphviz.changes(&graphviz.clone()).is_empty());
        assert_eq!(bare.changes(&graphviz), ["Debian packages installed"]);
        assert_eq!(graphviz.changes(&bare), ["Debian packages removed"]);
        assert_eq!(graphviz.changes(&other), ["Debian packages changed"]);
    }
}
