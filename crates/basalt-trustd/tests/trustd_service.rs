//! trustd over real TLS 1.3 on 127.0.0.1, called with basalt's trustd client: the
//! good token gets a ServerAuth-only certificate without Organization that `openssl
//! verify`s against the CA; a wrong token, an oversized CSR, a forbidden SAN are refused
//! and logged with the peer address (never the token); a client that does not trust the
//! CA refuses trustd.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;

use basalt_pki::{CertificateInfo, ExtKeyUsage, KeyAlgorithm, PrivateKey};
use basalt_trustd::client::{request_certificate, TrustdClientError};
use support::{logs, os_ca, wait_for_log, TrustdServer, TOKEN};

/// A CSR that asks for ClientAuth, CA:TRUE and the `os:admin` role.
fn greedy_csr(key: &PrivateKey) -> String {
    let key_pair = rcgen::KeyPair::from_pem(&key.to_pkcs8_pem()).unwrap();
    let mut params =
        rcgen::CertificateParams::new(vec!["worker-1".to_string(), "10.5.0.9".to_string()])
            .unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "worker-1");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "os:admin");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
    ];
    params.serialize_request(&key_pair).unwrap().pem().unwrap()
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run openssl ({e}); install the Debian package `openssl`")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_token_gets_a_server_only_certificate_without_roles() {
    logs();
    let ca = os_ca();
    let trustd = TrustdServer::start(&ca, TOKEN, "127.0.0.1:0".parse().unwrap()).await;
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let signed = request_certificate(
        &[trustd.endpoint()],
        ca.cert_pem(),
        TOKEN,
        &greedy_csr(&key),
    )
    .await
    .unwrap();
    assert_eq!(signed.ca_pem, ca.cert_pem());

    let info = CertificateInfo::from_pem(&signed.crt_pem).unwrap();
    assert_eq!(info.ext_key_usages, vec![ExtKeyUsage::ServerAuth]);
    assert!(info.organizations.is_empty(), "{:?}", info.organizations);
    assert!(!info.is_ca && !info.key_cert_sign);
    assert_eq!(info.dns_names, vec!["worker-1".to_string()]);
    assert_eq!(
        info.ip_addresses,
        vec!["10.5.0.9".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(info.public_key_der, key.public_key_der());
    assert_eq!(
        (info.not_after - info.not_before).whole_seconds(),
        7200 + 60
    );

    let dir = tempfile::tempdir().unwrap();
    let (ca_file, crt_file) = (dir.path().join("ca.crt"), dir.path().join("node.crt"));
    std::fs::write(&ca_file, &signed.ca_pem).unwrap();
    std::fs::write(&crt_file, &signed.crt_pem).unwrap();
    let (ca_s, crt_s) = (ca_file.to_str().unwrap(), crt_file.to_str().unwrap());
    let (ok, text) = openssl(&["verify", "-CAfile", ca_s, "-purpose", "sslserver", crt_s]);
    assert!(ok && text.contains("OK"), "{text}");
    let (ok, text) = openssl(&["verify", "-CAfile", ca_s, "-purpose", "sslclient", crt_s]);
    assert!(!ok, "the certificate must not pass as a client: {text}");
    let (_, subject) = openssl(&["x509", "-in", crt_s, "-noout", "-subject"]);
    assert!(
        !subject.contains("O =") && !subject.contains("O="),
        "{subject}"
    );

    wait_for_log("the signing log line", |l| {
        l.contains("signed a server certificate for 127.0.0.1:") && l.contains("worker-1")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_is_refused_and_logged_without_the_token() {
    logs();
    let ca = os_ca();
    let trustd = TrustdServer::start(&ca, TOKEN, "127.0.0.1:0".parse().unwrap()).await;
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let csr = greedy_csr(&key);
    let wrong = "zzzzzz.wrongwrongwrongw";
    let err = request_certificate(&[trustd.endpoint()], ca.cert_pem(), wrong, &csr)
        .await
        .unwrap_err();
    assert!(
        matches!(err, TrustdClientError::TokenRefused { .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&trustd.endpoint()) && text.contains("PermissionDenied"),
        "{text}"
    );
    assert!(text.contains("check machine.token"), "{text}");
    let line = wait_for_log("the refusal log line", |l| l.contains("wrong token")).await;
    assert!(
        line.contains("refused a certificate request from 127.0.0.1:"),
        "{line}"
    );
    for l in logs().lock().unwrap().iter() {
        assert!(
            !l.contains(wrong) && !l.contains(TOKEN),
            "a token was logged: {l}"
        );
    }

    // the token can change (a new machine.token): the old one is refused from then on
    trustd.trustd.set_token(wrong);
    request_certificate(&[trustd.endpoint()], ca.cert_pem(), wrong, &csr)
        .await
        .unwrap();
    let err = request_certificate(&[trustd.endpoint()], ca.cert_pem(), TOKEN, &csr)
        .await
        .unwrap_err();
    assert!(
        matches!(err, TrustdClientError::TokenRefused { .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_forbidden_requests_are_refused_and_logged() {
    logs();
    let ca = os_ca();
    let trustd = TrustdServer::start(&ca, TOKEN, "127.0.0.1:0".parse().unwrap()).await;
    let big = format!(
        "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
        "A".repeat(20 * 1024)
    );
    let err = request_certificate(&[trustd.endpoint()], ca.cert_pem(), TOKEN, &big)
        .await
        .unwrap_err();
    match &err {
        TrustdClientError::Refused { code, .. } => {
            assert_eq!(*code, tonic::Code::ResourceExhausted, "{err}")
        }
        other => panic!("expected a refusal, got {other}"),
    }
    wait_for_log("the size refusal", |l| {
        l.contains("refused a certificate request from 127.0.0.1:") && l.contains("at most")
    })
    .await;

    // far above the gRPC limit: refused before decoding
    let huge = "A".repeat(1024 * 1024);
    let err = request_certificate(&[trustd.endpoint()], ca.cert_pem(), TOKEN, &huge)
        .await
        .unwrap_err();
    assert!(matches!(err, TrustdClientError::Refused { .. }), "{err}");

    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.subject_alt_names = vec![rcgen::SanType::URI(
        "spiffe://cluster/ns/kube-system".try_into().unwrap(),
    )];
    let uri_csr = params.serialize_request(&key).unwrap().pem().unwrap();
    let err = request_certificate(&[trustd.endpoint()], ca.cert_pem(), TOKEN, &uri_csr)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("URI"), "{err}");
    wait_for_log("the SAN refusal", |l| {
        l.contains("refused") && l.contains("URI")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_refuses_a_trustd_of_another_ca_and_tries_the_next_endpoint() {
    let ours = os_ca();
    let other = os_ca();
    let impostor = TrustdServer::start(&other, TOKEN, "127.0.0.1:0".parse().unwrap()).await;
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let csr = basalt_pki::generate_csr(&key, "w", &["w".to_string()]).unwrap();
    let err = request_certificate(&[impostor.endpoint()], ours.cert_pem(), TOKEN, &csr)
        .await
        .unwrap_err();
    assert!(
        matches!(err, TrustdClientError::Unreachable { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("TLS handshake failed"), "{err}");

    let good = TrustdServer::start(&ours, TOKEN, "127.0.0.1:0".parse().unwrap()).await;
    let signed = request_certificate(
        &[impostor.endpoint(), good.endpoint()],
        ours.cert_pem(),
        TOKEN,
        &csr,
    )
    .await
    .unwrap();
    assert_eq!(signed.ca_pem, ours.cert_pem());
}
