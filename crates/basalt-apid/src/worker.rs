//! apid on a worker node: the config has `machine.ca.crt` but not its key, so apid
//! cannot issue its own server certificate. It makes a key and a CSR with the node's
//! names, sends them with `machine.token` to trustd at `cluster.controlPlane.endpoint`'s
//! HOST:50001, retries with backoff (saying why each attempt failed), serves with the
//! certificate, and renews it at half its lifetime. Every attempt re-reads the machine
//! config, so a corrected `machine.token` or endpoint is used without a restart.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use basalt_config::v1alpha1::Config;
use basalt_pki::{
    certificate_der_from_pem, generate_csr, CertificateInfo, ExtKeyUsage, KeyAlgorithm, PkiError,
    PrivateKey,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use tokio::task::JoinHandle;

use crate::certs::{self, CertError, ServerNames};
use crate::config_source;
use crate::console;
use crate::node_pki::NodePkiError;
use crate::tls::resolver::RotatingResolver;
use crate::trustd_client::{self, TrustdClientError, TRUSTD_PORT};

/// First pause after a failed attempt; doubled up to [`RETRY_MAX`].
pub const RETRY_FIRST: Duration = Duration::from_secs(1);
/// Longest pause between attempts.
pub const RETRY_MAX: Duration = Duration::from_secs(30);

/// What a worker needs to ask trustd for a certificate.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkerIdentity {
    /// trustd endpoints (`host:50001`).
    pub endpoints: Vec<String>,
    /// `machine.ca.crt`, PEM: verifies trustd.
    pub ca_pem: String,
    /// `machine.token`.
    pub token: String,
    /// `machine.certSANs`.
    pub cert_sans: Vec<String>,
}

impl std::fmt::Debug for WorkerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerIdentity")
            .field("endpoints", &self.endpoints)
            .field("cert_sans", &self.cert_sans)
            .finish_non_exhaustive()
    }
}

impl WorkerIdentity {
    /// Reads the endpoints, CA, token and certSANs from `config`.
    pub fn from_config(config: &Config) -> Result<Self, NodePkiError> {
        let field_error = |field: &str, reason: &str| NodePkiError {
            field: field.to_string(),
            reason: reason.to_string(),
        };
        let endpoint = config
            .cluster
            .control_plane
            .as_ref()
            .map(|c| c.endpoint.as_str())
            .unwrap_or_default();
        let host = endpoint_host(endpoint).ok_or_else(|| {
            field_error(
                ".cluster.controlPlane.endpoint",
                "missing or not a URL like https://HOST:6443; a worker finds trustd at HOST:50001",
            )
        })?;
        let ca_pem = config
            .machine
            .ca
            .as_ref()
            .and_then(|c| c.crt())
            .and_then(|crt| crt.decode().ok())
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                field_error(
                    ".machine.ca.crt",
                    "missing or not PEM; a worker verifies trustd with it",
                )
            })?;
        if config.machine.token.trim().is_empty() {
            return Err(field_error(
                ".machine.token",
                "empty; trustd signs a worker's certificate only for the cluster's token",
            ));
        }
        Ok(WorkerIdentity {
            endpoints: vec![join_host_port(&host, TRUSTD_PORT)],
            ca_pem,
            token: config.machine.token.clone(),
            cert_sans: config.machine.cert_sans.clone().unwrap_or_default(),
        })
    }
}

/// The HOST of a URL like `https://HOST:6443/path` (brackets of IPv6 removed).
pub fn endpoint_host(url: &str) -> Option<String> {
    let rest = url.trim().split_once("://").map_or(url.trim(), |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split_once(']')?.0
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_string())
}

