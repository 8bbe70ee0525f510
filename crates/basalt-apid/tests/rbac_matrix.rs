//! The policy table on the real path: every RPC the proto files declare, called through a
//! real apid (mutual TLS on 127.0.0.1) in front of a real machined local API, once per
//! role. PERMISSION_DENIED must come back exactly when `policy::roles_for` excludes the
//! role; every other call must reach machined (any other status). Sensitive resources are
//! refused by machined itself to non-admins.
#![allow(clippy::unwrap_used)]

mod proto_scan;
mod proxy_support;
mod rbac_support;

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use basalt_api::cosi::resource as cosi;
use basalt_apid::identity::Role;
use basalt_apid::policy;
use basalt_machined::machine::resources::{
    MACHINE_CONFIG_ID, MACHINE_CONFIG_NAMESPACE, MACHINE_CONFIG_TYPE,
};
use prost::Message as _;
use proto_scan::served_rpcs;
use proxy_support::{channel, Pki};
use rbac_support::{call, request_for, Node, Outcome};
use tonic::transport::Channel;
use tonic::Code;

/// The callers: a name, the certificate's Organizations, and the role they stand for
/// (`None`: no role at all). The impersonator's own certificate grants nothing.
const CALLERS: &[(&str, &[&str], Option<Role>)] = &[
    ("admin", &["os:admin"], Some(Role::Admin)),
    ("operator", &["os:operator"], Some(Role::Operator)),
    ("reader", &["os:reader"], Some(Role::Reader)),
    ("etcd:backup", &["os:etcd:backup"], Some(Role::EtcdBackup)),
    ("no role", &[], None),
    (
        "impersonator",
        &["os:impersonator"],
        Some(Role::Impersonator),
    ),
];

/// One client channel per caller, each with its own certificate from the OS CA.
async fn channels(pki: &Pki, node: &Node) -> Vec<Channel> {
    let mut out = Vec::new();
    for (_, orgs, _) in CALLERS {
        out.push(channel(node.addr, pki.client_config(orgs)).await);
    }
    out
}

/// One cell of the matrix.
struct Cell {
    outcome: Outcome,
    expect_denied: bool,
    message: String,
}

impl Cell {
    /// Whether the outcome matches the policy: denied exactly when expected, and a denial
    /// the policy predicts comes from apid (its message names the method).
    fn problem(&self, method: &str) -> Option<String> {
        if self.outcome.is_denied() != self.expect_denied {
            let want = if self.expect_denied {
                "PermissionDenied"
            } else {
                "anything but PermissionDenied"
            };
            return Some(format!(
                "expected {want}, got {}: {}",
                self.outcome, self.message
            ));
        }
        if self.expect_denied && !self.message.contains(method) {
            return Some(format!(
                "denied, but not by apid's policy: {}",
                self.message
            ));
        }
        None
    }
}

