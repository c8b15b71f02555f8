//! The Procfile format, as specified in this buildpack's README.

/// The longest process name: a DNS label, so a name can become a Kubernetes name unchanged.
pub(crate) const MAX_NAME_LENGTH: usize = 63;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Procfile {
    /// In the order of the file; a duplicate name keeps its first position and the last command.
    pub(crate) processes: Vec<Process>,
    pub(crate) duplicates: Vec<Duplicate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Process {
    pub(crate) name: String,
    pub(crate) command: String,
    pub(crate) line: usize,
}

/// A name defined twice: the later line wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Duplicate {
    pub(crate) name: String,
    pub(crate) first_line: usize,
    pub(crate) winning_line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// A line that is neither blank, a comment, nor `NAME: COMMAND`.
    NotAProcess { line: usize, text: String },
    /// `NAME` breaks the naming rules.
    InvalidName {
        line: usize,
        text: String,
        name: String,
        problem: NameProblem,
    },
    /// `NAME:` with nothing after it.
    EmptyCommand { line: usize, text: String, name: String },
    /// Only blank lines and comments.
    NoProcesses,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameProblem {
    /// Spaces between the name and the colon, or inside the name.
    ContainsWhitespace,
    /// A character other than ASCII letters, digits, `-` and `_`.
    InvalidCharacter(char),
    /// Starts or ends with `-` or `_`.
    BadEdge,
    TooLong,
}

impl Procfile {
    pub(crate) fn process(&self, name: &str) -> Option<&Process> {
        self.processes.iter().find(|process| process.name == name)
    }
}

impl std::str::FromStr for Procfile {
    type Err = ParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let input = input.strip_prefix('\u{feff}').unwrap_or(input);
        let mut processes: Vec<Process> = Vec::new();
        let mut duplicates = Vec::new();

        for (index, raw_line) in input.split('\n').enumerate() {
            let line = index + 1;
            let text = raw_line.strip_suffix('\r').unwrap_or(raw_line);
            let content = text.trim_start_matches([' ', '\t']);
            if content.trim().is_empty() || content.starts_with('#') {
                continue;
            }
            let process = parse_process(line, text, content)?;
            if let Some(existing) = processes.iter_mut().find(|p| p.name == process.name) {
                duplicates.push(Duplicate {
                    name: process.name.clone(),
                    first_line: existing.line,
                    winning_line: line,
                });
                *existing = process;
            } else {
                processes.push(process);
            }
        }

        if processes.is_empty() {
            return Err(ParseError::NoProcesses);
        }
        Ok(Self {
            processes,
            duplicates,
        })
    }
}

fn parse_process(line: usize, text: &str, content: &str) -> Result<Process, ParseError> {
    let Some((name, command)) = content.split_once(':') else {
        return Err(ParseError::NotAProcess {
            line,
            text: text.to_string(),
        });
    };
    if name.is_empty() {
        return Err(ParseError::NotAProcess {
            line,
            text: text.to_string(),
        });
    }
    if let Some(problem) = name_problem(name) {
        return Err(ParseError::InvalidName {
            line,
            text: text.to_string(),
            name: name.to_string(),
            problem,
        });
    }
    let command = command.trim_matches([' ', '\t']);
    if command.is_empty() {
        return Err(ParseError::EmptyCommand {
            line,
            text: text.to_string(),
            name: name.to_string(),
        });
    }
    Ok(Process {
        name: name.to_string(),
        command: command.to_string(),
        line,
    })
}

fn name_problem(name: &str) -> Option<NameProblem> {
    if name.chars().any(char::is_whitespace) {
        return Some(NameProblem::ContainsWhitespace);
    }
    if let Some(invalid) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Some(NameProblem::InvalidCharacter(invalid));
    }
    if name.starts_with(['-', '_']) || name.ends_with(['-', '_']) {
        return Some(NameProblem::BadEdge);
    }
    if name.len() > MAX_NAME_LENGTH {
        return Some(NameProblem::TooLong);
    }
    None
}

