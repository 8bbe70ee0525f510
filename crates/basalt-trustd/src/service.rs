//! The gRPC service `securityapi.SecurityService`: the token check, then signing.
//! Every refusal is logged with the caller's address (never the token).

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use basalt_api::securityapi::security_service_server::{SecurityService, SecurityServiceServer};
use basalt_api::securityapi::{CertificateRequest, CertificateResponse};
use basalt_apid::console;
use basalt_apid::server::PeerAddr;
use basalt_apid::trustd_client::TOKEN_METADATA;
use basalt_pki::{CertificateAuthority, CertificateInfo};
use tonic::{Request, Response, Status};

use crate::signing::{self, SignError, MAX_CSR_BYTES};
use crate::token::Token;

/// The largest gRPC message trustd decodes (a CSR within [`MAX_CSR_BYTES`] plus framing
/// fits; larger CSRs up to this size reach the handler and are refused with a log line).
pub const MAX_MESSAGE_BYTES: usize = 4 * MAX_CSR_BYTES;

/// The signer: the OS CA, the expected token (replaceable when the config changes) and
/// the lifetime of signed certificates.
#[derive(Clone)]
pub struct Trustd {
    ca: Arc<CertificateAuthority>,
    token: Arc<RwLock<Token>>,
    lifetime: Duration,
}

impl std::fmt::Debug for Trustd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trustd")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl Trustd {
    /// Signs with `ca` for callers presenting `token`; certificates live `lifetime`.
    pub fn new(ca: Arc<CertificateAuthority>, token: &str, lifetime: Duration) -> Self {
        Trustd {
            ca,
            token: Arc::new(RwLock::new(Token::new(token))),
            lifetime,
        }
    }

    /// Replaces the expected token (a new `machine.token`).
    pub fn set_token(&self, token: &str) {
        let token = Token::new(token);
        match self.token.write() {
            Ok(mut guard) => *guard = token,
            Err(poisoned) => *poisoned.into_inner() = token,
        }
    }

    /// The tonic service, with trustd's message size limit.
    pub fn into_server(self) -> SecurityServiceServer<Trustd> {
        SecurityServiceServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    fn token_matches(&self, presented: &[u8]) -> bool {
        match self.token.read() {
            Ok(guard) => guard.matches(presented),
            Err(poisoned) => poisoned.into_inner().matches(presented),
        }
    }
}

fn peer_of<T>(request: &Request<T>) -> String {
    request
        .extensions()
        .get::<PeerAddr>()
        .map(|p| p.0)
        .or_else(|| request.remote_addr())
        .map_or_else(
            || "an unknown peer".to_string(),
            |a: SocketAddr| a.to_string(),
        )
}

#[tonic::async_trait]
impl SecurityService for Trustd {
    async fn certificate(
        &self,
        request: Request<CertificateRequest>,
    ) -> Result<Response<CertificateResponse>, Status> {
        let peer = peer_of(&request);
        let presented = request.metadata().get(TOKEN_METADATA);
        let Some(presented) = presented else {
            console::log(format_args!(
                "refused a certificate request from {peer}: no token (gRPC metadata `{TOKEN_METADATA}`)"
            ));
            return Err(Status::permission_denied(format!(
                "no token: send machine.token as gRPC metadata `{TOKEN_METADATA}`"
            )));
        };
        if !self.token_matches(presented.as_bytes()) {
            console::log(format_args!(
                "refused a certificate request from {peer}: wrong token"
            ));
            return Err(Status::permission_denied(
                "the token is not this cluster's machine.token",
            ));
        }
        let csr = request.into_inner().csr;
        let crt = match signing::sign(&self.ca, &csr, self.lifetime) {
            Ok(crt) => crt,
            Err(err) => {
                console::log(format_args!(
                    "refused a certificate request from {peer}: {err}"
                ));
                let status = match err {
                    SignError::TooLarge { .. } | SignError::TooManySans { .. } => {
                        Status::resource_exhausted(err.to_string())
                    }
                    _ => Status::invalid_argument(err.to_string()),
                };
                return Err(status);
            }
        };
        match CertificateInfo::from_pem(&crt) {
            Ok(info) => {
                let names: Vec<String> = info
                    .ip_addresses
                    .iter()
                    .map(ToString::to_string)
                    .chain(info.dns_names.iter().cloned())
                    .collect();
                console::log(format_args!(
                    "signed a server certificate for {peer}: CN={}, SANs [{}], valid {}s",
                    info.common_name.unwrap_or_default(),
                    names.join(", "),
                    self.lifetime.as_secs()
                ));
            }
            Err(_) => console::log(format_args!("signed a server certificate for {peer}")),
        }
        Ok(Response::new(CertificateResponse {
            ca: self.ca.cert_pem().as_bytes().to_vec(),
            crt: crt.into_bytes(),
        }))
    }
}
