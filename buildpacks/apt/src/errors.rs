//! Everything that can stop this buildpack, and the one function that explains it.

use libtoolforge::debian::AptError;
use libtoolforge::error::{ErrorMessage, Location};
use libtoolforge::toml_file::TomlError;

#[derive(Debug)]
pub(crate) enum AptBuildpackError {
    Toml(TomlError),
    /// An Aptfile `:repo:` line or a `sources` table.
    CustomRepository {
        location: Location,
        text: String,
    },
    /// A .deb file by URL.
    DebUrl {
        location: Location,
        text: String,
    },
    /// Not a Debian package name (`name` or `name=version`).
    InvalidPackage {
        location: Location,
        text: String,
    },
    /// apt could not resolve the packages (unknown name or version, conflicts).
    Resolve {
        /// Boxed: the largest variant by far.
        error: Box<AptError>,
        location: Option<Location>,
    },
    /// Refreshing the package index failed.
    Update(AptError),
    Download(AptError),
    Unpack(AptError),
    Io {
        what: String,
        error: std::io::Error,
    },
}

/// What the shared `apt-state` layer fails with: preparing apt, refreshing the index.
impl From<AptError> for AptBuildpackError {
    fn from(error: AptError) -> Self {
        Self::Update(error)
    }
}

impl From<AptBuildpackError> for libcnb::Error<AptBuildpackError> {
    fn from(error: AptBuildpackError) -> Self {
        Self::BuildpackError(error)
    }
}

const ONLY_DEBIAN: &str = "Only packages of the stack's own Debian repositories (Debian 13 trixie, \
                           trixie-updates and trixie-security, signed by Debian's archive key) can \
                           be installed: the stack trusts no other signing key, and packages \
                           from elsewhere are not updated with the stack.";

pub(crate) fn error_message(error: &AptBuildpackError) -> ErrorMessage {
    match error {
        AptBuildpackError::Toml(error) => error.message(),

        AptBuildpackError::CustomRepository { location, text } => ErrorMessage::app(
            "Custom package repositories are not supported",
            format!("This app asks for packages from another repository. {ONLY_DEBIAN}"),
        )
        .at(location.clone())
        .excerpt(text.clone())
        .fix(
            "remove the repository and ask only for Debian packages (https://packages.debian.org/trixie/). \
             A tool that needs software Debian does not package can download it in its own build \
             step or ask the Toolforge admins.",
        ),

        AptBuildpackError::DebUrl { location, text } => ErrorMessage::app(
            "Packages by URL are not supported",
            format!("This app asks for a .deb file by URL. {ONLY_DEBIAN}"),
        )
        .at(location.clone())
        .excerpt(text.clone())
        .fix("replace it with the name of the Debian package (https://packages.debian.org/trixie/)."),

        AptBuildpackError::InvalidPackage { location, text } => ErrorMessage::app(
            "Invalid package name",
            format!(
                "`{text}` is not a Debian package name: names are lower case letters, digits, `+`, `-` \
                 and `.`, optionally followed by `=VERSION`."
            ),
        )
        .at(location.clone())
        .excerpt(text.clone())
        .fix("write one package per entry, for example `ffmpeg` or `graphviz=2.42.4-3`."),

        AptBuildpackError::Resolve { error, location } => {
            let message = resolve_message(error);
            match location {
                Some(location) => message.at(location.clone()),
                None => message,
            }
        }

        AptBuildpackError::Update(error) => platform_apt(
            "Cannot refresh the Debian package index",
            "apt could not download or verify the package index of the stack's Debian repositories.",
            error,
        ),

        AptBuildpackError::Download(error) => platform_apt(
            "Cannot download the Debian packages",
            "apt could not download or verify the packages.",
            error,
        ),

        AptBuildpackError::Unpack(error) => platform_apt(
            "Cannot unpack the Debian packages",
            "dpkg-deb could not unpack a downloaded package into the layer.",
            error,
        ),

        AptBuildpackError::Io { what, error } => ErrorMessage::platform(
            format!("Cannot {what}"),
            format!("The file system said: {error}."),
        ),
    }
}

