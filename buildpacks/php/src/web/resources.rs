//! What this container may use, read from its cgroup (v2, else v1), and the PHP-FPM worker count
//! that follows from it. The cgroup root is a parameter so the tests can fake both versions.
//!
//! - cgroup v2: `memory.max` and `cpu.max`
//!   (<https://docs.kernel.org/admin-guide/cgroup-v2.html#memory-interface-files>,
//!   <https://docs.kernel.org/admin-guide/cgroup-v2.html#cpu-interface-files>). With the
//!   container's own cgroup namespace (the default on v2) these are the container's limits.
//! - cgroup v1: `memory/memory.limit_in_bytes`
//!   (<https://docs.kernel.org/admin-guide/cgroup-v1/memory.html>) and
//!   `cpu/cpu.cfs_quota_us` / `cpu.cfs_period_us` (<https://docs.kernel.org/scheduler/sched-bwc.html>).

use nix::sched::{CpuSet, sched_getaffinity};
use nix::unistd::Pid;
use std::fmt;
use std::fs;
use std::path::Path;

pub(crate) const CGROUP_ROOT: &str = "/sys/fs/cgroup";
pub(crate) const MEMINFO: &str = "/proc/meminfo";

const MIB: u64 = 1024 * 1024;
/// cgroup v1 writes "no limit" as a huge number (2^63 rounded down to a page,
/// 9223372036854771712); anything from 2^62 bytes up is taken as that.
const NO_LIMIT: u64 = 1 << 62;
const MIN_WORKERS: u32 = 2;
const MAX_WORKERS: u32 = 32;
/// What a PHP-FPM worker is budgeted. Heroku divides the dyno's memory by PHP's `memory_limit`
/// the same way; a hello-world worker measured ~21 MiB RSS, so real apps have room.
const DEFAULT_WORKER_MIB: u64 = 128;

/// The memory the PHP-FPM workers share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Memory {
    CgroupLimit(u64),
    /// No cgroup limit: the machine's `MemTotal`.
    MachineTotal(u64),
    Unknown,
}

impl Memory {
    pub(crate) fn detect(cgroup_root: &Path, meminfo: &Path) -> Self {
        if let Some(limit) = cgroup_memory_limit(cgroup_root) {
            return Self::CgroupLimit(limit);
        }
        fs::read_to_string(meminfo)
            .ok()
            .and_then(|text| mem_total(&text))
            .map_or(Self::Unknown, Self::MachineTotal)
    }

    fn bytes(self) -> Option<u64> {
        match self {
            Self::CgroupLimit(bytes) | Self::MachineTotal(bytes) => Some(bytes),
            Self::Unknown => None,
        }
    }
}

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CgroupLimit(bytes) => write!(f, "memory limit {} MiB", bytes / MIB),
            Self::MachineTotal(bytes) => {
                write!(f, "no memory limit, {} MiB in the machine", bytes / MIB)
            }
            Self::Unknown => write!(f, "memory unknown"),
        }
    }
}

fn cgroup_memory_limit(root: &Path) -> Option<u64> {
    let text = fs::read_to_string(root.join("memory.max"))
        .or_else(|_| fs::read_to_string(root.join("memory/memory.limit_in_bytes")))
        .ok()?;
    memory_limit(&text)
}

