//! Store: CRUD, owners, versions, apply, definitions, wait_for.
#![allow(clippy::unwrap_used)]

mod common;

use basalt_resources::{
    Phase, Resource, ResourceDefinition, Store, StoreError, DEFINITION_OWNER, DEFINITION_TYPE,
};
use common::*;
use serde_json::json;

#[test]
fn crud_with_versions_and_revisions() {
    let store = store_with(Store::new());
    let start = store.revision();

    let created = store.create("", service("b", false)).unwrap();
    assert_eq!(created.metadata.version, 1);
    assert_eq!(created.metadata.owner, "");
    assert_eq!(created.metadata.phase, Phase::Running);
    assert_eq!(store.get("runtime", SERVICES, "b").unwrap(), created);
    store.create("", service("a", false)).unwrap();
    store.create("", service("c", false)).unwrap();
    assert_eq!(
        store.create("", service("a", true)).unwrap_err(),
        StoreError::AlreadyExists {
            ns: "runtime".into(),
            type_: SERVICES.into(),
            id: "a".into()
        }
    );
    let ids: Vec<String> = store
        .list("runtime", SERVICES)
        .into_iter()
        .map(|r| r.metadata.id)
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);

    let mut change = created.clone();
    change.spec = json!({"running": true});
    let updated = store.update("", change.clone()).unwrap();
    assert_eq!(updated.metadata.version, 2);
    assert_eq!(updated.spec, json!({"running": true}));
    assert_eq!(updated.metadata.created, created.metadata.created);
    // The same (now stale) version again is a conflict.
    assert_eq!(
        store.update("", change).unwrap_err(),
        StoreError::Conflict {
            expected: 1,
            actual: 2
        }
    );

    let torn = store.teardown("", "runtime", SERVICES, "b").unwrap();
    assert_eq!(torn.metadata.phase, Phase::TearingDown);
    assert_eq!(torn.metadata.version, 3);
    let again = store.teardown("", "runtime", SERVICES, "b").unwrap();
    assert_eq!(again.metadata.version, 3, "a second teardown is a no-op");

    store.destroy("", "runtime", SERVICES, "b").unwrap();
    assert!(matches!(
        store.get("runtime", SERVICES, "b").unwrap_err(),
        StoreError::NotFound { .. }
    ));
    assert!(matches!(
        store.destroy("", "runtime", SERVICES, "b").unwrap_err(),
        StoreError::NotFound { .. }
    ));
    // 3 creates, 1 update, 1 teardown, 1 destroy.
    assert_eq!(store.revision(), start + 6);
}

#[test]
fn only_the_owner_writes() {
    let store = store_with(Store::new());
    let owned = store.create("svc-ctrl", service("etcd", false)).unwrap();
    assert_eq!(owned.metadata.owner, "svc-ctrl");
    let by_user = StoreError::OwnerConflict {
        owner: "svc-ctrl".into(),
        writer: "".into(),
    };
    assert_eq!(store.update("", owned.clone()).unwrap_err(), by_user);
    assert_eq!(store.apply("", owned.clone()).unwrap_err(), by_user);
    assert_eq!(
        store.teardown("", "runtime", SERVICES, "etcd").unwrap_err(),
        by_user
    );
    let err = store
        .destroy("other", "runtime", SERVICES, "etcd")
        .unwrap_err();
    assert!(err.to_string().contains("controller `svc-ctrl`"), "{err}");
    assert!(err.to_string().contains("controller `other`"), "{err}");

    store.create("", service("user", false)).unwrap();
    assert_eq!(
        store
            .destroy("svc-ctrl", "runtime", SERVICES, "user")
            .unwrap_err(),
        StoreError::OwnerConflict {
            owner: "".into(),
            writer: "svc-ctrl".into()
        }
    );
    // The owner itself may.
    store.update("svc-ctrl", owned).unwrap();
    store
        .destroy("svc-ctrl", "runtime", SERVICES, "etcd")
        .unwrap();
}

