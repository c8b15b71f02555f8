//! Everything that can stop this buildpack, and the one function that explains it.

use libtoolforge::debian_layer::{ChosenBy, Described, PackagesError};
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
    /// Resolving, downloading or unpacking the packages ([`libtoolforge::debian_layer`]).
    Packages(PackagesError),
    /// The app's Aptfile cannot be read.
    Io {
        what: String,
        error: std::io::Error,
    },
}

impl From<PackagesError> for AptBuildpackError {
    fn from(error: PackagesError) -> Self {
        Self::Packages(error)
    }
}

impl From<AptBuildpackError> for libcnb::Error<AptBuildpackError> {
    fn from(error: AptBuildpackError) -> Self {
        Self::BuildpackError(error)
    }
}

/// The app names the packages: unknown names, versions and conflicts are its to fix.
const PACKAGES: Described = Described {
    name: "the Debian packages",
    chosen_by: ChosenBy::App,
};

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

        AptBuildpackError::Packages(error) => error.message(&PACKAGES),

        AptBuildpackError::Io { what, error } => ErrorMessage::platform(
            format!("Cannot {what}"),
            format!("The file system said: {error}."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(error: &AptBuildpackError) -> String {
        error_message(error).render()
    }

    #[test]
    fn custom_repository() {
        insta::assert_snapshot!(render(&AptBuildpackError::CustomRepository {
            location: Location::line("Aptfile", 1),
            text: ":repo:deb http://apt.example.org stable main".into(),
        }));
    }

    /// An Aptfile written for Ubuntu 22.04, against some of Debian 13's names: one error lists
    /// every name trixie lacks, each on its line, with trixie's package of the same library.
    #[test]
    fn every_unknown_package_on_its_line() {
        let aptfile = "# written for Ubuntu 22.04\nlibtiff5\nlibjpeg-turbo8\nffmpeg\nlibssl1.1\npython3.8\n\
                       libicu70\nlibffi7\nlibvpx7\n";
        let trixie = [
            "ffmpeg",
            "libffi8",
            "libicu76",
            "libjpeg62-turbo",
            "libssl3t64",
            "libtiff6",
            "libtiffxx6",
            "libvpx9",
            "python3",
            "python3.13",
        ];
        let config = crate::config::parse(None, Some(aptfile)).unwrap().unwrap();
        let unknown = libtoolforge::debian::unknown_packages(&config.specs(), &trixie);
        let error = PackagesError::resolve(
            libtoolforge::debian::AptError::UnknownPackages(unknown),
            |name: &str| config.location_of(name),
        );
        insta::assert_snapshot!(render(&AptBuildpackError::Packages(error)));
    }

    #[test]
    fn deb_url() {
        insta::assert_snapshot!(render(&AptBuildpackError::DebUrl {
            location: Location::line("Aptfile", 1),
            text: "https://example.org/tool_1.0_amd64.deb".into(),
        }));
    }
}
