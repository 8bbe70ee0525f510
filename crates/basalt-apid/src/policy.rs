//! The one authorization table: which roles may call which RPC.
//!
//! Follows Talos's policy: readers see non-sensitive state, operators also
//! reboot, shut down and control services, admins may do everything. An RPC
//! missing from [`POLICY`] is admin-only. Sensitive resource types (machine
//! config, secrets) need admin as well; machined enforces that per type, from
//! the roles apid passes on. `docs/api-policy.md` is rendered from this table
//! by [`render_markdown`] (`cargo run -p basalt-apid --example render-policy`).

use std::fmt::Write as _;

use crate::identity::Role;

/// Only admins.
const ADMIN: &[Role] = &[Role::Admin];
/// Operators and admins.
const OPERATOR: &[Role] = &[Role::Admin, Role::Operator];
/// Every role that may read non-sensitive state.
const READER: &[Role] = &[Role::Admin, Role::Operator, Role::Reader, Role::EtcdBackup];
/// Who may take etcd snapshots.
const ETCD_BACKUP: &[Role] = &[Role::Admin, Role::Operator, Role::EtcdBackup];

/// The RPC allowed in maintenance mode besides the read-only ones.
pub const APPLY_CONFIGURATION: &str = "/machine.MachineService/ApplyConfiguration";

/// Every RPC with the roles allowed to call it (full gRPC path).
pub const POLICY: &[(&str, &[Role])] = &[
    (APPLY_CONFIGURATION, ADMIN),
    ("/machine.MachineService/Bootstrap", ADMIN),
    ("/machine.MachineService/Dmesg", READER),
    ("/machine.MachineService/EtcdAlarmDisarm", OPERATOR),
    ("/machine.MachineService/EtcdAlarmList", READER),
    ("/machine.MachineService/EtcdDefragment", OPERATOR),
    ("/machine.MachineService/EtcdForfeitLeadership", ADMIN),
    ("/machine.MachineService/EtcdLeaveCluster", ADMIN),
    ("/machine.MachineService/EtcdMemberList", READER),
    ("/machine.MachineService/EtcdRecover", ADMIN),
    ("/machine.MachineService/EtcdRemoveMemberByID", ADMIN),
    ("/machine.MachineService/EtcdSnapshot", ETCD_BACKUP),
    ("/machine.MachineService/EtcdStatus", READER),
    ("/machine.MachineService/Events", READER),
    ("/machine.MachineService/GenerateClientConfiguration", ADMIN),
    ("/machine.MachineService/Hostname", READER),
    ("/machine.MachineService/Kubeconfig", ADMIN),
    ("/machine.MachineService/Logs", READER),
    ("/machine.MachineService/Reboot", OPERATOR),
    ("/machine.MachineService/Reset", ADMIN),
    ("/machine.MachineService/ServiceList", READER),
    ("/machine.MachineService/ServiceRestart", OPERATOR),
    ("/machine.MachineService/ServiceStart", OPERATOR),
    ("/machine.MachineService/ServiceStop", OPERATOR),
    ("/machine.MachineService/Shutdown", OPERATOR),
    ("/machine.MachineService/Upgrade", ADMIN),
    ("/machine.MachineService/Version", READER),
    ("/cosi.resource.State/Get", READER),
    ("/cosi.resource.State/List", READER),
    ("/cosi.resource.State/Watch", READER),
    ("/cluster.ClusterService/HealthCheck", READER),
];

/// A call the policy refuses. The message names the method, the caller's roles
/// and what would be needed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The caller's roles are not among the roles the method needs.
    #[error("permission denied: {method} needs one of the roles {}; the caller's certificate has {}; use a client certificate with one of those roles (`basaltctl config new --roles ...`)", Role::join(needed), describe(roles))]
    Roles {
        /// The full gRPC method path.
        method: String,
        /// The caller's roles.
        roles: Vec<Role>,
        /// The roles that would be allowed.
        needed: Vec<Role>,
    },
    /// The method is not available while the node is in maintenance mode.
    #[error("{method} is not available in maintenance mode: only read-only calls and ApplyConfiguration are; apply a machine config first (`basaltctl apply-config --insecure`)")]
    Maintenance {
        /// The full gRPC method path.
        method: String,
    },
}

impl Denied {
    /// The gRPC status to answer with (`PERMISSION_DENIED`).
    pub fn to_status(&self) -> tonic::Status {
        tonic::Status::permission_denied(self.to_string())
    }
}

fn describe(roles: &[Role]) -> String {
    if roles.is_empty() {
        "no known role (its Organization names none of os:admin, os:operator, os:reader, os:etcd:backup)".to_string()
    } else {
        format!("only {}", Role::join(roles))
    }
}

/// The roles allowed to call `method`; [`Role::Admin`] only when the method is not in the table.
pub fn roles_for(method: &str) -> &'static [Role] {
    POLICY
        .iter()
        .find(|(m, _)| *m == method)
        .map_or(ADMIN, |(_, roles)| roles)
}

/// Whether `method` may be called in maintenance mode: read-only calls (those a
/// reader may make) and ApplyConfiguration.
pub fn allowed_in_maintenance(method: &str) -> bool {
    method == APPLY_CONFIGURATION || roles_for(method).contains(&Role::Reader)
}

/// Decides a call. In maintenance mode the TLS layer is the only gate (no or
/// the pinned CA's client certificate), so roles do not matter there; only the
/// method does. Otherwise one of the caller's `roles` must be allowed for the method.
pub fn allowed(method: &str, roles: &[Role], maintenance: bool) -> Result<(), Denied> {
    if maintenance {
        return if allowed_in_maintenance(method) {
            Ok(())
        } else {
            Err(Denied::Maintenance {
                method: method.to_string(),
            })
        };
    }
    let needed = roles_for(method);
    if roles.iter().any(|r| needed.contains(r)) {
        Ok(())
    } else {
        Err(Denied::Roles {
            method: method.to_string(),
            roles: roles.to_vec(),
            needed: needed.to_vec(),
        })
    }
}

/// The policy as a Markdown document (the content of `docs/api-policy.md`).
pub fn render_markdown() -> String {
    let mut out = String::new();
    out.push_str("# API access policy\n\n");
    out.push_str("<!-- Generated from crates/basalt-apid/src/policy.rs; do not edit.\n");
    out.push_str("     Regenerate: cargo run -p basalt-apid --example render-policy > docs/api-policy.md -->\n\n");
    out.push_str(
        "apid authorizes every call by the roles in the Organization of the caller's client \
         certificate (`os:admin`, `os:operator`, `os:reader`, `os:etcd:backup`; unknown \
         Organizations are ignored). A call is allowed when one of the caller's roles is listed \
         for the RPC. An RPC not listed here is admin-only. Resources of sensitive types (the \
         machine config, secrets) need `os:admin` even through Get/List/Watch; machined checks \
         that per resource type.\n\n",
    );
    out.push_str(
        "In maintenance mode (a node without a config) roles are not checked, because the \
         client may have no certificate: only the RPCs marked *yes* in the last column are \
         served, and nothing is forwarded to other nodes.\n\n",
    );
    out.push_str("| RPC | roles | maintenance |\n|---|---|---|\n");
    for (method, roles) in POLICY {
        let roles: Vec<String> = roles.iter().map(|r| format!("`{r}`")).collect();
        let maintenance = if allowed_in_maintenance(method) {
            "yes"
        } else {
            "no"
        };
        let _ = writeln!(out, "| `{method}` | {} | {maintenance} |", roles.join(", "));
    }
    out.push_str("| any other RPC | `os:admin` | no |\n");
    out
}
