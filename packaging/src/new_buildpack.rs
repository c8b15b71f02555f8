//! `cargo packaging new-buildpack NAME`: a new buildpack crate from the templates in
//! `packaging/templates/new-buildpack/` (detect and build, one cached launch layer, errors with a
//! snapshot test, a README with the app contract), its fixture app and end-to-end test, and its
//! place in the workspace and in the builder. What it makes builds, joins the builder and passes
//! its tests unchanged (`tests/tests/scaffold.rs` proves it).
//!
//! Templates are text with placeholders: `@name@` (`my-lang`), `@name_snake@` (`my_lang`),
//! `@Type@` (`MyLang`) and `@Title@` (`My Lang`).

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// Each file made, as its path in the workspace and its template (both with placeholders).
const FILES: [(&str, &str); 11] = [
    (
        "buildpacks/@name@/Cargo.toml",
        include_str!("../templates/new-buildpack/buildpack/Cargo.toml.tmpl"),
    ),
    (
        "buildpacks/@name@/buildpack.toml",
        include_str!("../templates/new-buildpack/buildpack/buildpack.toml.tmpl"),
    ),
    (
        "buildpacks/@name@/README.md",
        include_str!("../templates/new-buildpack/buildpack/README.md.tmpl"),
    ),
    (
        "buildpacks/@name@/src/main.rs",
        include_str!("../templates/new-buildpack/buildpack/src/main.rs.tmpl"),
    ),
    (
        "buildpacks/@name@/src/config.rs",
        include_str!("../templates/new-buildpack/buildpack/src/config.rs.tmpl"),
    ),
    (
        "buildpacks/@name@/src/errors.rs",
        include_str!("../templates/new-buildpack/buildpack/src/errors.rs.tmpl"),
    ),
    (
        "buildpacks/@name@/src/layers/mod.rs",
        include_str!("../templates/new-buildpack/buildpack/src/layers/mod.rs.tmpl"),
    ),
    (
        "buildpacks/@name@/src/layers/program.rs",
        include_str!("../templates/new-buildpack/buildpack/src/layers/program.rs.tmpl"),
    ),
    // The snapshot of errors.rs's test, so that the new crate's tests pass as they are (insta
    // fails on a missing snapshot in CI).
    (
        "buildpacks/@name@/src/snapshots/toolforge_@name_snake@__errors__tests__invalid_config.snap",
        include_str!("../templates/new-buildpack/buildpack/src/snapshots/errors_invalid_config.snap.tmpl"),
    ),
    (
        "tests/fixtures/@name@-app/@name@.toml",
        include_str!("../templates/new-buildpack/fixture/app.toml.tmpl"),
    ),
    (
        "tests/tests/@name@.rs",
        include_str!("../templates/new-buildpack/e2e-test.rs.tmpl"),
    ),
];

/// A valid buildpack name, with the spellings the templates need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// # Errors
    ///
    /// Unless `name` is `[a-z][a-z0-9-]*`.
    pub fn parse(name: &str) -> anyhow::Result<Self> {
        let mut chars = name.chars();
        let valid = chars.next().is_some_and(|first| first.is_ascii_lowercase())
            && chars.all(|char| char.is_ascii_lowercase() || char.is_ascii_digit() || char == '-');
        if !valid {
            bail!(
                "`{name}` is not a buildpack name: use lowercase ASCII letters, digits and `-`, \
                 starting with a letter (`go`, `java-maven`)"
            );
        }
        Ok(Self(name.to_string()))
    }

    /// `my_lang`: the crate's name in Rust paths (and insta's snapshot file names).
    fn snake(&self) -> String {
        self.0.replace('-', "_")
    }

    /// `MyLang`: the prefix of the crate's type names.
    fn type_prefix(&self) -> String {
        self.words().concat()
    }

    /// `My Lang`: the name in the build log and in prose.
    fn title(&self) -> String {
        self.words().join(" ")
    }

    fn words(&self) -> Vec<String> {
        self.0
            .split('-')
            .filter(|word| !word.is_empty())
            .map(|word| {
                let (first, rest) = word.split_at(1);
                format!("{}{rest}", first.to_ascii_uppercase())
            })
            .collect()
    }

    /// `template` with the placeholders replaced.
    #[must_use]
    pub fn render(&self, template: &str) -> String {
        template
            .replace("@name_snake@", &self.snake())
            .replace("@name@", &self.0)
            .replace("@Type@", &self.type_prefix())
            .replace("@Title@", &self.title())
    }
}

