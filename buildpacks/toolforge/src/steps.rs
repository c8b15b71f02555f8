//! The app's own build steps, `[[org.toolforge.build.steps]]` in project.toml, run after every
//! language's buildpack (so every runtime and dependency is on PATH) with libtoolforge's
//! [`build_step`]; and the warning for pack's inline buildpacks, which Toolforge's build service
//! does not run.

use crate::ToolforgeBuildpack;
use crate::errors::ToolforgeBuildpackError;
use libcnb::Platform;
use libcnb::build::BuildContext;
use libcnb::data::layer::LayerName;
use libtoolforge::build_env::BuildEnv;
use libtoolforge::build_step::{self, BuildStep, Run};
use libtoolforge::output::BuildOutput;
use libtoolforge::project_toml::ProjectToml;
use serde::Deserialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// One `[[org.toolforge.build.steps]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct StepConfig {
    pub(crate) name: Spanned<String>,
    /// A shell command line, run with bash in the app's directory.
    pub(crate) run: String,
    /// The language whose tools the step needs (`python`): it must be one the build built.
    /// Steps run after every language anyway.
    #[serde(default)]
    pub(crate) after: Option<Spanned<String>>,
    /// Globs of app files; the step runs again only when they change. None: it always runs.
    #[serde(default)]
    pub(crate) inputs: Vec<String>,
    /// Variables of the build environment whose values count as inputs.
    #[serde(default)]
    pub(crate) env: Vec<String>,
    /// Paths the step makes in the app, restored from the cache when the inputs are unchanged.
    #[serde(default)]
    pub(crate) outputs: Vec<String>,
    /// The step may write a directory kept in the image: `$TOOLFORGE_STEP_LAYER`.
    #[serde(default)]
    pub(crate) launch: bool,
}

/// What is wrong with the steps as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StepsError {
    /// Two steps have the same name.
    Duplicate { name: String, line: Option<usize> },
    /// `after` names a language the build did not build.
    NotBuilt {
        step: String,
        language: String,
        line: Option<usize>,
        built: Vec<String>,
    },
}

/// Checks the steps, then runs each in order, in the build's environment.
pub(crate) fn run(
    context: &BuildContext<ToolforgeBuildpack>,
    output: &mut BuildOutput,
    steps: &[StepConfig],
    built: &[String],
    project: Option<&ProjectToml>,
) -> libcnb::Result<(), ToolforgeBuildpackError> {
    check(steps, built, project).map_err(ToolforgeBuildpackError::Steps)?;
    if steps.is_empty() {
        return Ok(());
    }
    // The process's environment is the build's: every earlier buildpack's build layers.
    let env = BuildEnv::new(context.platform.env(), &context.app_dir);
    let layers = earlier_layers_key(&context.layers_dir);
    for step in steps {
        let name = step.name.get_ref();
        let step = BuildStep {
            name: name.clone(),
            run: Run::Shell(step.run.clone()),
            inputs: step.inputs.clone(),
            input_env: step.env.clone(),
            key: vec![layers.clone()],
            outputs: step.outputs.clone(),
            launch: step.launch,
        };
        build_step::run(context, output, &env, layer_name(name), &step)?;
    }
    Ok(())
}

/// What the earlier buildpacks' layers were made from: the sha256 of every layer's metadata
/// (`/layers/<buildpack>/<layer>.toml`: the keys they are cached by, with runtime versions,
/// lockfile digests and Debian packages), so that a step's cached outputs are not reused with
/// another runtime or other dependencies than they were made with.
fn earlier_layers_key(own_layers_dir: &Path) -> String {
    let mut files = Vec::new();
    if let Some(all) = own_layers_dir.parent() {
        for buildpack in sorted_entries(all) {
            if buildpack == own_layers_dir || !buildpack.is_dir() {
                continue;
            }
            files.extend(sorted_entries(&buildpack).into_iter().filter(|path| {
                path.extension().is_some_and(|extension| extension == "toml")
                    && !["launch.toml", "build.toml", "store.toml"]
                        .iter()
                        .any(|name| path.file_name().is_some_and(|file| file == *name))
            }));
        }
    }
    let mut text = String::new();
    for file in files {
        let _ = writeln!(text, "{}", file.display());
        text.push_str(&std::fs::read_to_string(&file).unwrap_or_default());
    }
    let digest = libtoolforge::download::sha256(text.as_bytes());
    format!("the build's layers {}", &digest[..12.min(digest.len())])
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|entry| entry.path()).collect())
        .unwrap_or_default();
    entries.sort();
    entries
}

/// `step-<name>`, with what a layer name cannot hold replaced.
fn layer_name(step: &str) -> LayerName {
    let safe: String = step
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("step-{safe}")
        .parse()
        .unwrap_or_else(|_| libcnb::data::layer_name!("step"))
}

