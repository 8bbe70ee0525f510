//! Turns a failed connection into one sentence: which endpoint, which certificate
//! problem, and what to check. This is where the x509 confusion Talos users report
//! is answered.

use std::io;

use basalt_pki::CertificateInfo;
use rustls::{AlertDescription, CertificateError};
use time::OffsetDateTime;

use super::connector::ConnectError;
use super::endpoint::Endpoint;
use super::tls::fingerprint_hex;

/// What is known about the connection attempt besides the error.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The context whose credentials were used (`None` with `--insecure` and no context).
    pub context: Option<String>,
    /// Our client certificate (PEM), if one was sent.
    pub client_cert: Option<Vec<u8>>,
    /// `--insecure` was given.
    pub insecure: bool,
    /// The pinned fingerprints (lowercase hex), if any.
    pub pins: Vec<String>,
    /// The certificate the server presented (DER), if the handshake got that far.
    pub server_cert: Option<Vec<u8>>,
}

/// One line explaining why connecting to `endpoint` failed.
pub fn explain(endpoint: &Endpoint, error: &ConnectError, facts: &Facts) -> String {
    let at = format!("endpoint {endpoint}");
    let port = endpoint.port;
    let reach = format!(
        "check that the address is right, that apid is running on the node and that TCP \
         port {port} is reachable from here (firewall, routing)"
    );
    match error {
        ConnectError::Tcp(err) if err.kind() == io::ErrorKind::ConnectionRefused => format!(
            "{at}: connection refused (nothing listens on port {port}); check that apid is \
             running on the node and that -e points at the node"
        ),
        ConnectError::Tcp(err) => format!("{at}: cannot connect ({err}); {reach}"),
        ConnectError::TcpTimeout(limit) => {
            format!("{at}: no answer within {}s; {reach}", limit.as_secs())
        }
        ConnectError::HandshakeTimeout(_) | ConnectError::Silent(_) => {
            format!("{at}: {error}; is this a Basalt apid endpoint (port {port})? {reach}")
        }
        ConnectError::ServerName(message) => message.clone(),
        ConnectError::Closed => format!(
            "{at}: the server closed the connection right after the TLS handshake without \
             saying why; it probably refused our client certificate: {}",
            our_certificate(facts)
        ),
        ConnectError::Handshake(err) => match rustls_error(err) {
            Some(rustls::Error::InvalidCertificate(cert_error)) => {
                server_certificate(&at, endpoint, cert_error, facts)
            }
            Some(rustls::Error::AlertReceived(alert)) => refused(&at, *alert, facts),
            Some(rustls::Error::PeerIncompatible(why)) => format!(
                "{at}: the server cannot speak TLS 1.3 with us ({why:?}); is this a Basalt \
                 apid endpoint?"
            ),
            Some(other) => format!("{at}: the TLS handshake failed: {other}"),
            None if err.kind() == io::ErrorKind::UnexpectedEof => format!(
                "{at}: the server closed the connection during the TLS handshake; is this \
                 a Basalt apid endpoint (port {port})?"
            ),
            None => format!("{at}: the TLS handshake failed: {err}; {reach}"),
        },
        ConnectError::Refused(err) => match rustls_error(err) {
            Some(rustls::Error::AlertReceived(alert)) => refused(&at, *alert, facts),
            _ => format!(
                "{at}: the server ended the connection after the TLS handshake ({err}); it \
                 probably refused our client certificate: {}",
                our_certificate(facts)
            ),
        },
    }
}

/// The rustls error inside an I/O error from tokio-rustls, if any.
fn rustls_error(err: &io::Error) -> Option<&rustls::Error> {
    err.get_ref()?.downcast_ref::<rustls::Error>()
}

