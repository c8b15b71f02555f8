//! toolforge/java, end to end: real pack and lifecycle, JDKs from Debian's packages, Maven from
//! Maven Central (through the app's wrapper or the buildpack's inventory), dependencies from
//! Maven Central; images run as Toolforge runs tools (uid 52503, read-only root but /tmp).

use toolforge_tests::{
    Image, Run, WebContainer, app_with_files, fixture, fixture_copy, mirrored_build, mirrored_build_into,
    mirrored_build_ok,
};

/// A file of a throwaway app: its name and contents.
type AppFile<'a> = (&'a str, &'a [u8]);

fn serve(image: &Image) -> WebContainer {
    Run::toolforge(&image.0)
        .process("web")
        .read_only()
        .memory("512m")
        .start()
}

/// The `/` page of a Java fixture, asserting its name and Java release.
fn assert_java_index(web: &WebContainer, fixture: &str, java: u32) -> String {
    let (status, body) = web.get("/");
    assert_eq!(status, 200, "{body}\n{}", web.logs());
    assert!(body.contains(&format!("fixture={fixture}\n")), "{body}");
    assert!(body.contains(&format!("java={java}\n")), "{body}");
    body
}

/// A number the page reports (`max_heap_mib=384`).
fn reported(body: &str, name: &str) -> u64 {
    body.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {body}"))
}

/// The image has a Java runtime and no JDK, Maven or Maven repository: those are build-time only.
fn assert_runtime_only(image: &Image) {
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .read_only()
        .launcher(&[
            "java -version 2>&1 | grep 'openjdk version'; for tool in javac jar mvn; do command -v $tool || echo no $tool; done; ls /layers/toolforge_java",
        ])
        .output();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("openjdk version"), "{stdout}");
    assert!(stdout.contains("no javac\nno jar\nno mvn\n"), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("jre"), "{stdout}");
}

#[test]
fn spring_boot_with_the_wrapper_asking_for_17_runs_on_21_and_rebuilds_from_the_caches() {
    let app = fixture_copy("java-spring-boot");
    let (built, image) = mirrored_build_ok(app.path(), "java-spring-boot");
    built.assert_output_contains(
        "The app asks for Java 17 (java.runtime.version in system.properties, line 1)",
    );
    built.assert_output_contains("It builds with JDK 21");
    built.assert_output_contains("Maven from the app's wrapper (mvnw)");
    built.assert_output_contains(
        "Default process: web = `java -Dserver.port=${PORT:8000} -jar target/spring-boot-hello-1.0.0.jar`",
    );
    let web = serve(&image);
    let body = assert_java_index(&web, "java-spring-boot", 21);
    // The JVM trusts the system store (the stack's, with any extra authorities), and sizes its
    // heap from the container's limit: 75 % of 512 MiB.
    assert!(reported(&body, "trusted_authorities") > 100, "{body}");
    let heap = reported(&body, "max_heap_mib");
    assert!((300..=400).contains(&heap), "{body}");
    drop(web);
    assert_runtime_only(&image);

    // No change: the JDK, the runtime, the wrapper's Maven and the repository come back.
    let rebuilt = mirrored_build_into(app.path(), &image.0, &[]).expect_success();
    rebuilt.assert_output_contains("Reusing JDK 21 from the cache");
    rebuilt.assert_output_contains("Maven downloaded nothing");
    assert!(!rebuilt.output.contains("Downloading "), "{}", rebuilt.output);
    let web = serve(&image);
    assert_java_index(&web, "java-spring-boot", 21);
}

#[test]
fn shaded_javalin_with_a_procfile_on_21() {
    let (built, image) = mirrored_build_ok(&fixture("java-maven-javalin"), "java-javalin");
    built.assert_output_contains("Java 21 (21 from java.runtime.version in system.properties)");
    built.assert_output_contains("Maven 3.9.16");
    let web = serve(&image);
    assert_java_index(&web, "java-maven-javalin", 21);
    drop(web);
    // A job through the launcher: the runtime is on PATH for any command.
    let (code, stdout, stderr) = Run::toolforge(&image.0)
        .read_only()
        .launcher(&["java", "-XshowSettings:properties", "-version"])
        .output();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("java.specification.version = 21"), "{stderr}");
}