/// `host:port`, with brackets around an IPv6 host.
pub fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Errors of one attempt to obtain a certificate.
#[derive(Debug, thiserror::Error)]
pub enum WorkerCertError {
    /// trustd could not be asked or refused.
    #[error(transparent)]
    Trustd(#[from] TrustdClientError),
    /// The key or CSR could not be made, or the reply could not be read.
    #[error("cannot {what}: {source}")]
    Pki {
        /// What was being done.
        what: &'static str,
        /// The cause.
        source: PkiError,
    },
    /// The certificate is not usable for apid.
    #[error("the certificate from trustd is unusable: {0}; check that trustd runs the same Basalt version")]
    Unusable(String),
    /// rustls refused the key.
    #[error(transparent)]
    Cert(#[from] CertError),
}

/// A certificate obtained from trustd.
#[derive(Clone)]
pub struct Obtained {
    /// The certificate and key for rustls.
    pub key: Arc<CertifiedKey>,
    /// How long it is valid from now.
    pub valid_for: Duration,
    /// The names it was requested for.
    pub names: ServerNames,
    /// The endpoints asked.
    pub endpoints: Vec<String>,
}

impl std::fmt::Debug for Obtained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Obtained")
            .field("valid_for", &self.valid_for)
            .field("names", &self.names)
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

/// One attempt: a new key, a CSR for this node's names, trustd's signature.
pub async fn obtain_once(identity: &WorkerIdentity) -> Result<Obtained, WorkerCertError> {
    let names = ServerNames::discover(&identity.cert_sans);
    let pki = |what| move |source| WorkerCertError::Pki { what, source };
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).map_err(pki("generate a key"))?;
    let common_name = names.dns.first().cloned().unwrap_or_default();
    let csr = generate_csr(&key, &common_name, &names.all()).map_err(pki("make the CSR"))?;
    let signed = trustd_client::request_certificate(
        &identity.endpoints,
        &identity.ca_pem,
        &identity.token,
        &csr,
    )
    .await?;
    let info =
        CertificateInfo::from_pem(&signed.crt_pem).map_err(pki("read trustd's certificate"))?;
    if info.public_key_der != key.public_key_der() {
        return Err(WorkerCertError::Unusable(
            "it is not for the key of the request".to_string(),
        ));
    }
    if !info.ext_key_usages.contains(&ExtKeyUsage::ServerAuth) {
        return Err(WorkerCertError::Unusable(
            "it lacks the ServerAuth usage".to_string(),
        ));
    }
    let now = time::OffsetDateTime::now_utc();
    let valid_for = Duration::try_from(info.not_after - now)
        .map_err(|_| WorkerCertError::Unusable("it has already expired".to_string()))?;
    let der =
        certificate_der_from_pem(&signed.crt_pem).map_err(pki("read trustd's certificate"))?;
    let key_der = PrivateKeyDer::from_pem_slice(key.to_pkcs8_pem().as_bytes()).map_err(|e| {
        WorkerCertError::Cert(CertError::KeyFormat {
            what: "apid's server certificate from trustd",
            reason: e.to_string(),
        })
    })?;
    let key = certs::certified_key(
        CertificateDer::from(der),
        &key_der,
        "apid's server certificate from trustd",
    )?;
    Ok(Obtained {
        key,
        valid_for,
        names,
        endpoints: identity.endpoints.clone(),
    })
}

/// Attempts until one succeeds, pausing [`RETRY_FIRST`] doubling to [`RETRY_MAX`] and
/// logging each failure. Before each retry the machine config is read again from
/// `socket` (a fixed token or endpoint is picked up).
pub async fn obtain(socket: &Path, identity: &mut WorkerIdentity) -> Obtained {
    let mut pause = RETRY_FIRST;
    loop {
        match obtain_once(identity).await {
            Ok(obtained) => return obtained,
            Err(err) => {
                console::log(format_args!(
                    "worker node: no server certificate yet: {err}; retrying in {}s",
                    pause.as_secs()
                ));
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(RETRY_MAX);
                refresh(socket, identity).await;
            }
        }
    }
}

/// Re-reads the identity from the machine config (keeps the old one on errors).
async fn refresh(socket: &Path, identity: &mut WorkerIdentity) {
    match config_source::get(socket).await {
        Ok(config) => match WorkerIdentity::from_config(&config) {
            Ok(fresh) => *identity = fresh,
            Err(err) => console::log(format_args!("ignoring the machine config: {err}")),
        },
        Err(err) => console::log(format_args!(
            "cannot re-read the machine config ({err}); using the one read before"
        )),
    }
}

/// Renews the certificate in `resolver` at half its remaining lifetime, forever; a
/// failed renewal is logged and retried with backoff while the current one stays valid.
pub fn spawn_renewal(
    socket: std::path::PathBuf,
    mut identity: WorkerIdentity,
    resolver: Arc<RotatingResolver>,
    valid_for: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut wait = valid_for / 2;
        loop {
            tokio::time::sleep(wait).await;
            refresh(&socket, &mut identity).await;
            let mut pause = RETRY_FIRST;
            let obtained = loop {
                match obtain_once(&identity).await {
                    Ok(obtained) => break obtained,
                    Err(err) => {
                        console::log(format_args!(
                            "cannot renew the server certificate: {err}; the current one stays in use; retrying in {}s",
                            pause.as_secs()
                        ));
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(RETRY_MAX);
                        refresh(&socket, &mut identity).await;
                    }
                }
            };
            resolver.set(obtained.key);
            wait = obtained.valid_for / 2;
            console::log(format_args!(
                "server certificate renewed by trustd at {} (valid {}s, next renewal in {}s)",
                obtained.endpoints.join(", "),
                obtained.valid_for.as_secs(),
                wait.as_secs()
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hosts_of_endpoints() {
        assert_eq!(endpoint_host("https://10.5.0.2:6443").unwrap(), "10.5.0.2");
        assert_eq!(endpoint_host("https://cp.example/").unwrap(), "cp.example");
        assert_eq!(endpoint_host("https://[fd00::1]:6443").unwrap(), "fd00::1");
        assert_eq!(endpoint_host("cp:6443").unwrap(), "cp");
        assert!(endpoint_host("").is_none());
        assert!(endpoint_host("https://:6443").is_none());
        assert_eq!(join_host_port("fd00::1", 50001), "[fd00::1]:50001");
        assert_eq!(join_host_port("10.5.0.2", 50001), "10.5.0.2:50001");
    }
}
