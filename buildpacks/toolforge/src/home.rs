//! Which HOME a process gets.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Home {
    /// `[org.toolforge.env] keep-home = true`: HOME stays as the image and platform have it.
    Keep,
    /// The tool's NFS data directory, as the grid had it.
    ToolDataDir(PathBuf),
    /// A private writable directory, created before the process starts.
    Private(PathBuf),
}

/// Why the tool data directory was not used, for the one log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    Missing(PathBuf),
    ReadOnly(PathBuf),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing(dir) => write!(f, "TOOL_DATA_DIR {} is not a mounted directory", dir.display()),
            Self::ReadOnly(dir) => write!(f, "TOOL_DATA_DIR {} is not writable", dir.display()),
        }
    }
}

/// Decides HOME from the switch, `TOOL_DATA_DIR` and what the file system says about it.
pub fn decide(
    keep_home: bool,
    tool_data_dir: Option<&Path>,
    uid: u32,
    is_dir: impl Fn(&Path) -> bool,
    writable: impl Fn(&Path) -> bool,
) -> (Home, Option<Unusable>) {
    if keep_home {
        return (Home::Keep, None);
    }
    let private = Home::Private(PathBuf::from(format!("/tmp/home-{uid}")));
    match tool_data_dir.filter(|dir| !dir.as_os_str().is_empty()) {
        None => (private, None),
        Some(dir) if !is_dir(dir) => (private, Some(Unusable::Missing(dir.to_path_buf()))),
        Some(dir) if !writable(dir) => (private, Some(Unusable::ReadOnly(dir.to_path_buf()))),
        Some(dir) => (Home::ToolDataDir(dir.to_path_buf()), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide_with(tool_data_dir: Option<&str>, is_dir: bool, writable: bool) -> (Home, Option<Unusable>) {
        decide(
            false,
            tool_data_dir.map(Path::new),
            52503,
            |_| is_dir,
            |_| writable,
        )
    }

    #[test]
    fn tool_data_dir_when_mounted_and_writable() {
        assert_eq!(
            decide_with(Some("/data/project/mytool"), true, true),
            (Home::ToolDataDir(PathBuf::from("/data/project/mytool")), None)
        );
    }

    #[test]
    fn private_home_otherwise_with_the_reason() {
        let private = Home::Private(PathBuf::from("/tmp/home-52503"));
        assert_eq!(decide_with(None, false, false), (private.clone(), None));
        assert_eq!(decide_with(Some(""), false, false), (private.clone(), None));
        assert_eq!(
            decide_with(Some("/data/project/mytool"), false, false),
            (
                private.clone(),
                Some(Unusable::Missing(PathBuf::from("/data/project/mytool")))
            )
        );
        let (home, reason) = decide_with(Some("/data/project/mytool"), true, false);
        assert_eq!(home, private);
        assert_eq!(
            reason.map(|reason| reason.to_string()).as_deref(),
            Some("TOOL_DATA_DIR /data/project/mytool is not writable")
        );
    }

    #[test]
    fn keep_home_wins() {
        assert_eq!(
            decide(true, Some(Path::new("/data/project/x")), 1, |_| true, |_| true),
            (Home::Keep, None)
        );
    }
}
