//! Shared fixtures for the integration tests.
#![allow(clippy::unwrap_used, dead_code)]

use std::future::Future;
use std::time::Duration;

use basalt_resources::{Column, Resource, ResourceDefinition, Store};
use serde_json::json;

/// Services type, as machined registers it.
pub const SERVICES: &str = "Services.v1alpha1.basalt.dev";
/// A second type for tests.
pub const THINGS: &str = "Things.test.basalt.dev";

pub fn services_definition() -> ResourceDefinition {
    ResourceDefinition {
        type_: SERVICES.into(),
        aliases: vec!["services".into(), "service".into(), "svc".into()],
        default_namespace: "runtime".into(),
        columns: vec![
            Column::new("Running", "{.running}"),
            Column::new("Healthy", "{.healthy}"),
            Column::new("Health Unknown", "{.unknown}"),
        ],
        sensitive: false,
    }
}

pub fn things_definition() -> ResourceDefinition {
    ResourceDefinition {
        type_: THINGS.into(),
        aliases: vec!["thing".into()],
        default_namespace: "test".into(),
        columns: Vec::new(),
        sensitive: false,
    }
}

/// A store with Services and Things registered.
pub fn store_with(store: Store) -> Store {
    store.register(services_definition()).unwrap();
    store.register(things_definition()).unwrap();
    store
}

pub fn service(id: &str, running: bool) -> Resource {
    Resource::new(
        "runtime",
        SERVICES,
        id,
        json!({"running": running, "healthy": false, "unknown": true}),
    )
}

pub fn thing(id: &str, n: u64) -> Resource {
    Resource::new("test", THINGS, id, json!({ "n": n }))
}

/// Awaits `f`, failing the test (instead of hanging) after a generous minute.
pub async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(60), f).await {
        Ok(value) => value,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}
