//! apid's TLS front door with real rustls on both sides: who gets in, who is
//! refused at the handshake, and with which alert.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use basalt_apid::certs;
use basalt_apid::tls::resolver::RotatingResolver;
use basalt_apid::tls::server::{server_config, ClientAuth};
use basalt_pki::{CertificateAuthority, Usage};
use rustls::AlertDescription;
use support::*;

/// An mTLS apid for `ca` on 127.0.0.1.
async fn apid(ca: &CertificateAuthority) -> std::net::SocketAddr {
    let issued =
        certs::issue_server_certificate(ca, &localhost(), Duration::from_secs(3600)).unwrap();
    let (cert, key) = certs::to_der(&issued, "server").unwrap();
    let resolver = RotatingResolver::new(certs::certified_key(cert, &key, "server").unwrap());
    let auth = ClientAuth::Required {
        roots: vec![der_of(ca)],
    };
    start(server_config(resolver, &auth).unwrap()).await
}

fn refused_with(outcome: Result<(), rustls::Error>, alert: AlertDescription) {
    match outcome {
        Err(rustls::Error::AlertReceived(got)) => assert_eq!(got, alert),
        other => panic!("expected the server to refuse with {alert:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_good_certificate_gets_in_with_its_roles() {
    let ca = ca("basalt");
    let addr = apid(&ca).await;
    for (role, expected) in [
        ("os:admin", "os:admin|"),
        ("os:reader", "os:reader|"),
        ("os:etcd:backup", "os:etcd:backup|"),
        ("something:else", "|"),
    ] {
        let config = client_config(&[der_of(&ca)], Some(client(&ca, role)), false);
        let tls = connect(addr, config).await.unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        assert_eq!(
            tls.get_ref().1.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_3)
        );
        let mut h2 = h2(tls).await;
        let answer = whoami(&mut h2).await;
        assert!(answer.starts_with(expected), "{role}: {answer}");
        assert!(
            answer.contains("CN=test") && answer.ends_with("|false"),
            "{answer}"
        );
    }
    let node = client(&ca, "os:impersonator");
    let mut h2 = h2(
        connect(addr, client_config(&[der_of(&ca)], Some(node), false))
            .await
            .unwrap(),
    )
    .await;
    let expected = format!("os:impersonator|{}|true", subject_of(&ca));
    assert_eq!(whoami(&mut h2).await, expected);
}

/// The subject string basalt_pki renders for [`client`]'s impersonator certificate.
fn subject_of(ca: &CertificateAuthority) -> String {
    let (cert, _) = client(ca, "os:impersonator");
    basalt_pki::CertificateInfo::from_der(&cert)
        .unwrap()
        .subject_display()
}

#[tokio::test]
async fn a_certificate_from_a_foreign_ca_is_refused_as_unknown_ca() {
    let ca = ca("basalt");
    let addr = apid(&ca).await;
    // Another cluster's CA has the same name (O=basalt); an unrelated one does not.
    for foreign in [self::ca("basalt"), self::ca("elsewhere")] {
        let config = client_config(&[der_of(&ca)], Some(client(&foreign, "os:admin")), false);
        refused_with(outcome(addr, config).await, AlertDescription::UnknownCA);
    }
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let ca = ca("basalt");
    let addr = apid(&ca).await;
    let config = client_config(&[der_of(&ca)], Some(expired_client(&ca)), false);
    refused_with(
        outcome(addr, config).await,
        AlertDescription::CertificateExpired,
    );
}

#[tokio::test]
async fn a_certificate_without_client_auth_is_refused() {
    let ca = ca("basalt");
    let addr = apid(&ca).await;
    let server_only = leaf(&ca, &["os:admin"], Usage::SERVER, Duration::from_secs(3600));
    let config = client_config(&[der_of(&ca)], Some(server_only), false);
    refused_with(
        outcome(addr, config).await,
        AlertDescription::UnsupportedCertificate,
    );
}

#[tokio::test]
async fn no_certificate_is_refused() {
    let ca = ca("basalt");
    let addr = apid(&ca).await;
    let config = client_config(&[der_of(&ca)], None, false);
    refused_with(
        outcome(addr, config).await,
        AlertDescription::CertificateRequired,
    );
}

#[tokio::test]
async fn tls_1_2_is_refused_and_the_server_keeps_serving() {
    let ca = ca("basalt");
    let addr = apid(&ca).await;
    let config = client_config(&[der_of(&ca)], Some(client(&ca, "os:admin")), true);
    refused_with(
        outcome(addr, config).await,
        AlertDescription::ProtocolVersion,
    );
    let good = client_config(&[der_of(&ca)], Some(client(&ca, "os:admin")), false);
    assert_eq!(outcome(addr, good).await, Ok(()));
}

#[tokio::test]
async fn accepted_cas_are_trusted_too() {
    let ca = ca("basalt");
    let other = self::ca("partner");
    let issued =
        certs::issue_server_certificate(&ca, &localhost(), Duration::from_secs(3600)).unwrap();
    let (cert, key) = certs::to_der(&issued, "server").unwrap();
    let resolver = RotatingResolver::new(certs::certified_key(cert, &key, "server").unwrap());
    let auth = ClientAuth::Required {
        roots: vec![der_of(&ca), der_of(&other)],
    };
    let addr = start(server_config(resolver, &auth).unwrap()).await;
    let config = client_config(&[der_of(&ca)], Some(client(&other, "os:reader")), false);
    let mut h2 = h2(connect(addr, config).await.unwrap()).await;
    assert!(whoami(&mut h2).await.starts_with("os:reader|"));
}
