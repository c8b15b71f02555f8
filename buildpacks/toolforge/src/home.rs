//! Which HOME a process gets.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Home {
    /// `[org.toolforge.env] keep-home = true`: HOME stays as the image and platform have it.
    Keep,
    /// The tool's NFS data directory, as the grid had it.
    ToolDataDir(PathBuf),
    /// The home directory of the uid's account (`/etc/passwd`, SSSD or LDAP), which is writable:
    /// the build's own user, root, or a tool whose home is mounted.
    Account(PathBuf),
    /// A private writable directory, created before the process starts.
    Private(PathBuf),
}

impl Home {
    /// The directory HOME is set to, unless it is kept.
    #[must_use]
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Self::Keep => None,
            Self::ToolDataDir(dir) | Self::Account(dir) | Self::Private(dir) => Some(dir),
        }
    }
}

/// Why the tool data directory was not used, for the one log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    Missing(PathBuf),
    ReadOnly(PathBuf),
    /// The check did not finish (a hung NFS mount), for this reason.
    NoAnswer(PathBuf, String),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing(dir) => write!(f, "TOOL_DATA_DIR {} is not a mounted directory", dir.display()),
            Self::ReadOnly(dir) => write!(f, "TOOL_DATA_DIR {} is not writable", dir.display()),
            Self::NoAnswer(dir, reason) => write!(f, "TOOL_DATA_DIR {} {reason}", dir.display()),
        }
    }
}

/// What the decision looks at, gathered by the exec.d program.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub keep_home: bool,
    pub uid: u32,
    /// TOOL_DATA_DIR as the platform set it.
    pub tool_data_dir: Option<&'a Path>,
    /// The account's home directory, when the uid has an account.
    pub account_home: Option<&'a Path>,
    /// Where private homes are made: `/tmp`.
    pub temp_dir: &'a Path,
}

/// Decides HOME: the tool data directory when it is a mounted, writable directory; else the
/// account's home when that is a writable directory; else `<temp_dir>/home-<uid>`. Also returns why a
/// TOOL_DATA_DIR that was set is not used.
pub fn decide(facts: Facts<'_>, usable: impl Fn(&Path) -> Result<(), Unusable>) -> (Home, Option<Unusable>) {
    if facts.keep_home {
        return (Home::Keep, None);
    }
    let mut unusable = None;
    if let Some(dir) = facts.tool_data_dir.filter(|dir| !dir.as_os_str().is_empty()) {
        match usable(dir) {
            Ok(()) => return (Home::ToolDataDir(dir.to_path_buf()), None),
            Err(reason) => unusable = Some(reason),
        }
    }
    if let Some(dir) = facts.account_home.filter(|dir| dir != &Path::new("/"))
        && usable(dir).is_ok()
    {
        return (Home::Account(dir.to_path_buf()), unusable);
    }
    (Home::Private(private_home(facts.temp_dir, facts.uid)), unusable)
}

/// The private home of a uid that has no usable one.
#[must_use]
pub fn private_home(temp_dir: &Path, uid: u32) -> PathBuf {
    temp_dir.join(format!("home-{uid}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOOL: &str = "/data/project/mytool";

    fn facts<'a>(tool_data_dir: Option<&'a str>, account_home: Option<&'a str>) -> Facts<'a> {
        Facts {
            keep_home: false,
            uid: 52503,
            tool_data_dir: tool_data_dir.map(Path::new),
            account_home: account_home.map(Path::new),
            temp_dir: Path::new("/tmp"),
        }
    }

    /// Directories as the tests' file system has them.
    fn usable(dir: &Path) -> Result<(), Unusable> {
        match dir.to_str() {
            Some(TOOL | "/home/toolforge" | "/root") => Ok(()),
            Some("/data/project/readonly") => Err(Unusable::ReadOnly(dir.to_path_buf())),
            _ => Err(Unusable::Missing(dir.to_path_buf())),
        }
    }

    #[test]
    fn tool_data_dir_when_mounted_and_writable() {
        assert_eq!(
            decide(facts(Some(TOOL), Some(TOOL)), usable),
            (Home::ToolDataDir(PathBuf::from(TOOL)), None)
        );
        assert_eq!(
            decide(facts(Some(TOOL), None), usable),
            (Home::ToolDataDir(PathBuf::from(TOOL)), None)
        );
    }

    #[test]
    fn the_accounts_home_when_writable() {
        assert_eq!(
            decide(facts(None, Some("/home/toolforge")), usable),
            (Home::Account(PathBuf::from("/home/toolforge")), None)
        );
        // An LDAP home that is not mounted.
        assert_eq!(
            decide(
                facts(None, Some(TOOL.replace("mytool", "other").as_str())),
                usable
            )
            .0,
            Home::Private(PathBuf::from("/tmp/home-52503"))
        );
    }

    #[test]
    fn private_home_otherwise_with_the_reason() {
        let private = Home::Private(PathBuf::from("/tmp/home-52503"));
        assert_eq!(decide(facts(None, None), usable), (private.clone(), None));
        assert_eq!(decide(facts(Some(""), None), usable), (private.clone(), None));
        assert_eq!(
            decide(facts(Some("/data/project/gone"), None), usable),
            (
                private.clone(),
                Some(Unusable::Missing(PathBuf::from("/data/project/gone")))
            )
        );
        let (home, reason) = decide(facts(Some("/data/project/readonly"), Some("/")), usable);
        assert_eq!(home, private);
        assert_eq!(
            reason.map(|reason| reason.to_string()).as_deref(),
            Some("TOOL_DATA_DIR /data/project/readonly is not writable")
        );
    }

    #[test]
    fn keep_home_wins() {
        let mut keep = facts(Some(TOOL), None);
        keep.keep_home = true;
        assert_eq!(decide(keep, usable), (Home::Keep, None));
    }
}
