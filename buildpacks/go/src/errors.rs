//! Everything that can stop this buildpack, and the one function that explains it.

use crate::go_mod::InvalidVersion;
use libtoolforge::command::CommandError;
use libtoolforge::error::{ErrorMessage, IoError, Location};
use libtoolforge::runtime::RuntimeError;
use libtoolforge::toml_file::TomlError;

#[derive(Debug)]
pub(crate) enum GoBuildpackError {
    /// go.mod could not be read.
    GoMod(IoError),
    InvalidVersion(InvalidVersion),
    /// `[org.toolforge.go]` in project.toml.
    Config(TomlError),
    Runtime(RuntimeError),
    /// `go list`, finding the main packages, failed: go.mod or a module it needs.
    List(CommandError),
    /// `go build` failed: a module not found, a compile error.
    Build(CommandError),
    ReadBinaries(std::io::Error),
    NoMainPackage,
    /// Several binaries, no Procfile to say which is the web process.
    SeveralBinaries(Vec<String>),
}

impl From<RuntimeError> for GoBuildpackError {
    fn from(error: RuntimeError) -> Self {
        Self::Runtime(error)
    }
}

impl From<GoBuildpackError> for libcnb::Error<GoBuildpackError> {
    fn from(error: GoBuildpackError) -> Self {
        Self::BuildpackError(error)
    }
}

pub(crate) fn error_message(error: &GoBuildpackError) -> ErrorMessage {
    match error {
        GoBuildpackError::GoMod(error) => error.message(),
        GoBuildpackError::InvalidVersion(error) => error.message(),
        GoBuildpackError::Config(error) => error
            .message()
            .fix("`[org.toolforge.go]` takes `version = \"1.25\"` and `packages = [\"./cmd/web\"]`."),
        GoBuildpackError::Runtime(error) => error.message(),
        GoBuildpackError::List(error) => error
            .message(
                "Cannot list the Go packages",
                "`go list` could not read the module: go.mod or a module it requires, as Go says below.",
                true,
            )
            .at(Location::file("go.mod"))
            .fix("run `go build ./...` locally, correct go.mod (`go mod tidy`) and commit it."),
        GoBuildpackError::Build(error) => error
            .message(
                "Go build failed",
                "`go build` failed: a compile error or a module it cannot download, as Go says below.",
                true,
            )
            .fix("run `go build ./...` locally, correct what Go reports and commit the fix."),
        GoBuildpackError::ReadBinaries(error) => ErrorMessage::platform(
            "Cannot read the built binaries",
            format!("Listing what `go build` wrote failed: {error}."),
        ),
        GoBuildpackError::NoMainPackage => ErrorMessage::app(
            "No Go main package",
            "The module has no `package main`, so there is no program to build.",
        )
        .at(Location::file("go.mod"))
        .fix("add a main package (a `main.go` with `package main` and `func main()`), or name the packages to build in project.toml: `[org.toolforge.go] packages = [\"./cmd/web\"]`."),
        GoBuildpackError::SeveralBinaries(names) => ErrorMessage::app(
            "Several Go programs, no Procfile",
            format!(
                "The build made {}: without a Procfile, which one is the web server is unknown.",
                names.join(", ")
            ),
        )
        .fix(format!(
            "add a Procfile naming the processes, for example `web: {}`.",
            names.first().map_or("mytool", String::as_str)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(command: &str, output: &str) -> CommandError {
        CommandError {
            command: command.into(),
            exit_code: Some(1),
            spawn_error: None,
            output_tail: output.into(),
        }
    }

    #[test]
    fn build_failure() {
        insta::assert_snapshot!(
            error_message(&GoBuildpackError::Build(failed(
                "go build -trimpath -modcacherw -o /layers/toolforge_go/bin/bin/ example.com/tool",
                "# example.com/tool\n./main.go:7:2: undefined: fmt.Printn"
            )))
            .render()
        );
    }

    #[test]
    fn module_not_found() {
        insta::assert_snapshot!(error_message(&GoBuildpackError::List(failed(
            "go list -modcacherw -f {{if eq .Name \"main\"}}{{.ImportPath}}{{end}} ./...",
            "go: example.com/nowhere@v1.0.0: reading https://proxy.golang.org/example.com/nowhere/@v/v1.0.0.mod: 404 Not Found"
        )))
        .render());
    }

    #[test]
    fn no_main_package() {
        insta::assert_snapshot!(error_message(&GoBuildpackError::NoMainPackage).render());
    }

    #[test]
    fn several_binaries() {
        insta::assert_snapshot!(
            error_message(&GoBuildpackError::SeveralBinaries(vec![
                "updater".into(),
                "web".into()
            ]))
            .render()
        );
    }
}
