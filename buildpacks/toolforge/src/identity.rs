//! The tool's passwd and group entries, and the files libnss-wrapper serves them from.

use std::fmt::Write as _;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// `tools.mytool` for `/data/project/mytool`, Toolforge's naming of tool accounts.
#[must_use]
pub fn tool_account(tool_data_dir: &Path) -> Option<String> {
    let tool = tool_data_dir.strip_prefix("/data/project").ok()?;
    let mut components = tool.components();
    let name = components.next()?.as_os_str().to_str()?;
    (components.next().is_none() && !name.is_empty() && !name.contains(':')).then(|| format!("tools.{name}"))
}

/// The entry used when nothing knows the uid: named after the tool when its data directory says
/// which tool it is, else after the uid.
#[must_use]
pub fn synthetic(uid: u32, gid: u32, tool_data_dir: Option<&Path>, home: &str) -> (User, Group) {
    let name = tool_data_dir
        .and_then(tool_account)
        .unwrap_or_else(|| format!("uid{uid}"));
    let user = User {
        name: name.clone(),
        uid,
        gid,
        home: home.to_string(),
        shell: "/bin/bash".to_string(),
    };
    let group = Group {
        name,
        gid,
        members: Vec::new(),
    };
    (user, group)
}

/// The image's `/etc/passwd` with the tool's entry added, for `NSS_WRAPPER_PASSWD`.
#[must_use]
pub fn passwd_file(image_passwd: &str, user: &User) -> String {
    let mut text = non_empty_lines(image_passwd);
    let _ = writeln!(
        text,
        "{}:x:{}:{}:Toolforge tool {}:{}:{}",
        sanitize(&user.name),
        user.uid,
        user.gid,
        sanitize(&user.name),
        sanitize(&user.home),
        sanitize(&user.shell)
    );
    text
}

/// The image's `/etc/group` with the tool's groups added, for `NSS_WRAPPER_GROUP`.
#[must_use]
pub fn group_file(image_group: &str, groups: &[Group]) -> String {
    let mut text = non_empty_lines(image_group);
    for group in groups {
        let members: Vec<String> = group.members.iter().map(|member| sanitize(member)).collect();
        let _ = writeln!(
            text,
            "{}:x:{}:{}",
            sanitize(&group.name),
            group.gid,
            members.join(",")
        );
    }
    text
}

fn non_empty_lines(text: &str) -> String {
    let mut lines = String::new();
    for line in text.lines().filter(|line| !line.is_empty()) {
        lines.push_str(line);
        lines.push('\n');
    }
    lines
}

/// Keeps values from breaking the colon-separated, one-entry-a-line format. LDAP's values have
/// been refused already when they hold such characters (see `ldap`); what is left to strip comes
/// from the synthetic account, whose name and home are made from TOOL_DATA_DIR and HOME, paths
/// that may hold any byte but `/` and NUL, and whose passwd line is only a label for the uid.
fn sanitize(value: &str) -> String {
    value
        .chars()
        .filter(|c| !matches!(c, ':' | '\n' | '\r' | '\0' | ','))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_accounts() {
        assert_eq!(
            tool_account(Path::new("/data/project/mytool")).as_deref(),
            Some("tools.mytool")
        );
        assert_eq!(tool_account(Path::new("/data/project/mytool/sub")), None);
        assert_eq!(tool_account(Path::new("/srv/mytool")), None);
        assert_eq!(tool_account(Path::new("/data/project")), None);
    }

    #[test]
    fn values_that_would_break_the_files_lose_the_characters() {
        let (mut user, _) = synthetic(52503, 52503, None, "/data/project/my\rtool\0");
        user.name = "uid\r52503\0".into();
        assert_eq!(
            passwd_file("", &user),
            "uid52503:x:52503:52503:Toolforge tool uid52503:/data/project/mytool:/bin/bash\n"
        );
    }

    #[test]
    fn synthetic_entries() {
        let (user, group) = synthetic(
            52503,
            52503,
            Some(Path::new("/data/project/mytool")),
            "/data/project/mytool",
        );
        assert_eq!(user.name, "tools.mytool");
        assert_eq!(group.gid, 52503);
        let (user, _) = synthetic(52503, 52503, None, "/tmp/home-52503");
        assert_eq!(user.name, "uid52503");
        assert_eq!(user.home, "/tmp/home-52503");
    }

    #[test]
    fn files_keep_the_image_entries_and_add_the_tool() {
        let (user, group) = synthetic(
            52503,
            52503,
            Some(Path::new("/data/project/mytool")),
            "/data/project/mytool",
        );
        assert_eq!(
            passwd_file("root:x:0:0:root:/root:/bin/bash\n", &user),
            "root:x:0:0:root:/root:/bin/bash\n\
             tools.mytool:x:52503:52503:Toolforge tool tools.mytool:/data/project/mytool:/bin/bash\n"
        );
        let project = Group {
            name: "project-tools".into(),
            gid: 50380,
            members: vec!["tools.mytool".into(), "evil:name".into()],
        };
        assert_eq!(
            group_file("root:x:0:\n", &[group, project]),
            "root:x:0:\ntools.mytool:x:52503:\nproject-tools:x:50380:tools.mytool,evilname\n"
        );
    }
}
