//! apid's certificates: the server certificate and the node-to-node client
//! certificate issued from `machine.ca`, and maintenance mode's self-signed one.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use basalt_pki::{
    certificate_der_from_pem, CertificateAuthority, IssuedCertificate, LeafRequest, PkiError,
    PrivateKey, Usage,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};

/// Common Name of apid's node-to-node client certificate.
pub const IMPERSONATOR_COMMON_NAME: &str = "apid";

/// Organization (the whole subject) of the maintenance certificate.
pub const MAINTENANCE_ORGANIZATION: &str = "basalt maintenance";

/// Errors while making or loading certificates.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// basalt-pki refused to issue or parse something.
    #[error("cannot {what}: {source}")]
    Pki {
        /// What was being done.
        what: &'static str,
        /// The cause.
        source: PkiError,
    },
    /// rustls could not use the key.
    #[error("cannot load the private key of {what} into TLS: {source}")]
    Key {
        /// Which certificate.
        what: &'static str,
        /// The cause.
        source: rustls::Error,
    },
    /// The key could not be converted to DER.
    #[error("cannot read the private key of {what}: {reason}")]
    KeyFormat {
        /// Which certificate.
        what: &'static str,
        /// The cause.
        reason: String,
    },
    /// rcgen failed making the maintenance certificate.
    #[error("cannot make the maintenance certificate: {0}")]
    Maintenance(#[from] rcgen::Error),
}

/// The names a server certificate must carry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerNames {
    /// IP SANs.
    pub ips: Vec<IpAddr>,
    /// DNS SANs.
    pub dns: Vec<String>,
}

impl ServerNames {
    /// This node's names: its non-loopback addresses (from `getifaddrs` in apid's
    /// network namespace), `extra` (e.g. `machine.certSANs`; IPs or DNS names)
    /// and the hostname.
    pub fn discover(extra: &[String]) -> Self {
        let mut names = ServerNames {
            ips: local_addresses(),
            dns: Vec::new(),
        };
        if let Ok(host) = nix::unistd::gethostname() {
            if let Some(host) = host.to_str() {
                names.add(host);
            }
        }
        for name in extra {
            names.add(name);
        }
        names
    }

    /// Every name as text: IPs first, then DNS names. Routing uses `discover(&[])`'s names
    /// (this node's own addresses and hostname) to tell local targets: a `machine.certSANs`
    /// entry may name another node (e.g. the control-plane endpoint).
    pub fn all(&self) -> Vec<String> {
        let ips = self.ips.iter().map(IpAddr::to_string);
        ips.chain(self.dns.iter().cloned()).collect()
    }

    /// Adds an IP address or DNS name (skipping empties and duplicates).
    pub fn add(&mut self, name: &str) {
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        match name.parse::<IpAddr>() {
            Ok(ip) if !self.ips.contains(&ip) => self.ips.push(ip),
            Ok(_) => {}
            Err(_) if !self.dns.iter().any(|d| d == name) => self.dns.push(name.to_string()),
            Err(_) => {}
        }
    }
}

/// Non-loopback, non-link-local addresses of this network namespace.
fn local_addresses() -> Vec<IpAddr> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    let mut ips = Vec::new();
    for ifa in addrs {
        let Some(addr) = ifa.address else { continue };
        let ip = if let Some(v4) = addr.as_sockaddr_in() {
            IpAddr::V4(v4.ip())
        } else if let Some(v6) = addr.as_sockaddr_in6() {
            IpAddr::V6(v6.ip())
        } else {
            continue;
        };
        let link_local_v6 = matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80);
        if !ip.is_loopback() && !ip.is_unspecified() && !link_local_v6 && !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    ips
}

