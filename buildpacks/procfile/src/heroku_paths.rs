//! Procfiles written for Heroku's Cloud Native Buildpacks may start a binary by the path where
//! Heroku's buildpack put it (`/layers/heroku_go/go_target/bin/mytool`). Here the binaries are on
//! PATH, in this builder's own layers, so such a path would not exist in the image: the command
//! is rewritten to the bare name, with a warning saying to change the Procfile.

use crate::procfile::Procfile;

/// The directories of Heroku's buildpacks whose files are on PATH, and what puts them there.
const HEROKU_BIN_DIRS: [(&str, &str); 1] = [("/layers/heroku_go/go_target/bin/", "Heroku's Go buildpack")];

/// A command that was rewritten.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Rewritten {
    pub(crate) name: String,
    pub(crate) line: usize,
    pub(crate) path: String,
    pub(crate) binary: String,
    pub(crate) by: &'static str,
}

/// Rewrites every Heroku path in the commands of `procfile` to the binary's name.
pub(crate) fn rewrite(procfile: &mut Procfile) -> Vec<Rewritten> {
    let mut rewritten = Vec::new();
    for process in &mut procfile.processes {
        for (dir, by) in HEROKU_BIN_DIRS {
            while let Some(start) = process.command.find(dir) {
                let rest = &process.command[start + dir.len()..];
                let binary: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .collect();
                if binary.is_empty() {
                    break;
                }
                let path = format!("{dir}{binary}");
                process.command.replace_range(start..start + path.len(), &binary);
                rewritten.push(Rewritten {
                    name: process.name.clone(),
                    line: process.line,
                    path,
                    binary,
                    by,
                });
            }
        }
    }
    rewritten
}

impl Rewritten {
    /// The build log's warning.
    pub(crate) fn warning(&self) -> String {
        format!(
            "Procfile line {line} starts `{path}`, where {by} puts binaries. This builder puts them on \
             PATH, so the `{name}` process runs `{binary}` instead.\nChange the Procfile to name the \
             binary alone: `{name}: {binary} …`.",
            line = self.line,
            path = self.path,
            by = self.by,
            name = self.name,
            binary = self.binary
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn herokus_go_paths_become_names() {
        let mut procfile: Procfile = "web: /layers/heroku_go/go_target/bin/mytool --port $PORT\n\
                                      job: cd /tmp && /layers/heroku_go/go_target/bin/updater; echo done\n\
                                      other: ./bin/other\n"
            .parse()
            .unwrap();
        let rewritten = rewrite(&mut procfile);
        assert_eq!(
            procfile
                .processes
                .iter()
                .map(|p| p.command.as_str())
                .collect::<Vec<_>>(),
            [
                "mytool --port $PORT",
                "cd /tmp && updater; echo done",
                "./bin/other"
            ]
        );
        assert_eq!(rewritten.len(), 2);
        assert_eq!((rewritten[1].name.as_str(), rewritten[1].line), ("job", 2));
        insta::assert_snapshot!(rewritten[0].warning());
    }

    #[test]
    fn a_bare_directory_is_left_alone() {
        let mut procfile: Procfile = "web: ls /layers/heroku_go/go_target/bin/\n".parse().unwrap();
        assert!(rewrite(&mut procfile).is_empty());
        assert_eq!(
            procfile.processes[0].command,
            "ls /layers/heroku_go/go_target/bin/"
        );
    }
}
