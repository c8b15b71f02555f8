//! What the build log says about the packages: what apt resolved and pulled in, and whether the
//! image will fit Toolforge's quota.

use crate::AptBuildpack;
use crate::config::Config;
use libcnb::Platform;
use libcnb::build::BuildContext;
use libtoolforge::debian::{self, RUN_IMAGE_STATUS, Resolved};
use libtoolforge::disk;
use libtoolforge::output::BuildOutput;
use std::collections::BTreeMap;

/// Toolforge's default image quota, which the build warns about exceeding.
const DEFAULT_QUOTA_MIB: u64 = 1024;
/// The quota to warn about instead, for tools that were given more.
const QUOTA_ENV: &str = "TOOLFORGE_IMAGE_QUOTA_MIB";

/// Which requested packages are installed, which the run image already has, and which
/// dependencies each pulls in.
pub(crate) fn describe_resolution(
    output: &mut BuildOutput,
    config: &Config,
    resolved: &[Resolved],
    pulled_in_by: &BTreeMap<String, String>,
) {
    let version_of = |name: &str| resolved.iter().find(|package| package.name == name);
    for package in &config.packages {
        let name = &package.spec.name;
        match version_of(name) {
            Some(found) => output.detail(&format!("{name} {}", found.version)),
            None => output.detail(&format!("{name}: the run image has it already")),
        }
    }
    let requested: Vec<&str> = config.packages.iter().map(|p| p.spec.name.as_str()).collect();
    let mut dependencies: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for package in resolved.iter().filter(|p| !requested.contains(&p.name.as_str())) {
        let by = pulled_in_by
            .get(&package.name)
            .map_or("several packages", String::as_str);
        dependencies.entry(by).or_default().push(&package.name);
    }
    let count: usize = dependencies.values().map(Vec::len).sum();
    if count == 0 {
        output.step("No dependencies the run image lacks");
        return;
    }
    output.step(&format!("{count} dependencies the run image lacks"));
    for name in &requested {
        if let Some(names) = dependencies.get(name) {
            output.detail(&format!("for {name} ({}): {}", names.len(), names.join(", ")));
        }
    }
    if let Some(names) = dependencies.get("several packages") {
        output.detail(&format!("for several packages: {}", names.join(", ")));
    }
    for package in resolved {
        if let Some(old) = &package.replaces {
            output.detail(&format!(
                "{} {} replaces the run image's {old} (a newer version is required)",
                package.name, package.version
            ));
        }
    }
}

/// A warning (not a failure: the quota can be raised) when the run image and the packages alone
/// exceed the quota.
pub(crate) fn warn_about_quota(context: &BuildContext<AptBuildpack>, output: &mut BuildOutput, added: u64) {
    let quota_mib = context
        .platform
        .env()
        .get_string_lossy(QUOTA_ENV)
        .and_then(|value| value.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_QUOTA_MIB);
    let run_image = std::fs::read_to_string(RUN_IMAGE_STATUS)
        .map(|status| debian::installed_size(&status))
        .unwrap_or_default();
    let total = run_image + added;
    if total > quota_mib * 1024 * 1024 {
        output.warning(&format!(
            "The Debian packages add {}: with the run image ({}) the image is at least {}, more than \
             Toolforge's image quota of {quota_mib} MiB.\nThe image may be refused at deployment: ask \
             for fewer packages, or ask the Toolforge admins for a larger quota.",
            disk::format_size(added),
            disk::format_size(run_image),
            disk::format_size(total),
        ));
    }
}