/// Issues apid's server certificate from `ca`: ServerAuth only, SANs = `names`.
pub fn issue_server_certificate(
    ca: &CertificateAuthority,
    names: &ServerNames,
    lifetime: Duration,
) -> Result<IssuedCertificate, CertError> {
    let common_name = names.dns.first().cloned().unwrap_or_default();
    ca.issue(&LeafRequest {
        common_name,
        organizations: Vec::new(),
        dns_names: names.dns.clone(),
        ip_addresses: names.ips.clone(),
        usage: Usage::SERVER,
        lifetime,
        algorithm: ca.algorithm(),
    })
    .map_err(|source| CertError::Pki {
        what: "issue apid's server certificate from machine.ca",
        source,
    })
}

/// Issues the node-to-node client certificate: ClientAuth, Organization `os:impersonator`.
pub fn issue_impersonator_certificate(
    ca: &CertificateAuthority,
    lifetime: Duration,
) -> Result<IssuedCertificate, CertError> {
    ca.issue(&LeafRequest {
        common_name: IMPERSONATOR_COMMON_NAME.to_string(),
        organizations: vec![crate::identity::Role::Impersonator.as_str().to_string()],
        dns_names: Vec::new(),
        ip_addresses: Vec::new(),
        usage: Usage::CLIENT,
        lifetime,
        algorithm: ca.algorithm(),
    })
    .map_err(|source| CertError::Pki {
        what: "issue apid's node-to-node client certificate from machine.ca",
        source,
    })
}

/// The certificate (DER) and key (PKCS#8 DER) of an issued certificate, for rustls.
pub fn to_der(
    issued: &IssuedCertificate,
    what: &'static str,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), CertError> {
    let cert = certificate_der_from_pem(&issued.cert_pem)
        .map_err(|source| CertError::Pki { what, source })?;
    let key =
        PrivateKey::from_pem(&issued.key_pem).map_err(|source| CertError::Pki { what, source })?;
    let key = PrivateKeyDer::from_pem_slice(key.to_pkcs8_pem().as_bytes()).map_err(|e| {
        CertError::KeyFormat {
            what,
            reason: e.to_string(),
        }
    })?;
    Ok((CertificateDer::from(cert), key))
}

/// A rustls [`CertifiedKey`] (chain = the leaf alone) from DER parts.
pub fn certified_key(
    cert: CertificateDer<'static>,
    key: &PrivateKeyDer<'static>,
    what: &'static str,
) -> Result<Arc<CertifiedKey>, CertError> {
    let provider = crypto_provider();
    let signing_key = provider
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|source| CertError::Key { what, source })?;
    Ok(Arc::new(CertifiedKey::new(vec![cert], signing_key)))
}

/// The crypto provider every apid TLS config uses (ring).
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Maintenance mode's self-signed server certificate and its fingerprint.
#[derive(Debug, Clone)]
pub struct MaintenanceCertificate {
    /// The certificate and key for rustls.
    pub key: Arc<CertifiedKey>,
    /// `sha256:<hex>` of the certificate DER (lowercase, no colons).
    pub fingerprint: String,
}

/// Makes a self-signed Ed25519 server certificate for `names`, valid for `lifetime`.
pub fn maintenance_certificate(
    names: &ServerNames,
    lifetime: Duration,
) -> Result<MaintenanceCertificate, CertError> {
    let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, MAINTENANCE_ORGANIZATION);
    for ip in &names.ips {
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress(*ip));
    }
    for dns in &names.dns {
        if let Ok(name) = dns.as_str().try_into() {
            params.subject_alt_names.push(rcgen::SanType::DnsName(name));
        }
    }
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let now = time_now();
    params.not_before = now - time::Duration::seconds(60);
    params.not_after = now + time::Duration::try_from(lifetime).unwrap_or(time::Duration::DAY);
    let cert = params.self_signed(&key_pair)?;
    let der = CertificateDer::from(cert.der().to_vec());
    let fingerprint = fingerprint(&der);
    let key_der = PrivateKeyDer::Pkcs8(key_pair.serialize_der().into());
    Ok(MaintenanceCertificate {
        key: certified_key(der, &key_der, "the maintenance certificate")?,
        fingerprint,
    })
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// `sha256:<hex>` of a certificate's DER: lowercase hex, no colons.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
