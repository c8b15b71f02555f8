//! Languages the builder does not build, end to end: an app of such a language fails the build
//! with the file that makes it one and the way out, instead of becoming an image whose
//! processes cannot start; `[org.toolforge.languages]` names must be languages of the builder.

use toolforge_tests::{Image, Run, app_with_files, build};

/// A Ruby tool as a new user would try it: the Procfile runs what no buildpack installed.
const RUBY_APP: [(&str, &[u8]); 3] = [
    ("Gemfile", b"source \"https://rubygems.org\"\ngem \"sinatra\"\n"),
    ("app.rb", b"require \"sinatra\"\nget(\"/\") { \"hi\" }\n"),
    ("Procfile", b"web: bundle exec ruby app.rb -p $PORT\n"),
];

#[test]
fn a_ruby_app_with_a_procfile_fails_with_its_file_and_the_way_out() {
    let app = app_with_files(&RUBY_APP);
    let built = build(app.path(), "unbuilt-ruby");
    drop(Image(built.image.clone()));
    built.assert_one_error(&[
        "! ERROR: Ruby apps are not built by this builder yet (Gemfile)",
        "This app has Gemfile, which makes it a Ruby app",
        "Go, Java, Node.js, PHP, Python apps",
        "[org.toolforge.languages]",
        "allow-unbuilt-languages = true",
    ]);
}

#[test]
fn allow_unbuilt_languages_builds_from_the_procfile_alone() {
    let mut files = RUBY_APP.to_vec();
    files.retain(|(name, _)| *name != "Procfile");
    files.push((
        "Procfile",
        b"web: bundle exec ruby app.rb -p $PORT\nhello: echo hello from the Procfile\n",
    ));
    files.push((
        "project.toml",
        b"[org.toolforge.build]\nallow-unbuilt-languages = true\n",
    ));
    let app = app_with_files(&files);
    let built = build(app.path(), "unbuilt-allowed").expect_success();
    let image = Image(built.image.clone());
    built.assert_output_contains("No language was built: the processes run the run image's programs");
    built.assert_output_contains("Gemfile (Ruby) is not built: allow-unbuilt-languages is set");
    let (code, stdout, stderr) = Run::toolforge(&image.0).launcher(&["hello"]).output();
    assert_eq!(
        (code, stdout.as_str()),
        (0, "hello from the Procfile\n"),
        "{stderr}"
    );
}

#[test]
fn a_stated_language_the_builder_lacks_names_its_line() {
    let app = app_with_files(&[
        ("Procfile", b"web: bundle exec ruby app.rb -p $PORT\n"),
        (
            "project.toml",
            b"[_]\nschema-version = \"0.2\"\n\n[org.toolforge.languages]\nruby = true\n",
        ),
    ]);
    let built = build(app.path(), "stated-ruby");
    drop(Image(built.image.clone()));
    built.assert_one_error(&[
        "! ERROR: Ruby apps are not built by this builder yet (project.toml, line 5)",
        "project.toml states `ruby = true`",
    ]);
}
