//! `basalt-resources`: the typed resource store of machined.
//!
//! - [`Resource`]s (namespace, type, id, version, phase, owner, labels, JSON spec) live in a
//!   [`Store`]; every change bumps a global revision and is one [`Event`].
//! - [`Watcher`]s see events in revision order, can bootstrap from the current state or
//!   resume after a revision from a bounded history, and fail with
//!   [`WatchError::FellBehind`] instead of ever skipping an event.
//! - [`ResourceDefinition`]s name types, aliases, default namespaces and printable columns;
//!   they are published as resources so API clients can resolve `get svc`.
//! - The [`ControllerRuntime`] runs [`Controller`]s that reconcile outputs from inputs.
//!
//! ```
//! use basalt_resources::{Resource, ResourceDefinition, Store, WatchFilter, WatchOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Store::new();
//! store.register(ResourceDefinition {
//!     type_: "Hostnames.net.basalt.dev".into(),
//!     aliases: vec!["hostname".into()],
//!     default_namespace: "network".into(),
//!     columns: vec![],
//!     sensitive: false,
//! })?;
//! let mut watcher = store.watch(
//!     WatchFilter::of("network", "Hostnames.net.basalt.dev"),
//!     WatchOptions::default(),
//! )?;
//! let spec = serde_json::json!({"hostname": "node-1"});
//! store.create("", Resource::new("network", "Hostnames.net.basalt.dev", "hostname", spec))?;
//! let event = watcher.next().await?;
//! assert_eq!(event.resource.metadata.version, 1);
//! assert_eq!(store.resolve("hostnames").map(|d| d.default_namespace), Some("network".into()));
//! # Ok(())
//! # }
//! ```

mod controller;
mod definition;
mod error;
mod resource;
mod store;
mod watch;

pub use controller::{Controller, ControllerContext, ControllerRuntime, Input, Output};
pub use definition::{
    Column, ResourceDefinition, DEFINITION_OWNER, DEFINITION_TYPE, META_NAMESPACE,
};
pub use error::{StoreError, WatchError};
pub use resource::{Metadata, Phase, Resource, Spec, Version};
pub use store::{Store, DEFAULT_HISTORY, DEFAULT_WATCH_BUFFER};
pub use watch::{Event, EventKind, WatchFilter, WatchOptions, Watcher};

/// Re-exported so controllers can be written without naming `async-trait` themselves.
pub use async_trait::async_trait;
