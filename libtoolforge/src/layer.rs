//! Cached layers keyed on their metadata.
//!
//! A layer module declares a metadata struct (everything its contents depend on) and implements
//! [`LayerKey::changes`] by destructuring both values, so that adding a field without deciding
//! how it invalidates the layer does not compile. [`cached_layer`] then keeps the layer when
//! nothing changed and empties it otherwise, saying why.

use libcnb::Buildpack;
use libcnb::build::BuildContext;
use libcnb::data::layer::LayerName;
use libcnb::layer::{
    CachedLayerDefinition, EmptyLayerCause, InvalidMetadataAction, LayerRef, LayerState, RestoredLayerAction,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Layer metadata that decides whether cached contents can be reused.
pub trait LayerKey: Serialize + DeserializeOwned + Clone {
    /// What differs between the cached contents' key and the current one, in words
    /// (`Python 3.13.4 → 3.13.5`); empty when the cached contents can be reused.
    fn changes(&self, current: &Self) -> Vec<String>;
}

/// Why a cached layer starts empty, or that it was reused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cache {
    /// The cached contents are current.
    Reused,
    /// No cached contents (first build, or caches cleared).
    New,
    /// Cached contents existed but were made for something else.
    Invalidated(Vec<String>),
}

impl Cache {
    /// A line for the build log, or `None` for a first build.
    #[must_use]
    pub fn describe(&self, what: &str) -> Option<String> {
        match self {
            Self::Reused => Some(format!("Reusing {what} from the cache")),
            Self::New => None,
            Self::Invalidated(reasons) => Some(format!("Not reusing cached {what}: {}", reasons.join("; "))),
        }
    }
}

/// A layer opened by [`cached_layer`]: its empty-cause and restored-cause are reasons in words.
pub type KeyedLayer<B> = LayerRef<B, String, Vec<String>>;

/// Opens the cached layer `name`, keeping its contents only when `key` equals the one they were
/// made for; writes `key` as the layer's metadata. The caller fills an empty layer.
///
/// A layer whose filling fails is never reused: the lifecycle caches layers only from builds
/// that succeed.
///
/// # Errors
///
/// When libcnb cannot read or write the layer.
pub fn cached_layer<B: Buildpack, K: LayerKey>(
    context: &BuildContext<B>,
    name: LayerName,
    build: bool,
    launch: bool,
    key: &K,
) -> libcnb::Result<(KeyedLayer<B>, Cache), B::Error> {
    let layer = context.cached_layer(
        name,
        CachedLayerDefinition {
            build,
            launch,
            invalid_metadata_action: &|_| {
                (
                    InvalidMetadataAction::DeleteLayer,
                    "it was made by an older version of this buildpack".to_string(),
                )
            },
            restored_layer_action: &|cached: &K, _| {
                let changes = cached.changes(key);
                if changes.is_empty() {
                    (RestoredLayerAction::KeepLayer, changes)
                } else {
                    (RestoredLayerAction::DeleteLayer, changes)
                }
            },
        },
    )?;
    let cache = match &layer.state {
        LayerState::Restored { .. } => Cache::Reused,
        LayerState::Empty {
            cause: EmptyLayerCause::NewlyCreated,
        } => Cache::New,
        LayerState::Empty {
            cause: EmptyLayerCause::RestoredLayerAction { cause },
        } => Cache::Invalidated(cause.clone()),
        LayerState::Empty {
            cause: EmptyLayerCause::InvalidMetadataAction { cause },
        } => Cache::Invalidated(vec![cause.clone()]),
    };
    layer.write_metadata(key.clone())?;
    Ok((layer, cache))
}

/// `"{what} {old} → {new}"` when they differ: the building block of [`LayerKey::changes`].
pub fn change<T: PartialEq + std::fmt::Display>(what: &str, old: &T, new: &T) -> Option<String> {
    (old != new).then(|| format!("{what} {old} → {new}"))
}

/// Copies the directory `source` into the directory `into` (as `into/<name>`), keeping links,
/// modes and times: `cp -a`, which is what dependency directories (`node_modules`, `vendor`)
/// kept in a cache layer need, symlinks to `.bin` programs included.
///
/// # Errors
///
/// When cp cannot run or fails.
pub fn copy_directory(source: &std::path::Path, into: &std::path::Path) -> std::io::Result<()> {
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(source)
        .arg(into)
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "cp -a {} {} exited with {status}",
            source.display(),
            into.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_changes() {
        assert_eq!(
            change("Python", &"3.13.4", &"3.13.5").as_deref(),
            Some("Python 3.13.4 → 3.13.5")
        );
        assert_eq!(change("Python", &"3.13.5", &"3.13.5"), None);
        assert_eq!(
            Cache::Invalidated(vec!["Python 3.13.4 → 3.13.5".into(), "stack changed".into()])
                .describe("dependencies")
                .as_deref(),
            Some("Not reusing cached dependencies: Python 3.13.4 → 3.13.5; stack changed")
        );
        assert_eq!(Cache::New.describe("Python"), None);
    }
}
