//! The web process when the app has no Procfile: the executable Spring Boot jar the build made,
//! run as Spring Boot's guides and Heroku run it, on `PORT`.

use std::io::Read;
use std::path::Path;

/// Where Maven and Gradle put the jars they build.
const OUTPUT_DIRS: [&str; 2] = ["target", "build/libs"];

/// The jars the build made (relative to the app), sorted, leaving out those that are not the
/// app: sources, javadoc, tests, and the plain jars beside Spring Boot's.
pub(crate) fn built_jars(app_dir: &Path) -> Vec<String> {
    let mut jars: Vec<String> = OUTPUT_DIRS
        .iter()
        .filter_map(|dir| Some((dir, std::fs::read_dir(app_dir.join(dir)).ok()?)))
        .flat_map(|(dir, entries)| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| {
                    Path::new(name)
                        .extension()
                        .is_some_and(|extension| extension.eq_ignore_ascii_case("jar"))
                        && !["-sources.jar", "-javadoc.jar", "-tests.jar", "-plain.jar"]
                            .iter()
                            .any(|suffix| name.ends_with(suffix))
                })
                .map(move |name| format!("{dir}/{name}"))
        })
        .collect();
    jars.sort();
    jars
}

/// The first of `jars` whose manifest names a `Start-Class`: Spring Boot's executable jar.
pub(crate) fn spring_boot_jar<'a>(app_dir: &Path, jars: &'a [String]) -> Option<&'a str> {
    jars.iter().map(String::as_str).find(|jar| {
        manifest(&app_dir.join(jar))
            .is_some_and(|text| text.lines().any(|line| line.starts_with("Start-Class:")))
    })
}

fn manifest(jar: &Path) -> Option<String> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(jar).ok()?).ok()?;
    let mut entry = archive.by_name("META-INF/MANIFEST.MF").ok()?;
    let mut text = String::new();
    entry.read_to_string(&mut text).ok()?;
    Some(text)
}

/// The command: Spring reads `${PORT:8000}` in a property itself, so no shell is needed (and
/// the process keeps the launcher's signals).
pub(crate) fn spring_boot_command(jar: &str) -> [String; 4] {
    [
        "java".to_string(),
        "-Dserver.port=${PORT:8000}".to_string(),
        "-jar".to_string(),
        jar.to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn jar(path: &Path, manifest: &str) {
        let mut writer = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        writer
            .start_file(
                "META-INF/MANIFEST.MF",
                zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
            )
            .unwrap();
        writer.write_all(manifest.as_bytes()).unwrap();
        writer.finish().unwrap();
    }

    #[test]
    fn finds_the_spring_boot_jar() {
        let app = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(app.path().join("target")).unwrap();
        jar(
            &app.path().join("target/app-1.0-sources.jar"),
            "Manifest-Version: 1.0\n",
        );
        jar(&app.path().join("target/lib.jar"), "Manifest-Version: 1.0\n");
        assert_eq!(built_jars(app.path()), ["target/lib.jar"]);
        assert_eq!(spring_boot_jar(app.path(), &built_jars(app.path())), None);
        jar(
            &app.path().join("target/app-1.0.jar"),
            "Manifest-Version: 1.0\nMain-Class: org.springframework.boot.loader.launch.JarLauncher\nStart-Class: org.toolforge.App\n",
        );
        let jars = built_jars(app.path());
        assert_eq!(spring_boot_jar(app.path(), &jars), Some("target/app-1.0.jar"));
    }
}
