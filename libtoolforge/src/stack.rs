//! What identifies the stack a build runs on, for cache keys: layers compiled against the build
//! image's libraries are reused only on the same stack.

use libcnb::Target;

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