fn check(steps: &[StepConfig], built: &[String], project: Option<&ProjectToml>) -> Result<(), StepsError> {
    let line = |span: std::ops::Range<usize>| project.and_then(|project| project.line_at(span.start));
    for (index, step) in steps.iter().enumerate() {
        if steps[..index]
            .iter()
            .any(|earlier| earlier.name.get_ref() == step.name.get_ref())
        {
            return Err(StepsError::Duplicate {
                name: step.name.get_ref().clone(),
                line: line(step.name.span()),
            });
        }
        if let Some(after) = &step.after
            && !built
                .iter()
                .any(|language| language.eq_ignore_ascii_case(after.get_ref()))
        {
            return Err(StepsError::NotBuilt {
                step: step.name.get_ref().clone(),
                language: after.get_ref().clone(),
                line: line(after.span()),
                built: built.to_vec(),
            });
        }
    }
    Ok(())
}

/// pack's inline buildpacks (`[[io.buildpacks.group]]` with `script`): their ids and scripts,
/// and the line of the first.
pub(crate) fn inline_buildpacks(project: &ProjectToml) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for path in [
        ["io", "buildpacks", "group"].as_slice(),
        &["io", "buildpacks", "pre", "group"],
        &["io", "buildpacks", "post", "group"],
    ] {
        let Ok(Some(groups)) = project.table::<Vec<toml::Table>>(path) else {
            continue;
        };
        for group in groups {
            let Some(script) = group.get("script").and_then(toml::Value::as_table) else {
                continue;
            };
            let inline = script
                .get("inline")
                .and_then(toml::Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_string();
            let id = group
                .get("id")
                .and_then(toml::Value::as_str)
                .unwrap_or("inline")
                .to_string();
            found.push((id, inline));
        }
    }
    found
}

/// The warning for inline buildpacks, with the equivalent steps to paste.
pub(crate) fn inline_warning(inline: &[(String, String)]) -> String {
    let mut text = format!(
        "project.toml declares {} inline buildpack{} ([[io.buildpacks.group]] with script.inline). \
         pack runs them, but Toolforge's build service runs the lifecycle, which ignores them: \
         they do not run there.\n\nThe same as build steps, which run everywhere:\n",
        inline.len(),
        if inline.len() == 1 { "" } else { "s" }
    );
    for (id, script) in inline {
        let name = id.rsplit('/').next().unwrap_or(id);
        let _ = write!(
            text,
            "\n[[org.toolforge.build.steps]]\nname = \"{name}\"\nrun = '''\n{script}\n'''\n"
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Build {
        #[serde(default)]
        steps: Vec<StepConfig>,
    }

    fn steps(text: &str) -> (ProjectToml, Vec<StepConfig>) {
        let project = ProjectToml::parse(text.to_string()).unwrap();
        let build: Build = project.table(&["org", "toolforge", "build"]).unwrap().unwrap();
        (project, build.steps)
    }

    #[test]
    fn names_are_unique_and_after_names_a_built_language() {
        let (project, found) = steps(
            "[[org.toolforge.build.steps]]\nname = \"a\"\nrun = \"true\"\n\n[[org.toolforge.build.steps]]\nname = \"a\"\nrun = \"false\"\n",
        );
        assert_eq!(
            check(&found, &[], Some(&project)),
            Err(StepsError::Duplicate {
                name: "a".into(),
                line: Some(6)
            })
        );
        let (project, found) =
            steps("[[org.toolforge.build.steps]]\nname = \"a\"\nrun = \"true\"\nafter = \"nodejs\"\n");
        let error = check(&found, &["Python".to_string()], Some(&project)).unwrap_err();
        assert!(
            matches!(error, StepsError::NotBuilt { line: Some(4), .. }),
            "{error:?}"
        );
        assert_eq!(
            check(&found, &["Node.js".into(), "nodejs".into()], Some(&project)),
            Ok(())
        );
    }

    #[test]
    fn unknown_keys_name_their_line() {
        let project = ProjectToml::parse(
            "[[org.toolforge.build.steps]]\nname = \"a\"\nrun = \"true\"\ninput = [\"*.po\"]\n".into(),
        )
        .unwrap();
        let error = project
            .table::<crate::config::BuildConfig>(&["org", "toolforge", "build"])
            .unwrap_err();
        assert!(
            error.message().render().contains("line 4"),
            "{}",
            error.message().render()
        );
    }

    #[test]
    fn inline_buildpacks_get_their_steps() {
        let project = ProjectToml::parse(
            "[_]\nschema-version = \"0.2\"\n\n[[io.buildpacks.group]]\nuri = \"heroku/python\"\n\n[[io.buildpacks.group]]\nid = \"me/compile\"\n\n[io.buildpacks.group.script]\napi = \"0.10\"\ninline = \"python manage.py compilemessages\"\n".into(),
        )
        .unwrap();
        let inline = inline_buildpacks(&project);
        assert_eq!(
            inline,
            [(
                "me/compile".to_string(),
                "python manage.py compilemessages".to_string()
            )]
        );
        insta::assert_snapshot!(inline_warning(&inline));
    }

    #[test]
    fn layer_names_are_safe() {
        assert_eq!(layer_name("compile messages!").as_str(), "step-compile-messages-");
    }
}
