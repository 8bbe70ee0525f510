//! Every connection failure against a tiny real rustls server (TLS 1.3, client
//! certificates verified by webpki, as apid does), with certificates from basalt_pki
//! (and rcgen for validity windows in the past), checked for its explanation.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use basalt_pki::{
    issue_client_certificate, CaSubject, CertificateAuthority, IssuedCertificate, KeyAlgorithm,
    LeafRequest, Usage, CA_LIFETIME,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpListener;

use super::endpoint::Endpoint;
use super::network::Plan;
use super::tls::{fingerprint_hex, Identity, ServerTrust};

const HOUR: Duration = Duration::from_secs(3600);

/// An empty HTTP/2 SETTINGS frame: what an HTTP/2 server sends first.
const SETTINGS: [u8; 9] = [0, 0, 0, 4, 0, 0, 0, 0, 0];

fn ca(name: &str) -> CertificateAuthority {
    CertificateAuthority::generate(
        &CaSubject::organization(name),
        KeyAlgorithm::Ed25519,
        CA_LIFETIME,
    )
    .unwrap()
}

fn server_cert(ca: &CertificateAuthority, ip: &str, dns: &str) -> IssuedCertificate {
    ca.issue(&LeafRequest {
        common_name: "node".into(),
        organizations: vec![],
        dns_names: vec![dns.into()],
        ip_addresses: vec![ip.parse::<IpAddr>().unwrap()],
        usage: Usage::SERVER,
        lifetime: HOUR,
        algorithm: KeyAlgorithm::Ed25519,
    })
    .unwrap()
}

/// A certificate that was valid only during 2020, signed by `ca`.
fn expired(ca: &CertificateAuthority, client: bool) -> IssuedCertificate {
    use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair};
    let ca_key = KeyPair::from_pem(&ca.key().to_pkcs8_pem()).unwrap();
    let issuer = Issuer::from_ca_cert_pem(ca.cert_pem(), ca_key).unwrap();
    let key = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "os:admin");
    params.extended_key_usages = vec![if client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    let cert = params.signed_by(&key, &issuer).unwrap();
    IssuedCertificate {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

fn admin(ca: &CertificateAuthority) -> IssuedCertificate {
    issue_client_certificate(ca, &["os:admin"], HOUR).unwrap()
}

/// Serves TLS 1.3 with `cert`; requires client certificates chaining to `client_ca`
/// when given. Every accepted connection gets a SETTINGS frame and stays open.
async fn serve(cert: &IssuedCertificate, client_ca: Option<&CertificateAuthority>) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap();
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots
                .add(CertificateDer::from_pem_slice(ca.cert_pem().as_bytes()).unwrap())
                .unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let chain = vec![CertificateDer::from_pem_slice(cert.cert_pem.as_bytes()).unwrap()];
    let key = basalt_pki::PrivateKey::from_pem(&cert.key_pem).unwrap();
    let key = PrivateKeyDer::from_pem_slice(key.to_pkcs8_pem().as_bytes()).unwrap();
    let config = builder.with_single_cert(chain, key).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let _ = tls.write_all(&SETTINGS).await;
                    let _ = tls.flush().await;
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
            });
        }
    });
    addr
}

fn plan(
    addrs: &[SocketAddr],
    ca: &CertificateAuthority,
    client: Option<&IssuedCertificate>,
) -> Plan {
    Plan {
        endpoints: addrs
            .iter()
            .map(|a| Endpoint::parse(&a.to_string()).unwrap())
            .collect(),
        nodes: vec![],
        trust: ServerTrust::Ca(ca.cert_pem().as_bytes().to_vec()),
        identity: client.map(|c| Identity {
            cert_pem: c.cert_pem.clone().into_bytes(),
            key_pem: c.key_pem.clone().into_bytes(),
        }),
        context: Some("demo".into()),
        insecure: false,
    }
}

fn insecure(addr: SocketAddr, pins: Vec<[u8; 32]>) -> Plan {
    Plan {
        endpoints: vec![Endpoint::parse(&addr.to_string()).unwrap()],
        nodes: vec![],
        trust: ServerTrust::Insecure(pins),
        identity: None,
        context: None,
        insecure: true,
    }
}

/// The explanation of a failed handshake with the plan's first endpoint.
async fn failure(plan: &Plan) -> String {
    match plan.handshake(&plan.endpoints[0]).await {
        Ok(_) => panic!("the handshake succeeded"),
        Err(message) => message,
    }
}

fn contains_all(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
}

