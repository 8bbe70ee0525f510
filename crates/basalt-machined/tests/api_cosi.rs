//! COSI State over a real socket: Get/List of service resources, resource definitions and
//! alias resolution, sensitive types. Watch is in `api_cosi_watch.rs`.
#![allow(clippy::unwrap_used)]

mod api_support;

use api_support::{sh, within, Node};
use basalt_api::cosi::resource as pb;
use basalt_api::cosi::resource::meta::ResourceDefinitionSpec;
use basalt_api::cosi::RESOURCE_DEFINITION_TYPE;
use basalt_machined::api::{Caller, CosiState};
use basalt_machined::events::ServiceState;
use basalt_resources::{Column, ResourceDefinition};
use futures::StreamExt;
use prost::Message;
use tonic::Code;

const SERVICES: &str = "Services.v1alpha1.basalt.dev";

fn yaml(r: &pb::Resource) -> serde_yaml::Value {
    serde_yaml::from_str(&r.spec.as_ref().unwrap().yaml_spec).unwrap()
}

fn version(r: &pb::Resource) -> u64 {
    r.metadata.as_ref().unwrap().version.parse().unwrap()
}

async fn running(node: &Node, id: &str) {
    within("the service to run", async {
        while node.supervisor.state(id).unwrap() != ServiceState::Running {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_and_list_services_and_resolve_definitions() {
    let node = Node::start().await;
    node.supervisor.load(sh("web", "exec sleep 1000")).unwrap();
    node.supervisor.load(sh("idle", "exec sleep 1000")).unwrap();
    node.supervisor.start("web").await.unwrap();
    running(&node, "web").await;
    let mut state = node.state();

    // Get by full type and by alias, with the default namespace.
    let get = |type_: &str, ns: &str, id: &str| pb::GetRequest {
        namespace: ns.into(),
        r#type: type_.into(),
        id: id.into(),
        options: None,
    };
    let web = state
        .get(get(SERVICES, "runtime", "web"))
        .await
        .unwrap()
        .into_inner();
    let web = web.resource.unwrap();
    let md = web.metadata.as_ref().unwrap();
    assert_eq!((md.namespace.as_str(), md.id.as_str()), ("runtime", "web"));
    assert_eq!(md.owner, "supervisor");
    assert_eq!(md.phase, "running");
    assert!(md.created.is_some() && md.updated.is_some());
    assert_eq!(yaml(&web)["running"], serde_yaml::Value::Bool(true));
    let by_alias = state.get(get("svc", "", "web")).await.unwrap().into_inner();
    assert_eq!(by_alias.resource.unwrap().metadata, web.metadata);

    // List streams every service, sorted by id.
    let list = pb::ListRequest {
        namespace: "runtime".into(),
        r#type: "services".into(),
        options: None,
    };
    let items: Vec<pb::ListResponse> = state
        .list(list)
        .await
        .unwrap()
        .into_inner()
        .map(|r| r.unwrap())
        .collect()
        .await;
    let ids: Vec<String> = items
        .iter()
        .map(|i| {
            i.resource
                .as_ref()
                .unwrap()
                .metadata
                .as_ref()
                .unwrap()
                .id
                .clone()
        })
        .collect();
    assert_eq!(ids, ["idle", "web"]);
    assert_eq!(
        yaml(items[0].resource.as_ref().unwrap())["running"],
        serde_yaml::Value::Bool(false)
    );

    // Definitions: listed in namespace meta, decodable from proto_spec, resolving aliases.
    let defs = pb::ListRequest {
        namespace: "meta".into(),
        r#type: RESOURCE_DEFINITION_TYPE.into(),
        options: None,
    };
    let specs: Vec<(String, ResourceDefinitionSpec)> = state
        .list(defs)
        .await
        .unwrap()
        .into_inner()
        .map(|r| {
            let r = r.unwrap().resource.unwrap();
            let id = r.metadata.unwrap().id;
            (
                id,
                ResourceDefinitionSpec::decode(r.spec.unwrap().proto_spec.as_slice()).unwrap(),
            )
        })
        .collect()
        .await;
    let resolve = |name: &str| {
        specs
            .iter()
            .find(|(id, s)| {
                id.eq_ignore_ascii_case(name)
                    || s.all_aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
            })
            .map(|(_, s)| s.clone())
    };
    for name in ["svc", "services", "Service", SERVICES] {
        let spec = resolve(name).unwrap_or_else(|| panic!("{name} does not resolve"));
        assert_eq!(spec.resource_type, SERVICES);
        assert_eq!(spec.default_namespace, "runtime");
        assert_eq!(spec.print_columns[0].name, "Running");
    }
    assert!(resolve(RESOURCE_DEFINITION_TYPE).is_some());
    assert!(resolve("nonsense").is_none());
    // A definition can also be fetched by an alias of its type.
    let rd = state
        .get(get("rd", "", "svc"))
        .await
        .unwrap()
        .into_inner()
        .resource
        .unwrap();
    assert_eq!(rd.metadata.unwrap().id, SERVICES);
    assert!(rd
        .spec
        .unwrap()
        .yaml_spec
        .contains("defaultNamespace: runtime"));

    // Errors: a missing id and an unknown type are NOT_FOUND with helpful messages.
    let missing = state
        .get(get(SERVICES, "runtime", "nope"))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert!(
        missing
            .message()
            .contains("runtime/Services.v1alpha1.basalt.dev/nope"),
        "{}",
        missing.message()
    );
    let unknown = state.get(get("Bogus.x.y", "", "a")).await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(
        unknown.message().contains(SERVICES),
        "{}",
        unknown.message()
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensitive_types_need_the_admin_role() {
    let node = Node::start().await;
    node.store
        .register(ResourceDefinition {
            type_: "Secrets.test.basalt.dev".into(),
            aliases: vec!["secret".into()],
            default_namespace: "secrets".into(),
            columns: vec![Column::new("Value", "{.value}")],
            sensitive: true,
        })
        .unwrap();
    let mut r = basalt_resources::Resource::new(
        "secrets",
        "Secrets.test.basalt.dev",
        "a",
        serde_json::json!({"value": "s3cret"}),
    );
    r = node.store.create("test", r).unwrap();
    // Over the local socket the caller is an administrator.
    let got = node
        .state()
        .get(pb::GetRequest {
            namespace: "".into(),
            r#type: "secret".into(),
            id: "a".into(),
            options: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(version(&got.resource.unwrap()), r.metadata.version);
    // A caller without roles (what apid will pass for readers) is refused.
    use basalt_api::cosi::resource::state_server::State;
    let service = CosiState::new(node.handle.clone(), node.shutdown.clone());
    let mut request = tonic::Request::new(pb::GetRequest {
        namespace: "".into(),
        r#type: "secret".into(),
        id: "a".into(),
        options: None,
    });
    request.extensions_mut().insert(Caller::default());
    let err = service.get(request).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert!(err.message().contains("os:admin"), "{}", err.message());
    node.stop().await;
}