/// What [`create`] did, for the user.
#[derive(Debug)]
pub struct Created {
    /// New files, relative to the workspace.
    pub files: Vec<PathBuf>,
    /// Files changed to register the buildpack, relative to the workspace.
    pub edited: Vec<PathBuf>,
}

const WORKSPACE_MANIFEST: &str = "Cargo.toml";
const BUILDER_TOML: &str = "builder/builder.toml";

/// Creates the buildpack `name` in the workspace at `root`, its fixture and end-to-end test, and
/// registers it in the workspace members and the builder.
///
/// # Errors
///
/// When the name is invalid or taken, or the files cannot be read or written; nothing is written
/// when the name is refused.
pub fn create(root: &Path, name: &str) -> anyhow::Result<Created> {
    let name = Name::parse(name)?;
    let files: Vec<(PathBuf, String)> = FILES
        .iter()
        .map(|(path, template)| (PathBuf::from(name.render(path)), name.render(template)))
        .collect();
    let crate_dir = PathBuf::from(name.render("buildpacks/@name@"));
    let taken: Vec<String> = std::iter::once(&crate_dir)
        .chain(files.iter().map(|(path, _)| path))
        .filter(|path| root.join(path).exists())
        .map(|path| path.display().to_string())
        .collect();
    if !taken.is_empty() {
        bail!(
            "the name `{}` is taken: {} exists already (choose another name)",
            name.0,
            taken.join(", ")
        );
    }

    // Both edits first: a manifest they cannot be made to refuses the name before anything is written.
    let manifest = read(root, WORKSPACE_MANIFEST)?;
    let manifest = add_workspace_member(&manifest, &name.render("buildpacks/@name@"))
        .with_context(|| format!("cannot add the buildpack to {WORKSPACE_MANIFEST}"))?;
    let builder = read(root, BUILDER_TOML)?;
    let builder = add_to_builder(&builder, &name)
        .with_context(|| format!("cannot add the buildpack to {BUILDER_TOML}"))?;

    for (path, contents) in &files {
        let path = root.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, contents).with_context(|| format!("cannot write {}", path.display()))?;
    }
    for (file, contents) in [(WORKSPACE_MANIFEST, manifest), (BUILDER_TOML, builder)] {
        let path = root.join(file);
        std::fs::write(&path, contents).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(Created {
        files: files.into_iter().map(|(path, _)| path).collect(),
        edited: vec![PathBuf::from(WORKSPACE_MANIFEST), PathBuf::from(BUILDER_TOML)],
    })
}

/// Formats the new Rust files with rustfmt and the workspace's rustfmt.toml: the templates are
/// formatted for short names, and a long name can make a line too long.
///
/// # Errors
///
/// When rustfmt cannot run or fails.
pub fn format(root: &Path, created: &Created) -> anyhow::Result<()> {
    let files: Vec<PathBuf> = created
        .files
        .iter()
        .filter(|file| file.extension().is_some_and(|extension| extension == "rs"))
        .map(|file| root.join(file))
        .collect();
    crate::command::run(
        std::process::Command::new("rustfmt")
            .args(["--edition", "2024"])
            .args(&files),
    )
}

/// What to do after [`create`], for the user.
#[must_use]
pub fn next_steps(name: &Name) -> String {
    name.render(
        "Next steps:\n  \
         1. Name your language's files in buildpacks/@name@/buildpack.toml ([metadata.toolforge.language]) and replace \
         the example layer with what the language needs; keep the README's app contract true.\n  \
         2. cargo test -p toolforge-@name@                 (unit and snapshot tests)\n  \
         3. cargo packaging builder                         (packages it into the builder)\n  \
         4. cargo test -p toolforge-tests --test @name@     (end to end, with the fixture tests/fixtures/@name@-app)\n  \
         5. Add it to README.md's table of buildpacks, and commit (Cargo.lock too).\n\
         libtoolforge/README.md, \"Writing a buildpack\", explains the pieces.",
    )
}