#[tokio::test]
async fn good_credentials_connect() {
    let ca = ca("basalt");
    let addr = serve(&server_cert(&ca, "127.0.0.1", "node-1"), Some(&ca)).await;
    plan(&[addr], &ca, Some(&admin(&ca)))
        .handshake(&Endpoint::parse(&addr.to_string()).unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn server_from_a_foreign_ca_is_unknown_authority() {
    let (ours, theirs) = (ca("basalt"), ca("other"));
    let addr = serve(&server_cert(&theirs, "127.0.0.1", "n"), None).await;
    let message = failure(&plan(&[addr], &ours, Some(&admin(&ours)))).await;
    let expected = format!(
        "endpoint {addr}: the server's certificate is not signed by the CA of context \"demo\" \
         (unknown authority)"
    );
    contains_all(
        &message,
        &[
            &expected,
            "O=other",
            "check that -e points at this cluster",
            "basaltctl config info",
        ],
    );
}

#[tokio::test]
async fn expired_server_certificate_says_when() {
    let ca = ca("basalt");
    let addr = serve(&expired(&ca, false), None).await;
    let message = failure(&plan(&[addr], &ca, Some(&admin(&ca)))).await;
    contains_all(
        &message,
        &[
            &format!("endpoint {addr}"),
            "the server's certificate expired on 2021-01-01 00:00:00 UTC",
            "check the clocks",
        ],
    );
}

#[tokio::test]
async fn wrong_name_lists_the_names_the_certificate_has() {
    let ca = ca("basalt");
    let addr = serve(&server_cert(&ca, "10.5.0.9", "node-9"), None).await;
    let message = failure(&plan(&[addr], &ca, Some(&admin(&ca)))).await;
    contains_all(
        &message,
        &[
            "the server's certificate is not valid for \"127.0.0.1\" (it names: 10.5.0.9, node-9)",
            "machine.certSANs",
        ],
    );
}

#[tokio::test]
async fn client_certificate_from_a_foreign_ca_is_refused_with_unknown_ca() {
    let (ours, theirs) = (ca("basalt"), ca("other"));
    let addr = serve(&server_cert(&ours, "127.0.0.1", "n"), Some(&ours)).await;
    let foreign = issue_client_certificate(&theirs, &["os:reader"], HOUR).unwrap();
    let message = failure(&plan(&[addr], &ours, Some(&foreign))).await;
    contains_all(
        &message,
        &[
            &format!("endpoint {addr}: the server refused our client certificate"),
            "(unknown_ca)",
            "the client certificate of context \"demo\" (O=os:reader, CN=admin; roles os:reader",
            "basaltctl config info",
        ],
    );
}

#[tokio::test]
async fn expired_client_certificate_is_refused_with_certificate_expired() {
    let ca = ca("basalt");
    let addr = serve(&server_cert(&ca, "127.0.0.1", "n"), Some(&ca)).await;
    let message = failure(&plan(&[addr], &ca, Some(&expired(&ca, true)))).await;
    contains_all(
        &message,
        &[
            "it has expired or is not valid yet (certificate_expired)",
            "valid 2020-01-01 00:00:00 UTC to 2021-01-01 00:00:00 UTC",
            "context \"demo\"",
        ],
    );
}

#[tokio::test]
async fn client_certificate_without_client_auth_is_refused() {
    let ca = ca("basalt");
    let addr = serve(&server_cert(&ca, "127.0.0.1", "n"), Some(&ca)).await;
    let server_only = server_cert(&ca, "127.0.0.2", "client");
    let message = failure(&plan(&[addr], &ca, Some(&server_only))).await;
    contains_all(
        &message,
        &[
            "the server refused our client certificate",
            "clientAuth",
            "context \"demo\"",
        ],
    );
}

#[tokio::test]
async fn no_client_certificate_is_certificate_required() {
    let ca = ca("basalt");
    let addr = serve(&server_cert(&ca, "127.0.0.1", "n"), Some(&ca)).await;
    let message = failure(&insecure(addr, vec![])).await;
    contains_all(
        &message,
        &[
            "requires a client certificate and none was sent (certificate_required)",
            "--insecure",
        ],
    );
}

#[tokio::test]
async fn insecure_accepts_any_certificate_or_only_the_pinned_one() {
    let ca = ca("self-signed");
    let cert = server_cert(&ca, "10.9.9.9", "maintenance");
    let addr = serve(&cert, None).await;
    let endpoint = Endpoint::parse(&addr.to_string()).unwrap();
    insecure(addr, vec![]).handshake(&endpoint).await.unwrap();

    let der = basalt_pki::certificate_der_from_pem(&cert.cert_pem).unwrap();
    let pin = super::tls::parse_fingerprint(&fingerprint_hex(&der)).unwrap();
    insecure(addr, vec![pin])
        .handshake(&endpoint)
        .await
        .unwrap();

    let message = failure(&insecure(addr, vec![[7; 32]])).await;
    contains_all(
        &message,
        &[
            &format!(
                "the server's certificate fingerprint is sha256:{}",
                fingerprint_hex(&der)
            ),
            &format!("not the pinned sha256:{}", "07".repeat(32)),
            "maintenance mode: apid certificate fingerprint",
        ],
    );
}

#[tokio::test]
async fn refused_connection_names_endpoint_and_apid() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let ca = ca("basalt");
    let message = failure(&plan(&[addr], &ca, Some(&admin(&ca)))).await;
    assert_eq!(
        message,
        format!(
            "endpoint {addr}: connection refused (nothing listens on port {}); check that apid \
             is running on the node and that -e points at the node",
            addr.port()
        )
    );
}

#[tokio::test]
async fn the_first_endpoint_that_connects_wins() {
    let ca = ca("basalt");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = listener.local_addr().unwrap();
    drop(listener);
    let live = serve(&server_cert(&ca, "127.0.0.1", "n"), Some(&ca)).await;
    let (_channel, endpoint) = plan(&[dead, live], &ca, Some(&admin(&ca)))
        .open()
        .await
        .unwrap();
    assert_eq!(endpoint.port, live.port());

    let err = plan(&[dead, dead], &ca, Some(&admin(&ca)))
        .open()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("cannot connect to any endpoint:\n  endpoint "),
        "{text}"
    );
    assert_eq!(text.matches("connection refused").count(), 2, "{text}");
}
