//! Wire compatibility of packages `machine` and `common` with Talos: encode
//! messages and check field numbers and wire types in the raw bytes, so a
//! renumbered field fails here.
#![allow(clippy::unwrap_used)]

mod raw;

use basalt_api::common;
use basalt_api::machine as m;
use prost::{Message, Name};
use raw::{fields, layout, payload, LEN, VARINT};

#[test]
fn logs_request_matches_hand_encoded_bytes() {
    let req = m::LogsRequest {
        namespace: "system".into(),
        id: "kubelet".into(),
        driver: common::ContainerDriver::Cri as i32,
        follow: true,
        tail_lines: 5,
    };
    let mut expected = vec![0x0a, 6];
    expected.extend_from_slice(b"system");
    expected.extend_from_slice(&[0x12, 7]);
    expected.extend_from_slice(b"kubelet");
    expected.extend_from_slice(&[0x18, 1, 0x20, 1, 0x28, 5]);
    assert_eq!(req.encode_to_vec(), expected);

    // talosctl's default tail (-1) is a 10-byte negative varint in field 5.
    let all = m::LogsRequest {
        tail_lines: -1,
        ..Default::default()
    }
    .encode_to_vec();
    assert_eq!(layout(&all), [(5, VARINT)]);
    assert_eq!(all.len(), 11);
}

#[test]
fn version_response_layout() {
    let resp = m::VersionResponse {
        messages: vec![m::Version {
            metadata: Some(common::Metadata {
                hostname: "n1".into(),
                ..Default::default()
            }),
            version: Some(m::VersionInfo {
                tag: "t".into(),
                sha: "s".into(),
                built: "b".into(),
                go_version: "g".into(),
                os: "o".into(),
                arch: "a".into(),
                image: "i".into(),
            }),
            platform: Some(m::PlatformInfo {
                name: "n".into(),
                mode: "m".into(),
            }),
            features: Some(m::FeaturesInfo { rbac: true }),
        }],
    };
    let buf = resp.encode_to_vec();
    assert_eq!(layout(&buf), [(1, LEN)]); // messages = 1
    let version = payload(&buf, 1);
    assert_eq!(layout(&version), [(1, LEN), (2, LEN), (3, LEN), (4, LEN)]);
    assert_eq!(payload(&payload(&version, 1), 1), b"n1"); // Metadata.hostname = 1
    let info = payload(&version, 2);
    let numbered: Vec<(u32, Vec<u8>)> = fields(&info).into_iter().map(|(n, _, p)| (n, p)).collect();
    let expected: Vec<(u32, Vec<u8>)> = [
        (1, "t"),
        (2, "s"),
        (3, "b"),
        (4, "g"),
        (5, "o"),
        (6, "a"),
        (1001, "i"),
    ]
    .iter()
    .map(|(n, s)| (*n, s.as_bytes().to_vec()))
    .collect();
    assert_eq!(numbered, expected);
}

#[test]
fn event_layout_and_payload_type_url() {
    let payload_msg = m::ServiceStateEvent {
        service: "etcd".into(),
        action: m::service_state_event::Action::Starting as i32,
        message: "starting".into(),
        health: Some(m::ServiceHealth {
            unknown: true,
            ..Default::default()
        }),
    };
    let data = prost_types::Any::from_msg(&payload_msg).unwrap();
    assert_eq!(data.type_url, "talos/runtime/machine.ServiceStateEvent");
    assert_eq!(
        m::SequenceEvent::type_url(),
        "talos/runtime/machine.SequenceEvent"
    );
    assert_eq!(
        m::MachineStatusEvent::type_url(),
        "talos/runtime/machine.MachineStatusEvent"
    );

    let event = m::Event {
        metadata: Some(common::Metadata::default()),
        data: Some(data),
        id: "42".into(),
        actor_id: "actor".into(),
    };
    let buf = event.encode_to_vec();
    assert_eq!(layout(&buf), [(1, LEN), (2, LEN), (3, LEN), (4, LEN)]);

    // Any: type_url = 1, value = 2; the value is the ServiceStateEvent.
    let any = payload(&buf, 2);
    assert_eq!(payload(&any, 1), b"talos/runtime/machine.ServiceStateEvent");
    let inner = payload(&any, 2);
    assert_eq!(layout(&inner), [(1, LEN), (2, VARINT), (3, LEN), (4, LEN)]);
    assert_eq!(payload(&inner, 2)[0], 8); // STARTING = 8 in Talos
    let decoded = prost_types::Any::decode(&any[..])
        .unwrap()
        .to_msg::<m::ServiceStateEvent>()
        .unwrap();
    assert_eq!(decoded, payload_msg);
}