fn read(root: &Path, file: &str) -> anyhow::Result<String> {
    let path = root.join(file);
    std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))
}

/// `manifest` with `member` in its `[workspace] members` list, where sorting puts it; the rest of
/// the text (comments included) as it was.
///
/// # Errors
///
/// When the list is not one entry a line, or already has `member`.
pub fn add_workspace_member(manifest: &str, member: &str) -> anyhow::Result<String> {
    let lines: Vec<&str> = manifest.lines().collect();
    let start = lines
        .iter()
        .position(|line| line.trim() == "members = [")
        .context("no `members = [` line")?;
    let end = lines[start..]
        .iter()
        .position(|line| line.trim() == "]")
        .map(|offset| start + offset)
        .context("no `]` line closing `members`")?;
    let entry = |line: &str| line.trim().trim_end_matches(',').trim_matches('"').to_string();
    if lines[start + 1..end].iter().any(|line| entry(line) == member) {
        bail!("`{member}` is a member already");
    }
    let at = lines[start + 1..end]
        .iter()
        .position(|line| entry(line).as_str() > member)
        .map_or(end, |offset| start + 1 + offset);
    let new_line = format!("    \"{member}\",");
    Ok(joined(&lines, at, &new_line, manifest.ends_with('\n')))
}

/// `builder` (the text of builder/builder.toml) with the buildpack: its `[[buildpacks]]` entry
/// before the entries of the buildpacks that end groups, and its order group
/// `[apt (optional), NAME, procfile (optional), toolforge]` just before the last group, the
/// Procfile-only one, which must stay last.
///
/// # Errors
///
/// When the file does not have that shape, or names the buildpack already.
pub fn add_to_builder(builder: &str, name: &Name) -> anyhow::Result<String> {
    let id = name.render("toolforge/@name@");
    if builder.contains(&format!("\"{id}\"")) {
        bail!("it has {id} already");
    }
    let lines: Vec<&str> = builder.lines().collect();
    let entry_at = (0..lines.len())
        .find(|&index| {
            lines[index].trim() == "[[buildpacks]]"
                && lines.get(index + 1).is_some_and(|next| {
                    ["id = \"toolforge/procfile\"", "id = \"toolforge/toolforge\""].contains(&next.trim())
                })
        })
        .context("no [[buildpacks]] entry for toolforge/procfile or toolforge/toolforge")?;
    let last_group = lines
        .iter()
        .rposition(|line| line.trim() == "[[order]]")
        .context("no [[order]]")?;
    // Before the comment that describes the last group, not between the two.
    let group_at = (0..last_group)
        .rev()
        .take_while(|&index| lines[index].starts_with('#'))
        .last()
        .unwrap_or(last_group);
    let entry =
        name.render("[[buildpacks]]\nid = \"toolforge/@name@\"\nuri = \"libcnb:toolforge/@name@\"\n\n");
    let group = name.render(
        "# A @Title@ tool: what toolforge/@name@ detects (buildpacks/@name@/README.md); its Procfile,\n\
         # when it has one, names the processes.\n\
         [[order]]\n\
         [[order.group]]\nid = \"toolforge/apt\"\noptional = true\n\n\
         [[order.group]]\nid = \"toolforge/@name@\"\n\n\
         [[order.group]]\nid = \"toolforge/procfile\"\noptional = true\n\n\
         [[order.group]]\nid = \"toolforge/toolforge\"\n\n",
    );
    // The group comes after the entry, so inserting it first keeps the entry's index valid.
    let with_group: Vec<&str> = lines[..group_at]
        .iter()
        .copied()
        .chain(group.lines())
        .chain(lines[group_at..].iter().copied())
        .collect();
    Ok(joined(&with_group, entry_at, &entry, builder.ends_with('\n')))
}

