//! Maintenance mode: the self-signed certificate, its fingerprint, and the pinned CA.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use basalt_apid::certs;
use basalt_apid::entry::{fingerprint_line, read_ca_file};
use basalt_apid::tls::resolver::RotatingResolver;
use basalt_apid::tls::server::{server_config, ClientAuth};
use rustls::AlertDescription;
use support::*;

#[tokio::test]
async fn the_self_signed_certificate_is_pinned_by_its_fingerprint() {
    let cert = certs::maintenance_certificate(&localhost(), Duration::from_secs(3600)).unwrap();
    let hex = cert.fingerprint.strip_prefix("sha256:").unwrap();
    assert_eq!(hex.len(), 64);
    assert!(hex
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    assert_eq!(
        fingerprint_line(&cert.fingerprint),
        format!("maintenance mode: apid certificate fingerprint sha256:{hex}")
    );
    let fingerprint = cert.fingerprint.clone();
    let resolver = RotatingResolver::new(cert.key);
    let addr = start(server_config(resolver, &ClientAuth::None).unwrap()).await;

    // No client certificate needed; the peer is anonymous.
    let tls = connect(addr, pinned_client_config(&fingerprint, None))
        .await
        .unwrap();
    let seen = &tls.get_ref().1.peer_certificates().unwrap()[0];
    assert_eq!(certs::fingerprint(seen), fingerprint);
    let info = basalt_pki::CertificateInfo::from_der(seen).unwrap();
    assert_eq!(info.issuer, "O=basalt maintenance", "self-signed");
    assert_eq!(info.subject_display(), "O=basalt maintenance");
    assert_eq!(
        info.public_key_algorithm,
        basalt_pki::PublicKeyAlgorithm::Ed25519
    );
    let mut h2 = h2(tls).await;
    assert_eq!(whoami(&mut h2).await, "||false");

    // A different pin is refused by the client.
    let wrong = format!("sha256:{}", "0".repeat(64));
    let err = connect(addr, pinned_client_config(&wrong, None))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is not the pinned"), "{err}");
}

#[tokio::test]
async fn a_pinned_maintenance_ca_refuses_clients_without_a_matching_certificate() {
    let pinned = ca("maintenance");
    let other = ca("maintenance");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("maintenance-ca.crt");
    std::fs::write(&file, pinned.cert_pem()).unwrap();
    let roots = read_ca_file(&file).unwrap();
    assert_eq!(roots, vec![der_of(&pinned)]);

    let cert = certs::maintenance_certificate(&localhost(), Duration::from_secs(3600)).unwrap();
    let fingerprint = cert.fingerprint.clone();
    let resolver = RotatingResolver::new(cert.key);
    let addr = start(server_config(resolver, &ClientAuth::Required { roots }).unwrap()).await;

    let none = pinned_client_config(&fingerprint, None);
    match outcome(addr, none).await {
        Err(rustls::Error::AlertReceived(a)) => {
            assert_eq!(a, AlertDescription::CertificateRequired)
        }
        other => panic!("{other:?}"),
    }
    let foreign = pinned_client_config(&fingerprint, Some(client(&other, "os:admin")));
    match outcome(addr, foreign).await {
        Err(rustls::Error::AlertReceived(a)) => assert_eq!(a, AlertDescription::UnknownCA),
        other => panic!("{other:?}"),
    }
    let holder = pinned_client_config(&fingerprint, Some(client(&pinned, "os:admin")));
    let mut h2 = h2(connect(addr, holder).await.unwrap()).await;
    assert!(whoami(&mut h2).await.starts_with("os:admin|"));
}

#[test]
fn unusable_maintenance_ca_files_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.crt");
    let err = read_ca_file(&missing).unwrap_err().to_string();
    assert!(
        err.contains("missing.crt") && err.contains("PEM file"),
        "{err}"
    );
    let empty = dir.path().join("empty.crt");
    std::fs::write(&empty, "not pem").unwrap();
    let err = read_ca_file(&empty).unwrap_err().to_string();
    assert!(err.contains("no CERTIFICATE block"), "{err}");
}

#[test]
fn main_exits_with_a_clear_code_on_bad_input() {
    assert_eq!(basalt_apid::main(vec!["--bogus".to_string()]), 2);
    let args = [
        "apid",
        "--maintenance",
        "--listen",
        "127.0.0.1:0",
        "--maintenance-ca",
        "/nonexistent/ca.crt",
    ];
    assert_eq!(
        basalt_apid::main(args.iter().map(|s| s.to_string()).collect()),
        1
    );
}
