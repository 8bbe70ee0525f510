//! Wire compatibility of ApplyConfiguration and GenerateClientConfiguration with Talos
//! (siderolabs/talos api/machine/machine.proto): field numbers, wire types, enum values.
#![allow(clippy::unwrap_used)]

mod raw;

use basalt_api::common;
use basalt_api::machine as m;
use prost::Message;
use raw::{layout, payload, LEN, VARINT};

#[test]
fn apply_request_fields_skip_the_retired_numbers() {
    let req = m::ApplyConfigurationRequest {
        data: b"version: v1alpha1\n".to_vec(),
        mode: m::apply_configuration_request::Mode::Try as i32,
        dry_run: true,
        try_mode_timeout: Some(prost_types::Duration {
            seconds: 60,
            nanos: 0,
        }),
    };
    let buf = req.encode_to_vec();
    // data = 1, mode = 4, dry_run = 5, try_mode_timeout = 6 (2 and 3 retired in Talos)
    assert_eq!(layout(&buf), [(1, LEN), (4, VARINT), (5, VARINT), (6, LEN)]);
    assert_eq!(payload(&buf, 1), b"version: v1alpha1\n");
    assert_eq!(payload(&buf, 4)[0], 4);
    // google.protobuf.Duration: seconds = 1
    assert_eq!(layout(&payload(&buf, 6)), [(1, VARINT)]);
}

#[test]
fn apply_mode_values_match_talos() {
    use m::apply_configuration_request::Mode;
    let modes = [
        (Mode::Reboot, 0),
        (Mode::Auto, 1),
        (Mode::NoReboot, 2),
        (Mode::Staged, 3),
        (Mode::Try, 4),
    ];
    for (mode, value) in modes {
        assert_eq!(mode as i32, value, "{mode:?}");
    }
}

#[test]
fn apply_response_layout() {
    let resp = m::ApplyConfigurationResponse {
        messages: vec![m::ApplyConfiguration {
            metadata: Some(common::Metadata {
                hostname: "n1".into(),
                ..Default::default()
            }),
            warnings: vec!["w".into()],
            mode: m::apply_configuration_request::Mode::NoReboot as i32,
            mode_details: "d".into(),
        }],
    };
    let buf = resp.encode_to_vec();
    assert_eq!(layout(&buf), [(1, LEN)]);
    let one = payload(&buf, 1);
    assert_eq!(layout(&one), [(1, LEN), (2, LEN), (3, VARINT), (4, LEN)]);
    assert_eq!(payload(&one, 2), b"w");
    assert_eq!(payload(&one, 3)[0], 2);
    assert_eq!(payload(&one, 4), b"d");
}

#[test]
fn generate_client_configuration_layouts() {
    let req = m::GenerateClientConfigurationRequest {
        roles: vec!["os:reader".into()],
        crt_ttl: Some(prost_types::Duration {
            seconds: 3600,
            nanos: 0,
        }),
    };
    let buf = req.encode_to_vec();
    assert_eq!(layout(&buf), [(1, LEN), (2, LEN)]);
    assert_eq!(payload(&buf, 1), b"os:reader");

    let resp = m::GenerateClientConfigurationResponse {
        messages: vec![m::GenerateClientConfiguration {
            metadata: Some(common::Metadata::default()),
            ca: b"ca".to_vec(),
            crt: b"crt".to_vec(),
            key: b"key".to_vec(),
            talosconfig: b"tc".to_vec(),
        }],
    };
    let buf = resp.encode_to_vec();
    assert_eq!(layout(&buf), [(1, LEN)]);
    let one = payload(&buf, 1);
    assert_eq!(
        layout(&one),
        [(1, LEN), (2, LEN), (3, LEN), (4, LEN), (5, LEN)]
    );
    assert_eq!(payload(&one, 5), b"tc");
}
