//! Finding an existing etcd cluster: `EtcdMemberList` on the control-plane endpoint's apid
//! (`HOST:50000`), over mutual TLS with a short-lived `os:reader` client certificate this
//! node issues itself from `machine.ca` (the connection is `basalt_health::connect_with_os_ca`,
//! which the server-side health checks use too).

use std::time::Duration;

use basalt_api::machine::machine_service_client::MachineServiceClient;
use basalt_api::machine::{EtcdMember, EtcdMemberListRequest};

use super::error::EtcdServiceError;
use crate::machine::apid_service::APID_PORT;

/// Bound on the call (connecting and the handshake are bounded by `basalt_health`).
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The host of `cluster.controlPlane.endpoint` (`https://HOST:6443` → `HOST`).
pub fn endpoint_host(endpoint: &str) -> Option<String> {
    let rest = endpoint.trim();
    let rest = rest.split_once("://").map_or(rest, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split_once(']').map(|(h, _)| h)?
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    (!host.is_empty()).then(|| host.to_string())
}

/// Asks one apid for the etcd members.
#[derive(Clone)]
pub struct ApidDiscovery {
    host: String,
    port: u16,
    os_ca_crt: String,
    os_ca_key: String,
}

impl std::fmt::Debug for ApidDiscovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApidDiscovery")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl ApidDiscovery {
    /// Discovery through `host:50000`, trusting and signing with the OS CA (`machine.ca`).
    pub fn new(host: &str, os_ca_crt: &str, os_ca_key: &str) -> Self {
        ApidDiscovery {
            host: host.to_string(),
            port: APID_PORT,
            os_ca_crt: os_ca_crt.to_string(),
            os_ca_key: os_ca_key.to_string(),
        }
    }

    /// The same, on another port (tests).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// `HOST:PORT`, for messages.
    pub fn endpoint(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    fn error(&self, reason: impl Into<String>) -> EtcdServiceError {
        EtcdServiceError::Discovery {
            endpoint: self.endpoint(),
            reason: reason.into(),
        }
    }

    /// The members the apid's node sees; an empty list when its etcd does not run yet.
    pub async fn members(&self) -> Result<Vec<EtcdMember>, EtcdServiceError> {
        let channel = basalt_health::connect_with_os_ca(
            &self.host,
            self.port,
            &self.os_ca_crt,
            &self.os_ca_key,
            &["os:reader"],
        )
        .await
        .map_err(|e| match e {
            basalt_health::HealthError::Connect { reason, .. } => self.error(reason),
            other => self.error(other.to_string()),
        })?;
        let mut client = MachineServiceClient::new(channel);
        let call = client.etcd_member_list(EtcdMemberListRequest { query_local: false });
        let reply = tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| self.error(format!("no reply within {CALL_TIMEOUT:?}")))?;
        match reply {
            Ok(reply) => Ok(reply
                .into_inner()
                .messages
                .into_iter()
                .filter(|m| m.metadata.as_ref().is_none_or(|md| md.error.is_empty()))
                .flat_map(|m| m.members)
                .collect()),
            // Its etcd does not run yet (waiting for bootstrap itself): nothing found.
            Err(s) if s.code() == tonic::Code::FailedPrecondition => Ok(Vec::new()),
            Err(s) => Err(self.error(format!("{:?}: {}", s.code(), s.message()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_the_control_plane_endpoint() {
        assert_eq!(
            endpoint_host("https://10.5.0.2:6443").as_deref(),
            Some("10.5.0.2")
        );
        assert_eq!(
            endpoint_host("https://cp.example.org:6443/").as_deref(),
            Some("cp.example.org")
        );
        assert_eq!(
            endpoint_host("https://[fd00::2]:6443").as_deref(),
            Some("fd00::2")
        );
        assert_eq!(endpoint_host("https://").as_deref(), None);
    }
}