#[test]
fn plain_maven_asking_for_25_in_pom_xml() {
    let (built, image) = mirrored_build_ok(&fixture("java-maven-plain"), "java-plain");
    built.assert_output_contains("Java 25 (25 from <maven.compiler.release> in pom.xml)");
    let web = serve(&image);
    let body = assert_java_index(&web, "java-maven-plain", 25);
    assert!(reported(&body, "max_heap_mib") > 300, "{body}");
    drop(web);
    // The tool's own JAVA_TOOL_OPTIONS wins over the buildpack's default.
    let web = Run::toolforge(&image.0)
        .process("web")
        .read_only()
        .memory("512m")
        .env("JAVA_TOOL_OPTIONS", "-Xmx64m")
        .start();
    let body = assert_java_index(&web, "java-maven-plain", 25);
    assert!(reported(&body, "max_heap_mib") <= 64, "{body}");
}

#[test]
fn bad_java_apps_fail_with_one_error_each() {
    let plain = |name: &str| std::fs::read(fixture("java-maven-plain").join(name)).unwrap();
    let pom = plain("pom.xml");
    let source_path = "src/main/java/org/toolforge/fixture/Hello.java";
    let source = plain(source_path);
    let broken_source = String::from_utf8(source.clone())
        .unwrap()
        .replace("int port", "in port");
    let with_missing_dependency = String::from_utf8(pom.clone()).unwrap().replace(
        "  <build>",
        "  <dependencies>\n    <dependency>\n      <groupId>org.toolforge.nosuch</groupId>\n      <artifactId>nosuch</artifactId>\n      <version>1.0.0</version>\n    </dependency>\n  </dependencies>\n  <build>",
    );
    let procfile: AppFile = ("Procfile", b"web: java -jar target/hello.jar\n");
    let cases: [(Vec<AppFile>, &[&str]); 5] = [
        (
            vec![
                ("pom.xml", b"<project>\n  <modelVersion>4.0.0</modelVersion>\n  <properties>\n    <java.version>21</java.versio>\n  </properties>\n</project>\n"),
                procfile,
            ],
            &["pom.xml is not valid XML (pom.xml, line 4)", "java.versio"],
        ),
        (
            vec![("pom.xml", &pom), ("system.properties", b"# Heroku\njava.runtime.version=99\n"), procfile],
            &["Java version not available (system.properties, line 2)", "25, 21"],
        ),
        (
            vec![("pom.xml", &pom), (source_path, broken_source.as_bytes()), procfile],
            &["Java compile error (src/main/java/org/toolforge/fixture/Hello.java, line 10)", "cannot find symbol"],
        ),
        (
            vec![("pom.xml", with_missing_dependency.as_bytes()), (source_path, &source), procfile],
            &["A Maven dependency could not be resolved (pom.xml)", "org.toolforge.nosuch:nosuch:jar:1.0.0"],
        ),
        (
            vec![
                ("build.gradle", b"plugins { id 'application' }\n"),
                ("settings.gradle", b"rootProject.name = 'tool'\n"),
                ("gradlew", b"#!/bin/sh\nexec java -classpath gradle/wrapper/gradle-wrapper.jar org.gradle.wrapper.GradleWrapperMain \"$@\"\n"),
                ("gradle/wrapper/gradle-wrapper.properties", b"distributionUrl=https\\://services.gradle.org/distributions/gradle-8.14.3-bin.zip\n"),
                procfile,
            ],
            &["The Gradle wrapper is missing (gradle/wrapper/gradle-wrapper.jar)", "gradle wrapper"],
        ),
    ];
    for (files, expected) in cases {
        let app = app_with_files(&files);
        let built = mirrored_build(app.path(), "java-bad");
        drop(Image(built.image.clone()));
        built.assert_one_error(expected);
    }
}

#[test]
fn gradle_runs_the_apps_wrapper_and_says_when_it_cannot_download_gradle() {
    let built = mirrored_build(&fixture("java-gradle-unreachable"), "java-gradle");
    drop(Image(built.image.clone()));
    built.assert_output_contains("Java 21 (21 from the toolchain's languageVersion in build.gradle)");
    built.assert_output_contains("Building with Gradle (Java 21)");
    built.assert_output_contains("Downloading http://127.0.0.1:9/gradle-8.14.3-bin.zip");
    built.assert_one_error(&[
        "The Gradle wrapper could not download Gradle (gradle/wrapper/gradle-wrapper.properties)",
        "java.net.ConnectException",
        "distributionUrl",
    ]);
}
