//! Basalt's PKI: keys, certificate authorities, leaf issuance, CSR signing,
//! certificate inspection, tokens and the cluster secrets bundle.
//!
//! Formats follow Talos so files can move between the two: keys are written
//! with Talos's PEM labels (`ED25519 PRIVATE KEY`, `EC PRIVATE KEY`) and the
//! secrets bundle uses Talos's `secrets.yaml` layout.
//!
//! ```
//! use basalt_pki::{CaSubject, CertificateAuthority, KeyAlgorithm, CA_LIFETIME};
//! use basalt_pki::{issue_client_certificate, ADMIN_CERT_LIFETIME, CertificateInfo};
//!
//! let ca = CertificateAuthority::generate(
//!     &CaSubject::organization("basalt"), KeyAlgorithm::Ed25519, CA_LIFETIME)?;
//! let admin = issue_client_certificate(&ca, &["os:admin"], ADMIN_CERT_LIFETIME)?;
//! let info = CertificateInfo::from_pem(&admin.cert_pem)?;
//! assert_eq!(info.organizations, ["os:admin"]);
//! # Ok::<(), basalt_pki::PkiError>(())
//! ```

mod ca;
mod csr;
mod error;
mod inspect;
mod keys;
mod leaf;
mod secrets;
mod token;
mod validity;

pub use ca::{CaSubject, CertificateAuthority, CA_LIFETIME};
pub use csr::{generate_csr, sign_csr, LeafProfile, OrganizationPolicy, PEM_LABEL_CSR};
pub use error::{PkiError, Result};
pub use inspect::{
    certificate_der_from_pem, CertificateInfo, ExtKeyUsage, PublicKeyAlgorithm,
    PEM_LABEL_CERTIFICATE,
};
pub use keys::{KeyAlgorithm, PrivateKey, PEM_LABEL_EC, PEM_LABEL_ED25519, PEM_LABEL_PKCS8};
pub use leaf::{
    issue_client_certificate, IssuedCertificate, LeafRequest, Usage, ADMIN_CERT_LIFETIME,
    CLIENT_COMMON_NAME,
};
pub use secrets::{
    CertAndKeyPem, Certs, ClusterSecrets, KeyPem, KubernetesSecrets, SecretsBundle, TrustdInfo,
    AGGREGATOR_CA_COMMON_NAME, ETCD_CA_ORGANIZATION, KUBERNETES_CA_ORGANIZATION,
    OS_CA_ORGANIZATION, SECRETS_FILE_MODE, SECRET_SIZE,
};
pub use token::{generate_token, is_valid_token, random_base64};
pub use validity::CLOCK_SKEW_ALLOWANCE;
