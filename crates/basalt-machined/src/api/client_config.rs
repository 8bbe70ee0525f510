//! `GenerateClientConfiguration`: a new client certificate from the OS CA (`machine.ca` of
//! the node's config) with the requested roles and lifetime, returned with the CA and a
//! client config file (talosconfig layout) holding all three. Admin only.

use std::time::Duration;

use basalt_api::machine as m;
use basalt_client_config::{ClientConfig, Context, PemBlob};
use basalt_config::v1alpha1;
use basalt_pki::{issue_client_certificate, CertificateAuthority, ADMIN_CERT_LIFETIME};
use tonic::Status;

use super::apply::roles;
use super::handle::{ApiHandle, Caller, Role};
use crate::machine::resources::{MACHINE_CONFIG_ID, MACHINE_CONFIG_NAMESPACE, MACHINE_CONFIG_TYPE};

/// Issues the client configuration asked for by `req`.
pub fn generate(
    handle: &ApiHandle,
    caller: &Caller,
    req: &m::GenerateClientConfigurationRequest,
) -> Result<m::GenerateClientConfigurationResponse, Status> {
    if !caller.is_admin() {
        return Err(Status::permission_denied(format!(
            "GenerateClientConfiguration needs role os:admin; the caller has {}",
            roles(caller)
        )));
    }
    let requested = requested_roles(&req.roles)?;
    let lifetime = match req.crt_ttl {
        None => ADMIN_CERT_LIFETIME,
        Some(d) if d.seconds == 0 && d.nanos == 0 => ADMIN_CERT_LIFETIME,
        Some(d) => Duration::try_from(d).map_err(|e| {
            Status::invalid_argument(format!("crt_ttl must be a positive duration: {e}"))
        })?,
    };
    let config = machine_config(handle)?;
    let ca = os_ca(&config)?;
    let issued = issue_client_certificate(&ca, &requested, lifetime)
        .map_err(|e| Status::internal(format!("cannot issue the client certificate: {e}")))?;
    let pem = |bytes: &[u8]| {
        PemBlob::from_pem(bytes.to_vec())
            .map_err(|e| Status::internal(format!("cannot encode a PEM block: {e}")))
    };
    let context = Context {
        endpoints: endpoint_host(&config).into_iter().collect(),
        nodes: Vec::new(),
        ca: Some(pem(ca.cert_pem().as_bytes())?),
        crt: Some(pem(issued.cert_pem.as_bytes())?),
        key: Some(pem(issued.key_pem.as_bytes())?),
    };
    let name = config
        .cluster
        .cluster_name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "basalt".to_string());
    let talosconfig = ClientConfig::with_context(&name, context)
        .and_then(|c| c.to_yaml())
        .map_err(|e| Status::internal(format!("cannot write the client config: {e}")))?;
    Ok(m::GenerateClientConfigurationResponse {
        messages: vec![m::GenerateClientConfiguration {
            metadata: handle.metadata(),
            ca: ca.cert_pem().as_bytes().to_vec(),
            crt: issued.cert_pem.into_bytes(),
            key: issued.key_pem.into_bytes(),
            talosconfig: talosconfig.into_bytes(),
        }],
    })
}

/// The role names of the request: at least one, each known.
fn requested_roles(names: &[String]) -> Result<Vec<&str>, Status> {
    let known: Vec<&str> = Role::ALL.iter().map(|(_, n)| *n).collect();
    if names.is_empty() {
        return Err(Status::invalid_argument(format!(
            "give at least one role, e.g. os:reader; known roles: {}",
            known.join(", ")
        )));
    }
    names
        .iter()
        .map(|n| match Role::parse(n) {
            Some(role) => Ok(role.name()),
            None => Err(Status::invalid_argument(format!(
                "unknown role {n:?}; known roles: {}",
                known.join(", ")
            ))),
        })
        .collect()
}

/// The node's v1alpha1 config, from the `MachineConfigs` resource.
fn machine_config(handle: &ApiHandle) -> Result<v1alpha1::Config, Status> {
    let resource = handle
        .store
        .get(
            MACHINE_CONFIG_NAMESPACE,
            MACHINE_CONFIG_TYPE,
            MACHINE_CONFIG_ID,
        )
        .map_err(|_| {
            Status::failed_precondition(
                "the node has no machine config yet (maintenance mode); apply one first",
            )
        })?;
    serde_json::from_value::<v1alpha1::Config>(resource.spec)
        .map_err(|e| Status::internal(format!("cannot read the machine config resource: {e}")))
}

/// `machine.ca` with its key (control-plane nodes only).
fn os_ca(config: &v1alpha1::Config) -> Result<CertificateAuthority, Status> {
    let unavailable = || {
        Status::failed_precondition(
            "this node's config has no machine.ca key (a worker); ask a control-plane node",
        )
    };
    let ca = config.machine.ca.as_ref().ok_or_else(unavailable)?;
    let (crt, key) = (
        ca.crt().ok_or_else(unavailable)?,
        ca.key().ok_or_else(unavailable)?,
    );
    let text = |b: &v1alpha1::Base64Pem| {
        b.decode()
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| Status::internal("machine.ca is not base64 of a PEM text"))
    };
    CertificateAuthority::from_pem(&text(crt)?, &text(key)?)
        .map_err(|e| Status::internal(format!("machine.ca is unusable: {e}")))
}

/// The host of `cluster.controlPlane.endpoint` (`https://HOST:6443`), if any.
fn endpoint_host(config: &v1alpha1::Config) -> Option<String> {
    let endpoint = &config.cluster.control_plane.as_ref()?.endpoint;
    let rest = endpoint
        .split_once("://")
        .map_or(endpoint.as_str(), |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    (!host.is_empty()).then(|| host.to_string())
}
