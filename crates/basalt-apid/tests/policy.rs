//! The policy table against every RPC the proto files declare, for every role.
#![allow(clippy::unwrap_used)]

mod proto_scan;

use basalt_apid::identity::Role;
use basalt_apid::policy::{self, Denied};
use proto_scan::{repo_root, served_rpcs};

/// Who may call what, written down independently of the table (Talos's policy).
fn expected(method: &str) -> Option<&'static str> {
    let name = method.rsplit('/').next().unwrap();
    Some(match name {
        "Version" | "Hostname" | "ServiceList" | "Logs" | "Dmesg" | "Events" | "Get" | "List"
        | "Watch" | "EtcdMemberList" | "EtcdStatus" | "EtcdAlarmList" | "HealthCheck" => "reader",
        "Reboot" | "Shutdown" | "ServiceStart" | "ServiceStop" | "ServiceRestart"
        | "EtcdDefragment" | "EtcdAlarmDisarm" => "operator",
        "ApplyConfiguration"
        | "GenerateClientConfiguration"
        | "Reset"
        | "Upgrade"
        | "Bootstrap"
        | "Kubeconfig"
        | "EtcdRecover"
        | "EtcdLeaveCluster"
        | "EtcdRemoveMemberByID"
        | "EtcdForfeitLeadership" => "admin",
        "EtcdSnapshot" => "etcd",
        _ => return None,
    })
}

fn allowed_roles(class: &str) -> &'static [Role] {
    match class {
        "reader" => &[Role::Admin, Role::Operator, Role::Reader, Role::EtcdBackup],
        "operator" => &[Role::Admin, Role::Operator],
        "etcd" => &[Role::Admin, Role::Operator, Role::EtcdBackup],
        _ => &[Role::Admin],
    }
}

const CALLERS: &[(&str, &[Role])] = &[
    ("admin", &[Role::Admin]),
    ("operator", &[Role::Operator]),
    ("reader", &[Role::Reader]),
    ("etcd:backup", &[Role::EtcdBackup]),
    ("no role", &[]),
    ("impersonator only", &[Role::Impersonator]),
];

#[test]
fn every_served_rpc_for_every_role_matches_the_policy() {
    let rpcs = served_rpcs();
    assert!(rpcs.contains(&"/machine.MachineService/Version".to_string()));
    assert!(rpcs.contains(&"/cosi.resource.State/Watch".to_string()));
    for method in &rpcs {
        let class = expected(method).unwrap_or_else(|| {
            panic!(
                "{method} is served but has no decided policy: add it to POLICY and to this test"
            )
        });
        assert_eq!(policy::roles_for(method), allowed_roles(class), "{method}");
        for (caller, roles) in CALLERS {
            let outcome = policy::allowed(method, roles, false);
            let should = roles.iter().any(|r| allowed_roles(class).contains(r));
            assert_eq!(outcome.is_ok(), should, "{method} as {caller}: {outcome:?}");
            if let Err(denied) = outcome {
                let text = denied.to_string();
                assert!(text.contains(method.as_str()), "{text}");
                assert!(text.contains("os:admin"), "{text}");
                assert_eq!(denied.to_status().code(), tonic::Code::PermissionDenied);
            }
        }
    }
}

#[test]
fn every_table_entry_follows_the_talos_policy() {
    for (method, roles) in policy::POLICY {
        let class = expected(method).unwrap();
        assert_eq!(*roles, allowed_roles(class), "{method}");
    }
}

#[test]
fn an_unknown_rpc_is_admin_only() {
    let method = "/machine.MachineService/SomethingNew";
    assert!(policy::allowed(method, &[Role::Admin], false).is_ok());
    for roles in [
        &[Role::Operator, Role::Reader][..],
        &[Role::EtcdBackup],
        &[],
    ] {
        let err = policy::allowed(method, roles, false).unwrap_err();
        assert_eq!(
            err,
            Denied::Roles {
                method: method.to_string(),
                roles: roles.to_vec(),
                needed: vec![Role::Admin],
            }
        );
    }
}

#[test]
fn denial_names_the_method_the_caller_and_what_is_needed() {
    let err = policy::allowed("/machine.MachineService/Reboot", &[Role::Reader], false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("/machine.MachineService/Reboot"), "{err}");
    assert!(err.contains("os:admin,os:operator"), "{err}");
    assert!(err.contains("only os:reader"), "{err}");
    let err = policy::allowed("/machine.MachineService/Version", &[], false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no known role"), "{err}");
}

#[test]
fn maintenance_allows_only_read_only_calls_and_apply_configuration() {
    for method in served_rpcs()
        .iter()
        .map(String::as_str)
        .chain(["/machine.MachineService/Reset", "/x.Y/Unknown"])
    {
        let read_only = expected(method) == Some("reader");
        let apply = method == policy::APPLY_CONFIGURATION;
        for (caller, roles) in CALLERS {
            let outcome = policy::allowed(method, roles, true);
            assert_eq!(outcome.is_ok(), read_only || apply, "{method} as {caller}");
            if let Err(err) = outcome {
                assert!(matches!(err, Denied::Maintenance { .. }), "{err}");
                assert!(err.to_string().contains("maintenance mode"), "{err}");
            }
        }
    }
    assert!(policy::allowed(policy::APPLY_CONFIGURATION, &[], true).is_ok());
}

#[test]
fn docs_api_policy_md_is_rendered_from_the_table() {
    let path = repo_root().join("docs/api-policy.md");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == policy::render_markdown(),
        "docs/api-policy.md is out of date with crates/basalt-apid/src/policy.rs; regenerate it: \
         cargo run -p basalt-apid --example render-policy > docs/api-policy.md"
    );
    for (method, _) in policy::POLICY {
        assert!(on_disk.contains(method), "{method}");
    }
}

/// A streamed reply fanned out as if it were unary keeps only one message per node (an
/// etcd snapshot arrived as its last 32 bytes): every server-streaming machine RPC must be
/// in the proxy's streaming list.
#[test]
fn every_server_streaming_rpc_is_fanned_out_as_a_stream() {
    let streaming = proto_scan::server_streaming_machine_rpcs();
    assert!(streaming.len() >= 4, "{streaming:?}");
    for method in streaming {
        assert!(
            basalt_apid::proxy::route::STREAMING_METHODS.contains(&method.as_str()),
            "{method} is missing from STREAMING_METHODS"
        );
    }
}