/// The matrix as text: one row per RPC, one column per caller; `!` marks a mismatch.
fn render(rows: &[(String, Vec<Cell>)]) -> String {
    let mut out = format!("{:<52}", "RPC \\ caller");
    for (name, _, _) in CALLERS {
        let _ = write!(out, " {name:<18}");
    }
    out.push('\n');
    for (method, cells) in rows {
        let _ = write!(out, "{method:<52}");
        for cell in cells {
            let mark = if cell.problem(method).is_some() {
                "!"
            } else {
                ""
            };
            let _ = write!(out, " {:<18}", format!("{}{mark}", cell.outcome));
        }
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_for_every_role_matches_the_policy_through_apid() {
    let pki = Pki::new();
    let node = Node::start(&pki).await;
    let channels = channels(&pki, &node).await;
    let rpcs = served_rpcs();
    assert!(rpcs.contains(&"/machine.MachineService/Version".to_string()));
    assert!(rpcs.contains(&"/cosi.resource.State/Watch".to_string()));

    let mut rows = Vec::new();
    for method in &rpcs {
        let allowed = policy::roles_for(method);
        let mut cells = Vec::new();
        for ((_, _, role), channel) in CALLERS.iter().zip(&channels) {
            let (outcome, message) = call(channel, method, request_for(method)).await;
            let expect_denied = !role.is_some_and(|r| allowed.contains(&r));
            cells.push(Cell {
                outcome,
                expect_denied,
                message,
            });
        }
        rows.push((method.clone(), cells));
    }
    let matrix = render(&rows);
    println!("{matrix}");
    let problems: Vec<String> = rows
        .iter()
        .flat_map(|(method, cells)| {
            cells
                .iter()
                .zip(CALLERS)
                .filter_map(move |(cell, (who, _, _))| {
                    cell.problem(method)
                        .map(|p| format!("{method} as {who}: {p}"))
                })
        })
        .collect();
    assert!(
        problems.is_empty(),
        "the real path disagrees with the policy table:\n{}\n\n{matrix}",
        problems.join("\n")
    );

    // The admin's invalid config reached machined's validation and changed nothing.
    let apply = rows
        .iter()
        .find(|(m, _)| m == policy::APPLY_CONFIGURATION)
        .map(|(_, cells)| &cells[0])
        .unwrap();
    assert_eq!(
        apply.outcome,
        Outcome::Status(Code::InvalidArgument),
        "{matrix}"
    );
    assert!(!node.root.path().join("system/state/config.yaml").exists());

    // Denied power calls never reached the machine; allowed ones were recorded once each.
    let count = |method: &str| {
        CALLERS
            .iter()
            .filter(|(_, _, r)| r.is_some_and(|r| policy::roles_for(method).contains(&r)))
            .count()
    };
    let reboots = node.power.reboots.load(Ordering::SeqCst);
    assert_eq!(reboots, count("/machine.MachineService/Reboot"), "{matrix}");
    let shutdowns = node.power.shutdowns.load(Ordering::SeqCst);
    assert_eq!(
        shutdowns,
        count("/machine.MachineService/Shutdown"),
        "{matrix}"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensitive_resources_need_admin_even_where_the_policy_allows_the_call() {
    let pki = Pki::new();
    let node = Node::start(&pki).await;
    let get = cosi::GetRequest {
        namespace: MACHINE_CONFIG_NAMESPACE.into(),
        r#type: MACHINE_CONFIG_TYPE.into(),
        id: MACHINE_CONFIG_ID.into(),
        options: None,
    };
    let list = cosi::ListRequest {
        namespace: MACHINE_CONFIG_NAMESPACE.into(),
        r#type: MACHINE_CONFIG_TYPE.into(),
        options: None,
    };
    let calls = [
        ("/cosi.resource.State/Get", get.encode_to_vec()),
        ("/cosi.resource.State/List", list.encode_to_vec()),
    ];
    for orgs in [&["os:reader"][..], &["os:operator"], &["os:etcd:backup"]] {
        let channel = channel(node.addr, pki.client_config(orgs)).await;
        for (method, request) in &calls {
            let (outcome, message) = call(&channel, method, request.clone().into()).await;
            assert_eq!(
                outcome,
                Outcome::Status(Code::PermissionDenied),
                "{method} as {orgs:?}"
            );
            // machined refused it (apid's policy lets these roles call Get/List).
            assert!(
                message.contains("sensitive"),
                "{method} as {orgs:?}: {message}"
            );
            assert!(message.contains("os:admin"), "{message}");
        }
    }
    let admin = channel(node.addr, pki.client_config(&["os:admin"])).await;
    let mut client = cosi::state_client::StateClient::new(admin);
    let reply = client.get(get).await.unwrap().into_inner();
    let resource = reply.resource.unwrap();
    assert_eq!(resource.metadata.unwrap().id, MACHINE_CONFIG_ID);
    let spec = resource.spec.unwrap().yaml_spec;
    assert!(spec.contains("machine"), "{spec}");
    node.stop().await;
}
