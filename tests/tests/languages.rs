//! Languages the builder does not build, end to end: an app of such a language fails the build
//! with the file that makes it one and the way out, instead of becoming an image whose
//! processes cannot start; `[org.toolforge.languages]` names must be languages of the builder.

use toolforge_tests::{Image, Run, app_with_files, build};

/// A Java tool as a new user would try it: the Procfile starts a jar nothing builds.
const JAVA_APP: [(&str, &[u8]); 3] = [
    (
        "pom.xml",
        b"<project>\n  <modelVersion>4.0.0</modelVersion>\n  <groupId>org.example</groupId>\n  \
          <artifactId>mytool</artifactId>\n  <version>1.0</version>\n</project>\n",
    ),
    (
        "Main.java",
        b"public class Main { public static void main(String[] args) { System.out.println(\"hello\"); } }\n",
    ),
    ("Procfile", b"web: java -jar target/mytool-1.0.jar\n"),
];

#[test]
fn a_java_app_with_a_procfile_fails_with_its_file_and_the_way_out() {
    let app = app_with_files(&JAVA_APP);
    let built = build(app.path(), "unbuilt-java");
    drop(Image(built.image.clone()));
    built.assert_one_error(&[
        "! ERROR: Java apps are not built by this builder yet (pom.xml)",
        "This app has pom.xml, which makes it a Java app",
        "Go, Node.js, PHP, Python apps",
        "[org.toolforge.languages]",
        "allow-unbuilt-languages = true",
    ]);
}

#[test]
fn a_ruby_app_with_a_procfile_fails_with_its_file() {
    let app = app_with_files(&[
        ("Gemfile", b"source \"https://rubygems.org\"\ngem \"sinatra\"\n"),
        ("app.rb", b"require \"sinatra\"\nget(\"/\") { \"hi\" }\n"),
        ("Procfile", b"web: bundle exec ruby app.rb -p $PORT\n"),
    ]);
    let built = build(app.path(), "unbuilt-ruby");
    drop(Image(built.image.clone()));
    built.assert_one_error(&[
        "! ERROR: Ruby apps are not built by this builder yet (Gemfile)",
        "allow-unbuilt-languages = true",
    ]);
}

#[test]
fn allow_unbuilt_languages_builds_from_the_procfile_alone() {
    let mut files = JAVA_APP.to_vec();
    files.retain(|(name, _)| *name != "Procfile");
    files.push((
        "Procfile",
        b"web: java -jar target/mytool-1.0.jar\nhello: echo hello from the Procfile\n",
    ));
    files.push((
        "project.toml",
        b"[org.toolforge.build]\nallow-unbuilt-languages = true\n",
    ));
    let app = app_with_files(&files);
    let built = build(app.path(), "unbuilt-allowed").expect_success();
    let image = Image(built.image.clone());
    built.assert_output_contains("No language was built: the processes run the run image's programs");
    built.assert_output_contains("pom.xml (Java) is not built: allow-unbuilt-languages is set");
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
        ("Procfile", b"web: java -jar target/mytool-1.0.jar\n"),
        (
            "project.toml",
            b"[_]\nschema-version = \"0.2\"\n\n[org.toolforge.languages]\njava = true\n",
        ),
    ]);
    let built = build(app.path(), "stated-java");
    drop(Image(built.image.clone()));
    built.assert_one_error(&[
        "! ERROR: Java apps are not built by this builder yet (project.toml, line 5)",
        "project.toml states `java = true`",
    ]);
}