/// A valid name close to an invalid one, for the error's fix.
pub(crate) fn suggest_name(name: &str) -> String {
    let mut suggestion: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while suggestion.contains("--") {
        suggestion = suggestion.replace("--", "-");
    }
    let trimmed = suggestion.trim_matches('-');
    let mut suggestion: String = trimmed.chars().take(MAX_NAME_LENGTH).collect();
    while suggestion.ends_with('-') {
        suggestion.pop();
    }
    if suggestion.is_empty() {
        "web".to_string()
    } else {
        suggestion
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Result<Procfile, ParseError> {
        input.parse()
    }

    fn names_and_commands(procfile: &Procfile) -> Vec<(&str, &str)> {
        procfile
            .processes
            .iter()
            .map(|p| (p.name.as_str(), p.command.as_str()))
            .collect()
    }

    #[test]
    fn processes_in_file_order() {
        let procfile = parse("web: gunicorn app:app\nworker: python worker.py\n").unwrap();
        assert_eq!(
            names_and_commands(&procfile),
            [("web", "gunicorn app:app"), ("worker", "python worker.py")]
        );
        assert_eq!(procfile.processes[1].line, 2);
        assert!(procfile.duplicates.is_empty());
    }

    #[test]
    fn comments_blank_lines_and_indentation() {
        let input = "# processes\n\n   \t\n  web: run   \n\t# indented comment\nclock:tick\n";
        let procfile = parse(input).unwrap();
        assert_eq!(names_and_commands(&procfile), [("web", "run"), ("clock", "tick")]);
        assert_eq!(procfile.processes[0].line, 4);
    }

    #[test]
    fn crlf_bom_and_no_final_newline() {
        let procfile = parse("\u{feff}web: a\r\n\r\nworker: b").unwrap();
        assert_eq!(names_and_commands(&procfile), [("web", "a"), ("worker", "b")]);
    }

    #[test]
    fn commands_keep_colons_hashes_and_inner_spacing() {
        let procfile = parse("web: echo a: b  # not a comment").unwrap();
        assert_eq!(
            names_and_commands(&procfile),
            [("web", "echo a: b  # not a comment")]
        );
    }

    #[test]
    fn names_are_kept_as_written() {
        let procfile = parse("My_Job: run\nweb-2: x\n9: y").unwrap();
        assert_eq!(
            names_and_commands(&procfile),
            [("My_Job", "run"), ("web-2", "x"), ("9", "y")]
        );
    }

    #[test]
    fn duplicates_last_wins_in_first_position() {
        let procfile = parse("web: old\nworker: w\nweb: new\n").unwrap();
        assert_eq!(names_and_commands(&procfile), [("web", "new"), ("worker", "w")]);
        assert_eq!(
            procfile.duplicates,
            [Duplicate {
                name: "web".into(),
                first_line: 1,
                winning_line: 3
            }]
        );
        assert_eq!(procfile.process("web").unwrap().line, 3);
    }

    #[test]
    fn empty_and_comment_only_files_have_no_processes() {
        for input in ["", "\n\n", "# nothing\n  # here\n", "\u{feff}"] {
            assert_eq!(parse(input), Err(ParseError::NoProcesses), "{input:?}");
        }
    }

    #[test]
    fn lines_without_colon() {
        assert_eq!(
            parse("# ok\nweb gunicorn app:app"),
            Err(ParseError::InvalidName {
                line: 2,
                text: "web gunicorn app:app".into(),
                name: "web gunicorn app".into(),
                problem: NameProblem::ContainsWhitespace
            })
        );
        assert_eq!(
            parse("web\n"),
            Err(ParseError::NotAProcess {
                line: 1,
                text: "web".into()
            })
        );
        assert_eq!(
            parse(": run"),
            Err(ParseError::NotAProcess {
                line: 1,
                text: ": run".into()
            })
        );
    }

    #[test]
    fn invalid_names() {
        let problem = |input: &str| match parse(input) {
            Err(ParseError::InvalidName { problem, .. }) => problem,
            other => panic!("{input:?}: {other:?}"),
        };
        assert_eq!(problem("web : run"), NameProblem::ContainsWhitespace);
        assert_eq!(problem("wéb: run"), NameProblem::InvalidCharacter('é'));
        assert_eq!(problem("w.e.b: run"), NameProblem::InvalidCharacter('.'));
        assert_eq!(problem("-web: run"), NameProblem::BadEdge);
        assert_eq!(problem("web_: run"), NameProblem::BadEdge);
        assert_eq!(problem(&format!("{}: run", "a".repeat(64))), NameProblem::TooLong);
        assert!(parse(&format!("{}: run", "a".repeat(63))).is_ok());
    }

    #[test]
    fn empty_commands() {
        for input in ["web:", "web:   \t", "web:\r\n"] {
            assert_eq!(
                parse(input),
                Err(ParseError::EmptyCommand {
                    line: 1,
                    text: input.trim_end_matches(['\r', '\n']).into(),
                    name: "web".into()
                }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest_name("My Job"), "my-job");
        assert_eq!(suggest_name("wéb"), "w-b");
        assert_eq!(suggest_name("-web_"), "web");
        assert_eq!(suggest_name("w.e.b"), "w-e-b");
        assert_eq!(suggest_name("???"), "web");
        assert_eq!(suggest_name(&"a".repeat(70)).len(), 63);
    }
}