/// A limit file's bytes; `max` (v2) and huge values (v1) are no limit.
fn memory_limit(text: &str) -> Option<u64> {
    text.trim().parse().ok().filter(|bytes| *bytes < NO_LIMIT)
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find_map(|line| line.strip_prefix("MemTotal:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

/// The CPUs this process may run on, like `nproc`: its affinity mask. Not
/// `std::thread::available_parallelism`, which divides the cgroup quota already, rounding down.
pub(crate) fn available_cpus() -> u32 {
    sched_getaffinity(Pid::from_raw(0)).map_or(1, |set| {
        let count = (0..CpuSet::count())
            .filter(|cpu| set.is_set(*cpu).unwrap_or(false))
            .count();
        u32::try_from(count).unwrap_or(u32::MAX)
    })
}

/// The CPUs this container may use: its cgroup quota rounded up, at most `available`
/// ([`available_cpus`]), at least 1. nginx's `worker_processes auto` and Apache's defaults would
/// size themselves from the node's CPUs instead.
pub(crate) fn cpus(cgroup_root: &Path, available: u32) -> u32 {
    cgroup_cpu_quota(cgroup_root)
        .map_or(available, |quota| quota.min(available))
        .max(1)
}

fn cgroup_cpu_quota(root: &Path) -> Option<u32> {
    if let Ok(text) = fs::read_to_string(root.join("cpu.max")) {
        let mut fields = text.split_whitespace();
        return quota_cpus(fields.next()?, fields.next()?);
    }
    let quota = fs::read_to_string(root.join("cpu/cpu.cfs_quota_us")).ok()?;
    let period = fs::read_to_string(root.join("cpu/cpu.cfs_period_us")).ok()?;
    quota_cpus(quota.trim(), period.trim())
}

/// `quota / period`, rounded up; `max` (v2) and `-1` (v1) are no quota.
fn quota_cpus(quota: &str, period: &str) -> Option<u32> {
    let quota: u64 = quota.parse().ok()?;
    let period: u64 = period.parse().ok().filter(|period| *period > 0)?;
    u32::try_from(quota.div_ceil(period)).ok()
}

/// `WEB_CONCURRENCY`, when it is a positive integer.
pub(crate) fn web_concurrency(value: Option<&str>) -> Option<u32> {
    value?.trim().parse().ok().filter(|workers| *workers > 0)
}

/// The memory divided by `PHP_FPM_WORKER_MIB` (a positive integer, else 128) MiB, from 2 to 32.
pub(crate) fn workers_for(memory: Memory, worker_mib: Option<&str>) -> u32 {
    let worker_mib = worker_mib
        .and_then(|mib| mib.trim().parse().ok())
        .filter(|mib| *mib > 0)
        .unwrap_or(DEFAULT_WORKER_MIB);
    memory.bytes().map_or(MIN_WORKERS, |bytes| {
        let workers = bytes / worker_mib.saturating_mul(MIB);
        u32::try_from(workers)
            .unwrap_or(MAX_WORKERS)
            .clamp(MIN_WORKERS, MAX_WORKERS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const GIB: u64 = 1024 * MIB;

    /// A fake `/sys/fs/cgroup` with the given files.
    fn cgroup(files: &[(&str, &str)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for (file, content) in files {
            let path = root.path().join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        }
        root
    }

    fn meminfo(root: &Path) -> PathBuf {
        let path = root.join("meminfo");
        fs::write(&path, "MemTotal:        8000000 kB\nMemFree:  1 kB\n").unwrap();
        path
    }

    fn memory(files: &[(&str, &str)]) -> Memory {
        let root = cgroup(files);
        Memory::detect(root.path(), &meminfo(root.path()))
    }

    #[test]
    fn memory_cgroup_v2() {
        assert_eq!(
            memory(&[("memory.max", "536870912\n")]),
            Memory::CgroupLimit(512 * MIB)
        );
        assert_eq!(
            memory(&[("memory.max", "max\n")]),
            Memory::MachineTotal(8_000_000 * 1024)
        );
    }

    #[test]
    fn memory_cgroup_v1() {
        let limit = [("memory/memory.limit_in_bytes", "1073741824\n")];
        assert_eq!(memory(&limit), Memory::CgroupLimit(GIB));
        let unlimited = [("memory/memory.limit_in_bytes", "9223372036854771712\n")];
        assert_eq!(memory(&unlimited), Memory::MachineTotal(8_000_000 * 1024));
    }

    #[test]
    fn memory_without_cgroup_or_meminfo() {
        let root = cgroup(&[]);
        assert_eq!(
            Memory::detect(root.path(), &root.path().join("none")),
            Memory::Unknown
        );
    }

    #[test]
    fn cpus_cgroup_v2() {
        let cpus_of = |cpu_max| cpus(cgroup(&[("cpu.max", cpu_max)]).path(), 8);
        assert_eq!(cpus_of("150000 100000\n"), 2);
        assert_eq!(cpus_of("50000 100000\n"), 1);
        assert_eq!(cpus_of("max 100000\n"), 8);
        assert_eq!(cpus_of("2000000 100000\n"), 8);
    }

    #[test]
    fn cpus_cgroup_v1() {
        let cpus_of = |quota| {
            let root = cgroup(&[
                ("cpu/cpu.cfs_quota_us", quota),
                ("cpu/cpu.cfs_period_us", "100000\n"),
            ]);
            cpus(root.path(), 4)
        };
        assert_eq!(cpus_of("250000\n"), 3);
        assert_eq!(cpus_of("-1\n"), 4);
    }

    #[test]
    fn available_cpus_are_counted() {
        assert!(available_cpus() >= 1);
    }

    #[test]
    fn cpus_without_cgroup() {
        assert_eq!(cpus(cgroup(&[]).path(), 6), 6);
        assert_eq!(cpus(cgroup(&[("cpu.max", "0 100000")]).path(), 6), 1);
    }

    #[test]
    fn workers_from_memory() {
        let workers = |bytes| workers_for(Memory::CgroupLimit(bytes), None);
        assert_eq!(workers(128 * MIB), 2);
        assert_eq!(workers(256 * MIB), 2);
        assert_eq!(workers(512 * MIB), 4);
        assert_eq!(workers(GIB), 8);
        assert_eq!(workers(2 * GIB), 16);
        assert_eq!(workers(8 * GIB), 32);
        assert_eq!(workers_for(Memory::MachineTotal(64 * GIB), None), 32);
        assert_eq!(workers_for(Memory::Unknown, None), 2);
    }

    #[test]
    fn workers_with_another_budget() {
        let one_gib = Memory::CgroupLimit(GIB);
        assert_eq!(workers_for(one_gib, Some("256")), 4);
        assert_eq!(workers_for(one_gib, Some("0")), 8);
        assert_eq!(workers_for(one_gib, Some("lots")), 8);
    }

    #[test]
    fn web_concurrency_when_positive() {
        assert_eq!(web_concurrency(Some("7")), Some(7));
        assert_eq!(web_concurrency(Some("64")), Some(64));
        assert_eq!(web_concurrency(Some("0")), None);
        assert_eq!(web_concurrency(Some("many")), None);
        assert_eq!(web_concurrency(None), None);
    }
}
