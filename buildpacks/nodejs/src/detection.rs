//! Whether this buildpack builds the app.

use crate::package_json::PackageJson;
use libtoolforge::languages::{self, Language, Registry};
use std::path::Path;

/// Detection: the app's stated languages when it has `[org.toolforge.languages]`; otherwise a
/// package.json, unless the app is another language's (Python, PHP: any the builder's `registry`
/// has) and the package.json has no build script (`toolforge-build`, `heroku-postbuild` or
/// `build`): a stray file from an editor or linter, and the app stays a Python or PHP app without
/// Node.js.
pub(crate) fn detects(app_dir: &Path, nodejs: &Language, registry: &Registry) -> bool {
    languages::detects(app_dir, nodejs, || {
        nodejs.has_files(app_dir)
            && (!languages::another_language_detected(app_dir, nodejs, registry)
                || PackageJson::read(app_dir)
                    .ok()
                    .flatten()
                    .is_some_and(|package| package.build_script().is_some()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tests::app;

    fn nodejs() -> Language {
        languages::declared_in(include_str!("../buildpack.toml")).unwrap()
    }

    #[test]
    fn detection() {
        let registry = Registry::new([nodejs(), Language::new("python", "Python", &["requirements.txt"])]);
        let detects = |dir: &Path| detects(dir, &nodejs(), &registry);
        assert!(detects(app(&[("package.json", "{}")]).path()));
        assert!(!detects(app(&[("requirements.txt", "")]).path()));
        // A stray package.json in a Python app: no.
        let stray = app(&[
            ("package.json", "{\"devDependencies\": {}}"),
            ("requirements.txt", ""),
        ]);
        assert!(!detects(stray.path()));
        let front_end = app(&[
            ("package.json", "{\"scripts\": {\"build\": \"vite build\"}}"),
            ("requirements.txt", ""),
        ]);
        assert!(detects(front_end.path()));
        // Heroku's build hook is a build script too; its other hooks are not.
        let heroku_front_end = app(&[
            (
                "package.json",
                "{\"scripts\": {\"heroku-postbuild\": \"vite build\"}}",
            ),
            ("requirements.txt", ""),
        ]);
        assert!(detects(heroku_front_end.path()));
        let heroku_prebuild_only = app(&[
            ("package.json", "{\"scripts\": {\"heroku-prebuild\": \"echo\"}}"),
            ("requirements.txt", ""),
        ]);
        assert!(!detects(heroku_prebuild_only.path()));
        // Stated languages win.
        let stated = app(&[
            ("package.json", "{}"),
            ("project.toml", "[org.toolforge.languages]\npython = true\n"),
        ]);
        assert!(!detects(stated.path()));
        let stated = app(&[("project.toml", "[org.toolforge.languages]\nnodejs = true\n")]);
        assert!(detects(stated.path()));
    }
}