/// The server's certificate failed our verification.
fn server_certificate(
    at: &str,
    endpoint: &Endpoint,
    error: &CertificateError,
    facts: &Facts,
) -> String {
    let context = facts.context.as_deref().unwrap_or("?");
    let seen = facts
        .server_cert
        .as_deref()
        .and_then(|der| CertificateInfo::from_der(der).ok());
    let info = config_info_hint(facts);
    match error {
        CertificateError::UnknownIssuer | CertificateError::BadSignature => {
            let issuer = seen
                .as_ref()
                .map(|c| format!(" (it was issued by \"{}\")", c.issuer))
                .unwrap_or_default();
            format!(
                "{at}: the server's certificate is not signed by the CA of context \
                 \"{context}\" (unknown authority){issuer}; check that -e points at this \
                 cluster or run `basaltctl config info`"
            )
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            let when = seen
                .as_ref()
                .map(|c| format!(" on {}", timestamp(c.not_after)))
                .unwrap_or_default();
            format!(
                "{at}: the server's certificate expired{when} (now: {}); check the clocks of \
                 the node and of this machine, and that apid renews its certificate",
                timestamp(OffsetDateTime::now_utc())
            )
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            let when = seen
                .as_ref()
                .map(|c| format!(" until {}", timestamp(c.not_before)))
                .unwrap_or_default();
            format!(
                "{at}: the server's certificate is not valid yet{when} (now: {}); check the \
                 clocks of the node and of this machine",
                timestamp(OffsetDateTime::now_utc())
            )
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            let names = seen
                .as_ref()
                .map(|c| {
                    let mut names: Vec<String> =
                        c.ip_addresses.iter().map(|ip| ip.to_string()).collect();
                    names.extend(c.dns_names.iter().cloned());
                    names.join(", ")
                })
                .filter(|names| !names.is_empty())
                .unwrap_or_else(|| "no names".to_string());
            format!(
                "{at}: the server's certificate is not valid for \"{}\" (it names: {names}); \
                 use an endpoint the certificate names, or add \"{}\" to machine.certSANs \
                 of the node's config",
                endpoint.host, endpoint.host
            )
        }
        CertificateError::ApplicationVerificationFailure if facts.insecure => {
            let actual = facts
                .server_cert
                .as_deref()
                .map(fingerprint_hex)
                .unwrap_or_else(|| "?".to_string());
            format!(
                "{at}: the server's certificate fingerprint is sha256:{actual}, not the \
                 pinned sha256:{}; check the fingerprint printed on the node's console \
                 (\"maintenance mode: apid certificate fingerprint sha256:...\")",
                facts.pins.join(" or sha256:")
            )
        }
        other => format!("{at}: the server's certificate was rejected: {other}; {info}"),
    }
}

/// The server sent an alert: it refused our client certificate.
fn refused(at: &str, alert: AlertDescription, facts: &Facts) -> String {
    let why = match alert {
        AlertDescription::UnknownCA => {
            "it is not signed by a CA the node trusts (unknown_ca)".to_string()
        }
        AlertDescription::CertificateExpired => {
            "it has expired or is not valid yet (certificate_expired)".to_string()
        }
        AlertDescription::CertificateRequired => {
            let hint = if facts.insecure {
                "; --insecure sends none: drop --insecure to use the context's certificate \
                 (the node has left maintenance mode or pins a maintenance CA)"
            } else {
                ""
            };
            return format!(
                "{at}: the server requires a client certificate and none was sent \
                 (certificate_required){hint}"
            );
        }
        AlertDescription::UnsupportedCertificate => {
            "it is not allowed for client authentication: ExtKeyUsage clientAuth is missing \
             (unsupported_certificate)"
                .to_string()
        }
        AlertDescription::BadCertificate => {
            "the node could not use it, e.g. it is malformed or lacks ExtKeyUsage clientAuth \
             (bad_certificate)"
                .to_string()
        }
        other => format!("TLS alert {}", alert_name(other)),
    };
    format!(
        "{at}: the server refused our client certificate: {why}; the cause is {}",
        our_certificate(facts)
    )
}

/// "the client certificate of context "demo" (O=os:admin, CN=admin; roles os:admin;
/// valid until ...); ..." — what the user should look at.
fn our_certificate(facts: &Facts) -> String {
    let context = facts.context.as_deref().unwrap_or("?");
    let Some(pem) = &facts.client_cert else {
        return "that no client certificate was sent (--insecure)".to_string();
    };
    let text = String::from_utf8_lossy(pem);
    let details = match CertificateInfo::from_pem(&text) {
        Ok(c) => {
            let roles = if c.organizations.is_empty() {
                "none".to_string()
            } else {
                c.organizations.join(", ")
            };
            format!(
                " ({}; roles {roles}; valid {} to {})",
                c.subject_display(),
                timestamp(c.not_before),
                timestamp(c.not_after)
            )
        }
        Err(_) => String::new(),
    };
    format!(
        "the client certificate of context \"{context}\"{details}; {}",
        config_info_hint(facts)
    )
}

fn config_info_hint(facts: &Facts) -> String {
    let context = facts.context.as_deref().unwrap_or("?");
    format!(
        "check that context \"{context}\" belongs to this cluster (`basaltctl config info`), \
         or ask an admin for a new certificate (`basaltctl config new`)"
    )
}

/// TLS alert names as RFC 8446 spells them (`unknown_ca`).
fn alert_name(alert: AlertDescription) -> String {
    let chars: Vec<char> = format!("{alert:?}").chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| chars.get(p));
        let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        let word_start = prev.is_some_and(|p| p.is_lowercase())
            || (prev.is_some_and(|p| p.is_uppercase()) && next_is_lower);
        if c.is_uppercase() && word_start {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// `2026-01-31 12:00:00 UTC`.
pub fn timestamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_names_follow_the_rfc() {
        assert_eq!(alert_name(AlertDescription::AccessDenied), "access_denied");
        assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown_ca");
        assert_eq!(alert_name(AlertDescription::DecryptError), "decrypt_error");
    }
}