fn resolve_message(error: &AptError) -> ErrorMessage {
    match error {
        AptError::UnknownPackage { name, suggestions } => {
            let message = ErrorMessage::app(
                "Unknown Debian package",
                format!("There is no package `{name}` in Debian 13 (trixie)."),
            );
            if suggestions.is_empty() {
                message.fix(format!(
                    "look the name up at https://packages.debian.org/search?suite=trixie&keywords={name}."
                ))
            } else {
                message.fix(format!(
                    "correct the name; close names are: {}. \
                     https://packages.debian.org/trixie/ lists every package.",
                    suggestions.join(", ")
                ))
            }
        }
        AptError::UnknownVersion {
            name,
            version,
            available,
        } => ErrorMessage::app(
            "Package version not available",
            format!(
                "There is no version {version} of `{name}` in the stack's Debian repositories; they \
                 have {}.",
                if available.is_empty() {
                    "none".to_string()
                } else {
                    available.join(", ")
                }
            ),
        )
        .fix(format!(
            "ask for `{name}` without a version (the stack's current one, updated with security \
             fixes), or for one of the versions above."
        )),
        AptError::Unresolvable(command) => {
            let message = ErrorMessage::app(
                "The Debian packages cannot be installed together",
                format!(
                    "apt found no way to install the packages on this stack; its own words are \
                     quoted here.\n{command}."
                ),
            )
            .fix(
                "remove the package apt names, or the one that conflicts with it (a virtual package \
                 needs the name of a real package that provides it).",
            );
            if command.output_tail.is_empty() {
                message
            } else {
                message.excerpt(command.output_tail.clone())
            }
        }
        other => platform_apt(
            "Cannot resolve the Debian packages",
            "apt failed while working out what to install.",
            other,
        ),
    }
}

fn platform_apt(title: &str, detail: &str, error: &AptError) -> ErrorMessage {
    error.platform_message(title, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use libtoolforge::command::CommandError;

    fn render(error: &AptBuildpackError) -> String {
        error_message(error).render()
    }

    #[test]
    fn unknown_package() {
        insta::assert_snapshot!(render(&AptBuildpackError::Resolve {
            error: Box::new(AptError::UnknownPackage {
                name: "ffmepg".into(),
                suggestions: vec!["ffmpeg".into()],
            }),
            location: Some(Location::line("Aptfile", 2)),
        }));
    }

    #[test]
    fn unknown_version() {
        insta::assert_snapshot!(render(&AptBuildpackError::Resolve {
            error: Box::new(AptError::UnknownVersion {
                name: "graphviz".into(),
                version: "1.0".into(),
                available: vec!["2.42.4-3".into()],
            }),
            location: Some(Location::line("project.toml", 3)),
        }));
    }

    #[test]
    fn custom_repository() {
        insta::assert_snapshot!(render(&AptBuildpackError::CustomRepository {
            location: Location::line("Aptfile", 1),
            text: ":repo:deb http://apt.example.org stable main".into(),
        }));
    }

    #[test]
    fn deb_url() {
        insta::assert_snapshot!(render(&AptBuildpackError::DebUrl {
            location: Location::line("Aptfile", 1),
            text: "https://example.org/tool_1.0_amd64.deb".into(),
        }));
    }

    #[test]
    fn download_failure() {
        insta::assert_snapshot!(render(&AptBuildpackError::Download(AptError::Command(
            CommandError {
                command: "apt-get install --download-only --yes -q ffmpeg=7:7.1.5-0+deb13u1".into(),
                exit_code: Some(100),
                spawn_error: None,
                output_tail:
                    "E: Failed to fetch http://deb.debian.org/debian/pool/main/f/ffmpeg/ffmpeg_7.1.5.deb  \
                          Could not resolve 'deb.debian.org'"
                        .into(),
            }
        ))));
    }
}