/// `lines` joined, with `insert` (one or more lines) before line `at`.
fn joined(lines: &[&str], at: usize, insert: &str, final_newline: bool) -> String {
    let mut text: String = lines[..at]
        .iter()
        .copied()
        .chain(insert.lines())
        .chain(lines[at..].iter().copied())
        .collect::<Vec<_>>()
        .join("\n");
    if final_newline {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::{Table, Value};

    #[test]
    fn names_are_lowercase_words() {
        for valid in ["go", "java-maven", "r2", "x"] {
            assert!(Name::parse(valid).is_ok(), "{valid}");
        }
        for invalid in ["", "Go", "2go", "-go", "go_lang", "go lang", "gö", "go/lang"] {
            let error = Name::parse(invalid).unwrap_err().to_string();
            assert!(error.contains("is not a buildpack name"), "{invalid}: {error}");
        }
    }

    #[test]
    fn spellings() {
        let name = Name::parse("java-maven2").unwrap();
        assert_eq!(
            name.render("@name@ @name_snake@ @Type@ @Title@"),
            "java-maven2 java_maven2 JavaMaven2 Java Maven2"
        );
    }

    #[test]
    fn templates_have_no_placeholder_left() {
        let name = Name::parse("my-lang").unwrap();
        for (path, template) in FILES {
            let rendered = format!("{}\n{}", name.render(path), name.render(template));
            for placeholder in ["@name@", "@name_snake@", "@Type@", "@Title@"] {
                assert!(!rendered.contains(placeholder), "{path}: {placeholder}");
            }
        }
    }

    /// The guide in libtoolforge/README.md shows the scaffold's code as it is made.
    #[test]
    fn the_guide_shows_the_code_made() {
        let guide = include_str!("../../libtoolforge/README.md");
        let name = Name::parse("greeting").unwrap();
        for (path, template) in FILES {
            if ["main.rs", "config.rs", "errors.rs", "program.rs"]
                .iter()
                .any(|file| path.ends_with(file))
            {
                let code = name.render(template);
                let production = code.split("#[cfg(test)]").next().unwrap().trim_end();
                assert!(
                    guide.contains(&format!("```rust\n{production}\n```")),
                    "libtoolforge/README.md does not show {} as made:\n{production}",
                    name.render(path)
                );
            }
        }
        let e2e = name.render(include_str!("../templates/new-buildpack/e2e-test.rs.tmpl"));
        assert!(guide.contains(e2e.trim_end()), "{e2e}");
    }

    #[test]
    fn the_member_goes_where_sorting_puts_it() {
        let manifest = "[workspace]\n# the crates\nmembers = [\n    \"buildpacks/apt\",\n    \"buildpacks/php\",\n    \"libtoolforge\",\n]\n\n[workspace.package]\n";
        let edited = add_workspace_member(manifest, "buildpacks/go").unwrap();
        assert_eq!(
            edited,
            "[workspace]\n# the crates\nmembers = [\n    \"buildpacks/apt\",\n    \"buildpacks/go\",\n    \"buildpacks/php\",\n    \"libtoolforge\",\n]\n\n[workspace.package]\n"
        );
        assert!(add_workspace_member(&edited, "buildpacks/go").is_err());
        let last = add_workspace_member(manifest, "tests").unwrap();
        assert!(
            last.contains("    \"libtoolforge\",\n    \"tests\",\n]"),
            "{last}"
        );
    }

    #[test]
    fn the_workspace_manifest_takes_a_member() {
        let manifest = include_str!("../../Cargo.toml");
        let edited = add_workspace_member(manifest, "buildpacks/ruby").unwrap();
        let members = edited.parse::<Table>().unwrap()["workspace"]["members"].clone();
        let members: Vec<&str> = members
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(members.contains(&"buildpacks/ruby"), "{members:?}");
        assert_eq!(edited.lines().count(), manifest.lines().count() + 1);
    }

    /// The ids of each order group of a builder.toml.
    fn groups(builder: &str) -> Vec<Vec<String>> {
        let table = builder.parse::<Table>().unwrap();
        table["order"]
            .as_array()
            .unwrap()
            .iter()
            .map(|order| {
                order["group"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|buildpack| buildpack["id"].as_str().unwrap().to_string())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_builder_takes_the_buildpack_and_its_group_before_the_procfile_only_one() {
        let builder = include_str!("../../builder/builder.toml");
        let name = Name::parse("ruby").unwrap();
        let edited = add_to_builder(builder, &name).unwrap();

        let table = edited.parse::<Table>().unwrap();
        let entries: Vec<&str> = table["buildpacks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["id"].as_str().unwrap())
            .collect();
        let ruby = entries.iter().position(|id| *id == "toolforge/ruby").unwrap();
        assert_eq!(entries[ruby + 1], "toolforge/procfile", "{entries:?}");
        assert_eq!(
            table["buildpacks"][ruby]["uri"].as_str(),
            Some("libcnb:toolforge/ruby")
        );

        let before = groups(builder);
        let after = groups(&edited);
        assert_eq!(after.len(), before.len() + 1);
        assert_eq!(after[..before.len() - 1], before[..before.len() - 1]);
        assert_eq!(
            after[before.len() - 1],
            [
                "toolforge/apt",
                "toolforge/ruby",
                "toolforge/procfile",
                "toolforge/toolforge"
            ]
        );
        assert_eq!(after.last(), before.last(), "the Procfile-only group stays last");
        let optional = &table["order"][before.len() - 1]["group"];
        assert_eq!(optional[0]["optional"].as_bool(), Some(true));
        assert_eq!(optional[1].get("optional"), None);

        // Comments stay, and the last group's comment stays with it.
        for line in builder.lines().filter(|line| line.starts_with('#')) {
            assert!(edited.contains(line), "{line}");
        }
        assert!(
            edited.contains(
                "uri = \"libcnb:toolforge/java\"\n\n[[buildpacks]]\nid = \"toolforge/ruby\"\n\
                 uri = \"libcnb:toolforge/ruby\"\n\n[[buildpacks]]\nid = \"toolforge/procfile\"\n"
            ),
            "{edited}"
        );
        assert!(
            edited.contains("id = \"toolforge/toolforge\"\n\n# A Ruby tool: what toolforge/ruby detects"),
            "{edited}"
        );
        assert!(
            edited.contains("id = \"toolforge/toolforge\"\n\n# A tool with a Procfile and nothing else: processes that need only the run image (and the\n# Debian packages it lists).\n[[order]]"),
            "{edited}"
        );
        assert!(add_to_builder(&edited, &name).is_err());
    }

    #[test]
    fn creates_everything_once() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("builder")).unwrap();
        std::fs::write(root.path().join("Cargo.toml"), include_str!("../../Cargo.toml")).unwrap();
        std::fs::write(
            root.path().join(BUILDER_TOML),
            include_str!("../../builder/builder.toml"),
        )
        .unwrap();
        let created = create(root.path(), "my-lang").unwrap();
        assert_eq!(created.files.len(), FILES.len());
        for file in &created.files {
            assert!(root.path().join(file).is_file(), "{}", file.display());
        }
        let main = std::fs::read_to_string(root.path().join("buildpacks/my-lang/src/main.rs")).unwrap();
        assert!(main.contains("pub(crate) struct MyLangBuildpack;"), "{main}");
        assert!(
            root.path()
                .join(
                    "buildpacks/my-lang/src/snapshots/toolforge_my_lang__errors__tests__invalid_config.snap"
                )
                .is_file()
        );

        let error = create(root.path(), "my-lang").unwrap_err().to_string();
        assert!(
            error.starts_with(
                "the name `my-lang` is taken: buildpacks/my-lang, buildpacks/my-lang/Cargo.toml"
            ),
            "{error}"
        );
        let error = create(root.path(), "My-lang").unwrap_err().to_string();
        assert!(error.contains("is not a buildpack name"), "{error}");
    }
}
