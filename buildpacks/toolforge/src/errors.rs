//! Everything that can stop this buildpack, and the one function that explains it.

use libtoolforge::error::ErrorMessage;
use libtoolforge::toml_file::TomlError;
use std::path::PathBuf;

#[derive(Debug)]
pub(crate) enum ToolforgeBuildpackError {
    /// `[org.toolforge.env]` is not valid.
    Config(TomlError),
    /// `[org.toolforge.languages]` is not valid (detection ignored it, so it is reported here, in
    /// the one buildpack of every group).
    Languages(TomlError),
    /// The stack's build image lacks libnss-wrapper, which the layer copies.
    NssWrapperMissing(PathBuf),
    WriteLayer(std::io::Error),
}

impl From<ToolforgeBuildpackError> for libcnb::Error<ToolforgeBuildpackError> {
    fn from(error: ToolforgeBuildpackError) -> Self {
        Self::BuildpackError(error)
    }
}

pub(crate) fn error_message(error: &ToolforgeBuildpackError) -> ErrorMessage {
    match error {
        ToolforgeBuildpackError::Config(error) => error
            .message()
            .fix("`[org.toolforge.env]` takes one setting, `keep-home = true` or `false`."),

        ToolforgeBuildpackError::Languages(error) => error.message().fix(
            "`[org.toolforge.languages]` lists languages as `python = true`, `nodejs = true` or \
             `php = true`; remove the table to let the app's files decide.",
        ),

        ToolforgeBuildpackError::NssWrapperMissing(path) => ErrorMessage::platform(
            "libnss-wrapper is missing from the build image",
            format!(
                "The Toolforge runtime environment serves the tool's account with libnss-wrapper, \
                 copied from the build image's Debian package, but {} does not exist.",
                path.display()
            ),
        )
        .fix("build with the Toolforge builder, whose build image has the Debian package libnss-wrapper."),

        ToolforgeBuildpackError::WriteLayer(error) => ErrorMessage::platform(
            "Cannot write the runtime environment layer",
            format!("Writing the exec.d program and its files failed: {error}."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_config() {
        let app = tempfile::tempdir().unwrap();
        std::fs::write(
            app.path().join("project.toml"),
            "[org.toolforge.env]\nkeep-home = \"yes\"\n",
        )
        .unwrap();
        let error = crate::config::read(app.path()).unwrap_err();
        insta::assert_snapshot!(error_message(&ToolforgeBuildpackError::Config(error)).render());
    }

    #[test]
    fn nss_wrapper_missing() {
        insta::assert_snapshot!(
            error_message(&ToolforgeBuildpackError::NssWrapperMissing(PathBuf::from(
                "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"
            )))
            .render()
        );
    }
}
