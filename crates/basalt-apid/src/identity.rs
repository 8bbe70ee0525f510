//! Who is calling: roles parsed from the peer certificate's Organization.
//!
//! Every HTTP request apid serves carries a [`PeerIdentity`] in its extensions
//! (inserted by [`crate::server`]), so the proxy can check the policy and pass
//! the roles on to machined.

use std::fmt;

use basalt_pki::CertificateInfo;

/// A Basalt API role, carried as an Organization of a client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// `os:admin`: everything.
    Admin,
    /// `os:operator`: reader's calls plus reboot, shutdown and service control.
    Operator,
    /// `os:reader`: read-only calls on non-sensitive data.
    Reader,
    /// `os:etcd:backup`: reader's calls plus etcd snapshots.
    EtcdBackup,
    /// `os:impersonator`: a node-to-node certificate; such a peer may state the
    /// original caller's roles in the `x-basalt-roles` header. Grants nothing itself.
    Impersonator,
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Operator,
        Role::Reader,
        Role::EtcdBackup,
        Role::Impersonator,
    ];

    /// The certificate Organization spelling, e.g. `os:admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "os:admin",
            Role::Operator => "os:operator",
            Role::Reader => "os:reader",
            Role::EtcdBackup => "os:etcd:backup",
            Role::Impersonator => "os:impersonator",
        }
    }

    /// Parses one role; unknown names give `None` (and are ignored by callers).
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text.trim())
    }

    /// Parses many names (e.g. certificate Organizations), dropping unknown ones
    /// and duplicates; the result is sorted.
    pub fn parse_all<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<Role> {
        let mut roles: Vec<Role> = names.into_iter().filter_map(Role::parse).collect();
        roles.sort();
        roles.dedup();
        roles
    }

    /// Parses a comma-separated list such as the `x-basalt-roles` header value.
    pub fn parse_list(text: &str) -> Vec<Role> {
        Role::parse_all(text.split(','))
    }

    /// Renders roles as a comma-separated list (`os:admin,os:reader`), the
    /// `x-basalt-roles` header format.
    pub fn join(roles: &[Role]) -> String {
        roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The authenticated peer of one TLS connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerIdentity {
    /// Known roles from the certificate's Organizations (sorted, no duplicates;
    /// includes [`Role::Impersonator`] when present).
    pub roles: Vec<Role>,
    /// Whether the certificate carries `os:impersonator` (a node-to-node
    /// certificate whose `x-basalt-roles` header may be trusted).
    pub impersonator: bool,
    /// The certificate subject, e.g. `O=os:admin, CN=admin`; empty without a certificate.
    pub subject: String,
}

impl PeerIdentity {
    /// A peer that presented no certificate (maintenance mode without a pinned CA).
    pub fn anonymous() -> Self {
        PeerIdentity::default()
    }

    /// The identity stated by a peer's (already verified) leaf certificate.
    pub fn from_certificate_der(der: &[u8]) -> Result<Self, basalt_pki::PkiError> {
        let info = CertificateInfo::from_der(der)?;
        let roles = Role::parse_all(info.organizations.iter().map(String::as_str));
        Ok(PeerIdentity {
            impersonator: roles.contains(&Role::Impersonator),
            roles,
            subject: info.subject_display(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use basalt_pki::{
        certificate_der_from_pem, issue_client_certificate, CaSubject, CertificateAuthority,
        KeyAlgorithm, CA_LIFETIME,
    };
    use std::time::Duration;

    #[test]
    fn roles_round_trip_and_unknown_are_ignored() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("os:root"), None);
        let roles = Role::parse_list("os:reader, os:admin,bogus,os:reader");
        assert_eq!(roles, vec![Role::Admin, Role::Reader]);
        assert_eq!(Role::join(&roles), "os:admin,os:reader");
    }

    #[test]
    fn identity_comes_from_the_organizations() {
        let ca = CertificateAuthority::generate(
            &CaSubject::organization("basalt"),
            KeyAlgorithm::Ed25519,
            CA_LIFETIME,
        )
        .unwrap();
        let identity = |org: &str| {
            let cert = issue_client_certificate(&ca, &[org], Duration::from_secs(60)).unwrap();
            let der = certificate_der_from_pem(&cert.cert_pem).unwrap();
            PeerIdentity::from_certificate_der(&der).unwrap()
        };
        let operator = identity("os:operator");
        assert_eq!(operator.roles, vec![Role::Operator]);
        assert!(!operator.impersonator);
        assert!(
            operator.subject.contains("CN=admin"),
            "{}",
            operator.subject
        );
        let node = identity("os:impersonator");
        assert_eq!(node.roles, vec![Role::Impersonator]);
        assert!(node.impersonator);
        assert!(identity("os:root").roles.is_empty());
    }
}