#[test]
fn apply_creates_updates_and_skips_no_ops() {
    let store = store_with(Store::new());
    let first = store.apply("ctrl", thing("x", 1)).unwrap();
    assert_eq!(first.metadata.version, 1);
    let revision = store.revision();

    let same = store.apply("ctrl", thing("x", 1)).unwrap();
    assert_eq!(same.metadata.version, 1);
    assert_eq!(store.revision(), revision, "no-op apply emits no event");

    let mut labelled = thing("x", 1);
    labelled.metadata.labels.insert("role".into(), "a".into());
    assert_eq!(store.apply("ctrl", labelled).unwrap().metadata.version, 2);
    assert_eq!(
        store
            .apply("ctrl", thing("x", 2))
            .unwrap()
            .metadata
            .labels
            .len(),
        0
    );

    store.teardown("ctrl", "test", THINGS, "x").unwrap();
    let revived = store.apply("ctrl", thing("x", 2)).unwrap();
    assert_eq!(revived.metadata.phase, Phase::Running);
    assert_eq!(revived.metadata.version, 5);
}

#[test]
fn writes_need_a_registered_type_and_an_id() {
    let store = Store::new();
    let r = Resource::new("ns", "Unknowns.test.basalt.dev", "x", json!({}));
    assert_eq!(
        store.create("", r).unwrap_err(),
        StoreError::UnknownType("Unknowns.test.basalt.dev".into())
    );
    assert!(store.list("ns", "Unknowns.test.basalt.dev").is_empty());
    let store = store_with(store);
    let err = store.create("", thing("", 1)).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
}

#[test]
fn definitions_are_published_and_resolved() {
    let store = store_with(Store::new());
    let types: Vec<String> = store.definitions().into_iter().map(|d| d.type_).collect();
    assert_eq!(types, [DEFINITION_TYPE, SERVICES, THINGS]);

    for name in [
        "svc",
        "SVC",
        "service",
        "services",
        "Services",
        "services.v1alpha1.basalt.dev",
        SERVICES,
    ] {
        let def = store.resolve(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(def, services_definition(), "{name}");
    }
    assert_eq!(store.resolve("things").unwrap().type_, THINGS);
    assert_eq!(store.resolve("rd").unwrap().type_, DEFINITION_TYPE);
    assert_eq!(store.resolve("nope"), None);

    let published = store.get("meta", DEFINITION_TYPE, SERVICES).unwrap();
    assert_eq!(published.metadata.owner, DEFINITION_OWNER);
    assert_eq!(published.spec["defaultNamespace"], "runtime");
    assert_eq!(
        published.spec["aliases"],
        json!(["services", "service", "svc"])
    );
    assert_eq!(published.spec["printColumns"][2]["name"], "Health Unknown");
    let back: ResourceDefinition = serde_json::from_value(published.spec).unwrap();
    assert_eq!(back, services_definition());
    // The definition of definitions is published too.
    store.get("meta", DEFINITION_TYPE, DEFINITION_TYPE).unwrap();
    // Users cannot remove definitions.
    assert!(matches!(
        store.destroy("", "meta", DEFINITION_TYPE, SERVICES),
        Err(StoreError::OwnerConflict { .. })
    ));
}

#[test]
fn registering_again_or_clashing_names() {
    let store = store_with(Store::new());
    let revision = store.revision();
    store.register(services_definition()).unwrap();
    assert_eq!(
        store.revision(),
        revision,
        "same definition again is a no-op"
    );

    let mut changed = services_definition();
    changed.sensitive = true;
    let err = store.register(changed).unwrap_err().to_string();
    assert!(err.contains("different definition"), "{err}");

    let mut clash = things_definition();
    clash.type_ = "Widgets.test.basalt.dev".into();
    clash.aliases = vec!["svc".into()];
    let err = store.register(clash).unwrap_err().to_string();
    assert!(err.contains("`svc`") && err.contains(SERVICES), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_resolves_when_the_predicate_holds() {
    let store = store_with(Store::new());
    let waiter = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .wait_for("runtime", SERVICES, "etcd", |r| r.spec["running"] == true)
                .await
        })
    };
    let r = store.create("", service("etcd", false)).unwrap();
    store.create("", service("other", true)).unwrap();
    let mut running = r.clone();
    running.spec["running"] = json!(true);
    store.update("", running).unwrap();

    let seen = within("wait_for", waiter).await.unwrap().unwrap();
    assert_eq!(seen.metadata.id, "etcd");
    assert_eq!(seen.metadata.version, 2);

    // Already true: resolves at once.
    let now = within(
        "wait_for on the current state",
        store.wait_for("runtime", SERVICES, "other", |r| r.spec["running"] == true),
    )
    .await
    .unwrap();
    assert_eq!(now.metadata.version, 1);
}
