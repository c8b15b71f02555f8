//! What the apt buildpack keeps in the shared `apt-state` layer ([`libtoolforge::apt_state`]):
//! the resolution of the app's package list, with the requested package that pulled in each.

use libtoolforge::debian::Resolved;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What apt resolved, and which requested package pulled in each package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Resolution {
    pub(crate) packages: Vec<Resolved>,
    pub(crate) pulled_in_by: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn resolutions_round_trip() {
        let resolution = Resolution {
            packages: vec![
                Resolved {
                    name: "make".into(),
                    version: "4.4.1-2".into(),
                    replaces: None,
                },
                Resolved {
                    name: "libc6".into(),
                    version: "2.41-12+deb13u1".into(),
                    replaces: Some("2.41-12".into()),
                },
            ],
            pulled_in_by: [("libc6".to_string(), "make".to_string())].into(),
        };
        let text = toml::to_string(&resolution).unwrap();
        assert_eq!(toml::from_str::<Resolution>(&text).unwrap(), resolution);
    }
}