#[test]
fn event_enum_values_match_talos() {
    use m::service_state_event::Action as S;
    let states = [
        (S::Initialized, 0),
        (S::Preparing, 1),
        (S::Waiting, 2),
        (S::Running, 3),
        (S::Stopping, 4),
        (S::Finished, 5),
        (S::Failed, 6),
        (S::Skipped, 7),
        (S::Starting, 8),
    ];
    for (state, value) in states {
        assert_eq!(state as i32, value, "{state:?}");
    }
    assert_eq!(m::sequence_event::Action::Start as i32, 1);
    assert_eq!(m::phase_event::Action::Stop as i32, 1);
    assert_eq!(
        m::machine_status_event::MachineStage::ShuttingDown as i32,
        6
    );
    assert_eq!(m::reboot_request::Mode::Powercycle as i32, 1);
    assert_eq!(common::Code::Locked as i32, 1);
}

#[test]
fn sequence_event_error_and_request_layouts() {
    let seq = m::SequenceEvent {
        sequence: "boot".into(),
        action: m::sequence_event::Action::Stop as i32,
        error: Some(common::Error {
            code: common::Code::Locked as i32,
            message: "locked".into(),
            details: vec![],
        }),
    };
    let buf = seq.encode_to_vec();
    assert_eq!(layout(&buf), [(1, LEN), (2, VARINT), (3, LEN)]);
    assert_eq!(layout(&payload(&buf, 3)), [(1, VARINT), (2, LEN)]);

    let req = m::EventsRequest {
        tail_events: 1,
        tail_id: "x".into(),
        tail_seconds: 2,
        with_actor_id: "y".into(),
    };
    assert_eq!(
        layout(&req.encode_to_vec()),
        [(1, VARINT), (2, LEN), (3, VARINT), (4, LEN)]
    );
    let dmesg = m::DmesgRequest {
        follow: true,
        tail: true,
    };
    assert_eq!(layout(&dmesg.encode_to_vec()), [(1, VARINT), (2, VARINT)]);
    let shutdown = m::ShutdownRequest { force: true };
    assert_eq!(layout(&shutdown.encode_to_vec()), [(1, VARINT)]);
    let reboot = m::Reboot {
        metadata: Some(common::Metadata::default()),
        actor_id: "a".into(),
    };
    assert_eq!(layout(&reboot.encode_to_vec()), [(1, LEN), (2, LEN)]);
}

#[test]
fn service_info_layout() {
    let ts = prost_types::Timestamp {
        seconds: 1,
        nanos: 0,
    };
    let info = m::ServiceInfo {
        id: "etcd".into(),
        state: "Running".into(),
        events: Some(m::ServiceEvents {
            events: vec![m::ServiceEvent {
                msg: "m".into(),
                state: "Running".into(),
                ts: Some(ts),
            }],
        }),
        health: Some(m::ServiceHealth {
            unknown: true,
            healthy: true,
            last_message: "ok".into(),
            last_change: Some(ts),
        }),
    };
    let buf = info.encode_to_vec();
    assert_eq!(layout(&buf), [(1, LEN), (2, LEN), (3, LEN), (4, LEN)]);
    let event = payload(&payload(&buf, 3), 1);
    assert_eq!(layout(&event), [(1, LEN), (2, LEN), (3, LEN)]);
    assert_eq!(
        layout(&payload(&buf, 4)),
        [(1, VARINT), (2, VARINT), (3, LEN), (4, LEN)]
    );
}

