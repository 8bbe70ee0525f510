//! Wire compatibility of package `cosi.resource` with the COSI specification:
//! encode messages and check field numbers and wire types in the raw bytes.
#![allow(clippy::unwrap_used)]

mod raw;

use basalt_api::cosi::resource as cosi;
use basalt_api::cosi::resource::meta::{resource_definition_spec, ResourceDefinitionSpec};
use prost::Message;
use raw::{layout, payload, LEN, VARINT};

#[test]
fn cosi_resource_layout() {
    let resource = cosi::Resource {
        metadata: Some(cosi::Metadata {
            namespace: "runtime".into(),
            r#type: "Services.v1alpha1.basalt.dev".into(),
            id: "etcd".into(),
            version: "3".into(),
            owner: "o".into(),
            phase: basalt_api::cosi::PHASE_RUNNING.into(),
            created: Some(prost_types::Timestamp::default()),
            updated: Some(prost_types::Timestamp {
                seconds: 1,
                nanos: 0,
            }),
            finalizers: vec!["f".into()],
            annotations: [("a".to_string(), "1".to_string())].into(),
            labels: [("l".to_string(), "2".to_string())].into(),
        }),
        spec: Some(cosi::Spec {
            proto_spec: vec![1],
            yaml_spec: "running: true\n".into(),
        }),
    };
    let buf = resource.encode_to_vec();
    assert_eq!(layout(&buf), [(1, LEN), (2, LEN)]);
    let mut md = layout(&payload(&buf, 1));
    md.sort_unstable();
    let expected: Vec<(u32, u8)> = (1..=11).map(|n| (n, LEN)).collect();
    assert_eq!(md, expected);
    assert_eq!(layout(&payload(&buf, 2)), [(1, LEN), (2, LEN)]);
}

#[test]
fn cosi_watch_layouts() {
    let req = cosi::WatchRequest {
        namespace: "runtime".into(),
        r#type: "t".into(),
        id: Some(String::new()), // proto3 optional: present even when empty
        options: Some(cosi::WatchOptions {
            bootstrap_contents: true,
            tail_events: 1,
            label_query: vec![cosi::LabelQuery::default()],
            id_query: Some(cosi::IdQuery { regexp: "x".into() }),
            aggregated: true,
            start_from_bookmark: Some(vec![7]),
            bootstrap_bookmark: true,
        }),
        api_version: 1,
    };
    let buf = req.encode_to_vec();
    assert_eq!(
        layout(&buf),
        [(1, LEN), (2, LEN), (3, LEN), (4, LEN), (5, VARINT)]
    );
    assert_eq!(
        layout(&payload(&buf, 4)),
        [
            (1, VARINT),
            (2, VARINT),
            (3, LEN),
            (4, LEN),
            (5, VARINT),
            (6, LEN),
            (7, VARINT)
        ]
    );

    let event = cosi::Event {
        resource: Some(cosi::Resource::default()),
        old: Some(cosi::Resource::default()),
        error: Some("e".into()),
        event_type: cosi::EventType::Bootstrapped as i32,
        bookmark: Some(vec![1]),
    };
    let mut ev = layout(&event.encode_to_vec());
    ev.sort_unstable();
    assert_eq!(ev, [(1, LEN), (2, VARINT), (3, LEN), (4, LEN), (5, LEN)]);
    assert_eq!(cosi::EventType::Bootstrapped as i32, 3);
    assert_eq!(cosi::EventType::Errored as i32, 4);

    let resp = cosi::WatchResponse { event: vec![event] };
    assert_eq!(layout(&resp.encode_to_vec()), [(1, LEN)]);
    let get = cosi::GetRequest {
        namespace: "n".into(),
        r#type: "t".into(),
        id: "i".into(),
        options: Some(cosi::GetOptions {}),
    };
    assert_eq!(
        layout(&get.encode_to_vec()),
        [(1, LEN), (2, LEN), (3, LEN), (4, LEN)]
    );
    let list = cosi::ListRequest {
        namespace: "n".into(),
        r#type: "t".into(),
        options: Some(cosi::ListOptions::default()),
    };
    assert_eq!(
        layout(&list.encode_to_vec()),
        [(1, LEN), (2, LEN), (3, LEN)]
    );
}

#[test]
fn resource_definition_spec_layout() {
    let spec = ResourceDefinitionSpec {
        resource_type: "Services.v1alpha1.basalt.dev".into(),
        display_type: "Service".into(),
        default_namespace: "runtime".into(),
        aliases: vec!["svc".into()],
        all_aliases: vec!["services".into(), "svc".into()],
        print_columns: vec![resource_definition_spec::PrintColumn {
            name: "Running".into(),
            json_path: "{.running}".into(),
        }],
        sensitivity: resource_definition_spec::Sensitivity::Sensitive as i32,
    };
    let buf = spec.encode_to_vec();
    assert_eq!(
        layout(&buf),
        [
            (1, LEN),
            (2, LEN),
            (3, LEN),
            (4, LEN),
            (5, LEN),
            (5, LEN),
            (6, LEN),
            (7, VARINT)
        ]
    );
    assert_eq!(layout(&payload(&buf, 6)), [(1, LEN), (2, LEN)]);
    assert_eq!(payload(&buf, 7)[0], 1);
}
