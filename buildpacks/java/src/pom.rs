//! What the build reads from pom.xml: that it is XML (Maven's own message for a broken pom is
//! long and comes late, after Maven is fetched), and the Java release its properties name.

use crate::java_version::JavaRequest;
use libtoolforge::error::{ErrorMessage, Location};
use libtoolforge::version_request::Origin;

pub(crate) const FILE: &str = "pom.xml";

/// The properties that name the Java release, in the order they are read: the compiler's own,
/// then Spring Boot's parent's.
const JAVA_PROPERTIES: [&str; 3] = ["maven.compiler.release", "java.version", "maven.compiler.target"];

/// pom.xml that is not well-formed XML, with the line and column the parser stopped at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidPom {
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) reason: String,
}

impl InvalidPom {
    pub(crate) fn message(&self) -> ErrorMessage {
        ErrorMessage::app(
            "pom.xml is not valid XML",
            format!(
                "pom.xml cannot be read at line {}, column {}: {}.",
                self.line, self.column, self.reason
            ),
        )
        .at(Location::line(FILE, self.line))
        .fix("correct pom.xml there (`mvn validate` shows the same place) and commit it.")
    }
}

/// Checks that `text` is XML; returns the Java release its `<properties>` name, if any, with
/// its line. A value that is not a release (`${java.version}`) is passed over.
pub(crate) fn read(text: &str) -> Result<Option<JavaRequest>, InvalidPom> {
    let document = roxmltree::Document::parse(text).map_err(|error| {
        let position = error.pos();
        InvalidPom {
            line: position.row as usize,
            column: position.col as usize,
            reason: error
                .to_string()
                .split(" at ")
                .next()
                .unwrap_or_default()
                .to_string(),
        }
    })?;
    let Some(properties) = document
        .root_element()
        .children()
        .find(|node| node.tag_name().name() == "properties")
    else {
        return Ok(None);
    };
    Ok(JAVA_PROPERTIES.iter().find_map(|name| {
        let node = properties
            .children()
            .find(|node| node.is_element() && node.tag_name().name() == *name)?;
        let line = document.text_pos_at(node.range().start).row as usize;
        let origin = Origin::line(FILE, line).field(format!("<{name}>"));
        JavaRequest::parse(node.text().unwrap_or_default(), origin).ok()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <properties>
    <java.version>17</java.version>
    <maven.compiler.release>${java.version}</maven.compiler.release>
  </properties>
</project>
"#;

    #[test]
    fn java_release_from_properties() {
        let request = read(POM).unwrap().unwrap();
        assert_eq!((request.major, request.origin.line), (17, Some(5)));
        assert_eq!(request.origin.to_string(), "<java.version> in pom.xml");
        assert_eq!(
            read("<project><modelVersion>4.0.0</modelVersion></project>").unwrap(),
            None
        );
    }

    #[test]
    fn not_xml() {
        let error = read("<project>\n  <properties>\n    <java.version>17</java.versio>\n").unwrap_err();
        assert_eq!(error.line, 3);
        insta::assert_snapshot!(error.message().render());
    }
}