#[test]
fn bootstrap_request_fields() {
    let req = m::BootstrapRequest {
        recover_etcd: true,
        recover_skip_hash_check: true,
    };
    assert_eq!(req.encode_to_vec(), [0x08, 1, 0x10, 1]);
    assert_eq!(m::BootstrapRequest::full_name(), "machine.BootstrapRequest");
}

#[test]
fn etcd_member_list_layout() {
    assert_eq!(
        m::EtcdMemberListRequest { query_local: true }.encode_to_vec(),
        [0x08, 1]
    );
    let member = m::EtcdMember {
        id: 7,
        hostname: "cp-1".into(),
        peer_urls: vec!["https://10.5.0.2:2380".into()],
        client_urls: vec!["https://10.5.0.2:2379".into()],
        is_learner: true,
    };
    let bytes = member.encode_to_vec();
    assert_eq!(
        layout(&bytes),
        [(2, VARINT), (3, LEN), (4, LEN), (5, LEN), (6, VARINT)]
    );
    let members = m::EtcdMembers {
        metadata: Some(common::Metadata::default()),
        legacy_members: vec!["cp-1".into()],
        members: vec![member],
    };
    assert_eq!(
        layout(&members.encode_to_vec()),
        [(1, LEN), (2, LEN), (3, LEN)]
    );
    let resp = m::EtcdMemberListResponse {
        messages: vec![members],
    };
    assert_eq!(layout(&resp.encode_to_vec()), [(1, LEN)]);
}

#[test]
fn etcd_remove_member_and_forfeit_layout() {
    let req = m::EtcdRemoveMemberByIdRequest { member_id: 300 };
    assert_eq!(req.encode_to_vec(), [0x08, 0xac, 0x02]);
    let f = m::EtcdForfeitLeadership {
        metadata: Some(common::Metadata::default()),
        member: "cp-2".into(),
    };
    assert_eq!(layout(&f.encode_to_vec()), [(1, LEN), (2, LEN)]);
    assert!(m::EtcdLeaveClusterRequest {}.encode_to_vec().is_empty());
    assert!(m::EtcdSnapshotRequest {}.encode_to_vec().is_empty());
}

#[test]
fn etcd_status_field_numbers() {
    let status = m::EtcdMemberStatus {
        member_id: 1,
        protocol_version: "3.4.0".into(),
        db_size: 2,
        db_size_in_use: 3,
        leader: 4,
        raft_index: 5,
        raft_term: 6,
        raft_applied_index: 7,
        errors: vec!["e".into()],
        is_learner: true,
    };
    // prost encodes in field-number order: member_id (10) comes last.
    assert_eq!(
        layout(&status.encode_to_vec()),
        [
            (1, LEN),
            (2, VARINT),
            (3, VARINT),
            (4, VARINT),
            (5, VARINT),
            (6, VARINT),
            (7, VARINT),
            (8, LEN),
            (9, VARINT),
            (10, VARINT)
        ]
    );
    let s = m::EtcdStatus {
        metadata: Some(common::Metadata::default()),
        member_status: Some(status),
    };
    assert_eq!(layout(&s.encode_to_vec()), [(1, LEN), (2, LEN)]);
}

#[test]
fn etcd_alarm_layout() {
    let alarm = m::EtcdMemberAlarm {
        member_id: 9,
        alarm: m::etcd_member_alarm::AlarmType::Nospace as i32,
    };
    assert_eq!(alarm.encode_to_vec(), [0x08, 9, 0x10, 1]);
    assert_eq!(m::etcd_member_alarm::AlarmType::Corrupt as i32, 2);
    let list = m::EtcdAlarm {
        metadata: Some(common::Metadata::default()),
        member_alarms: vec![alarm],
    };
    assert_eq!(layout(&list.encode_to_vec()), [(1, LEN), (2, LEN)]);
    let disarm = m::EtcdAlarmDisarm {
        metadata: None,
        member_alarms: vec![alarm],
    };
    assert_eq!(layout(&disarm.encode_to_vec()), [(2, LEN)]);
}
