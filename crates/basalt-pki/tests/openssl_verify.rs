//! Chains built by basalt-pki, checked by the real `openssl` CLI.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use basalt_pki::{
    issue_client_certificate, sign_csr, CertificateAuthority, KeyAlgorithm, LeafProfile,
    LeafRequest, OrganizationPolicy, SecretsBundle, Usage, ADMIN_CERT_LIFETIME,
};
use support::{openssl_ok, verify, x509_text, Scratch};

fn server_request(algorithm: KeyAlgorithm, usage: Usage) -> LeafRequest {
    LeafRequest {
        common_name: "node-1".to_string(),
        organizations: vec![],
        dns_names: vec!["node-1.cluster.local".to_string()],
        ip_addresses: vec!["10.5.0.2".parse().unwrap()],
        usage,
        lifetime: Duration::from_secs(24 * 3600),
        algorithm,
    }
}

#[test]
fn every_bundle_ca_signs_leaves_openssl_accepts() {
    let bundle = SecretsBundle::generate().unwrap();
    let scratch = Scratch::new();
    let cas = [
        ("os", bundle.os_ca().unwrap()),
        ("k8s", bundle.kubernetes_ca().unwrap()),
        ("aggregator", bundle.aggregator_ca().unwrap()),
        ("etcd", bundle.etcd_ca().unwrap()),
    ];
    for (name, ca) in &cas {
        let ca_path = scratch.write(&format!("{name}-ca.pem"), ca.cert_pem());
        // The CA itself is a valid self-signed root.
        let (ok, out) = verify(&ca_path, &ca_path, None);
        assert!(ok, "{name} CA: {out}");
        for alg in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
            let leaf = ca
                .issue(&server_request(alg, Usage::SERVER_AND_CLIENT))
                .unwrap();
            let leaf_path = scratch.write(&format!("{name}-{alg:?}.pem"), &leaf.cert_pem);
            for purpose in [None, Some("sslserver"), Some("sslclient")] {
                let (ok, out) = verify(&ca_path, &leaf_path, purpose);
                assert!(ok, "{name} CA, {alg} leaf, purpose {purpose:?}: {out}");
                assert!(out.contains(": OK"), "{out}");
            }
        }
    }
}

#[test]
fn leaf_verified_against_the_wrong_ca_fails() {
    let bundle = SecretsBundle::generate().unwrap();
    let scratch = Scratch::new();
    let k8s = bundle.kubernetes_ca().unwrap();
    let etcd = bundle.etcd_ca().unwrap();
    let leaf = k8s
        .issue(&server_request(KeyAlgorithm::EcdsaP256, Usage::SERVER))
        .unwrap();
    let leaf_path = scratch.write("leaf.pem", &leaf.cert_pem);
    let right = scratch.write("k8s.pem", k8s.cert_pem());
    let wrong = scratch.write("etcd.pem", etcd.cert_pem());
    assert!(verify(&right, &leaf_path, None).0);
    let (ok, out) = verify(&wrong, &leaf_path, None);
    assert!(!ok, "verification against the etcd CA must fail: {out}");
    assert!(
        out.contains("unable to get local issuer certificate"),
        "{out}"
    );
}

#[test]
fn usages_are_exactly_as_requested() {
    let bundle = SecretsBundle::generate().unwrap();
    let scratch = Scratch::new();
    let ca = bundle.etcd_ca().unwrap();
    let ca_path = scratch.write("ca.pem", ca.cert_pem());

    let server = ca
        .issue(&server_request(KeyAlgorithm::EcdsaP256, Usage::SERVER))
        .unwrap();
    let server_path = scratch.write("server.pem", &server.cert_pem);
    assert!(verify(&ca_path, &server_path, Some("sslserver")).0);
    let (ok, out) = verify(&ca_path, &server_path, Some("sslclient"));
    assert!(
        !ok,
        "a server-only certificate must not pass as a client: {out}"
    );

    let text = x509_text(&server_path);
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    assert!(!text.contains("TLS Web Client Authentication"), "{text}");
    assert!(text.contains("CA:FALSE"), "{text}");
    assert!(
        text.contains("DNS:node-1.cluster.local, IP Address:10.5.0.2"),
        "{text}"
    );
    assert!(text.contains("X509v3 Authority Key Identifier"), "{text}");
}

#[test]
fn admin_client_certificate_has_roles_and_lifetime() {
    let bundle = SecretsBundle::generate().unwrap();
    let scratch = Scratch::new();
    let os_ca = bundle.os_ca().unwrap();
    let ca_path = scratch.write("os-ca.pem", os_ca.cert_pem());
    let admin = issue_client_certificate(&os_ca, &["os:admin"], ADMIN_CERT_LIFETIME).unwrap();
    let admin_path = scratch.write("admin.pem", &admin.cert_pem);

    assert!(verify(&ca_path, &admin_path, Some("sslclient")).0);
    assert!(!verify(&ca_path, &admin_path, Some("sslserver")).0);
    let text = x509_text(&admin_path);
    assert!(text.contains("O = os:admin"), "{text}");
    assert!(text.contains("Issuer: O = basalt"), "{text}");
    assert!(text.contains("Public Key Algorithm: ED25519"), "{text}");
    assert!(!text.contains("TLS Web Server Authentication"), "{text}");

    // Valid now and for at least 364 more days, but expired within a year and a day.
    let path = admin_path.display().to_string();
    let checkend = |secs: u64| {
        support::openssl(&[
            "x509",
            "-noout",
            "-in",
            &path,
            "-checkend",
            &secs.to_string(),
        ])
        .status
        .success()
    };
    assert!(checkend(0));
    assert!(checkend(364 * 86_400));
    assert!(!checkend(366 * 86_400));
}

#[test]
fn ca_lifetime_is_ten_years() {
    let bundle = SecretsBundle::generate().unwrap();
    let scratch = Scratch::new();
    let path = scratch.write("ca.pem", bundle.kubernetes_ca().unwrap().cert_pem());
    let p = path.display().to_string();
    let checkend = |days: u64| {
        support::openssl(&[
            "x509",
            "-noout",
            "-in",
            &p,
            "-checkend",
            &(days * 86_400).to_string(),
        ])
        .status
        .success()
    };
    assert!(checkend(3649));
    assert!(!checkend(3651));
    let text = x509_text(&path);
    assert!(text.contains("CA:TRUE"), "{text}");
    assert!(text.contains("Certificate Sign, CRL Sign"), "{text}");
    assert!(text.contains("Subject: O = kubernetes"), "{text}");
}

#[test]
fn openssl_csr_asking_for_too_much_gets_only_the_profile() {
    let bundle = SecretsBundle::generate().unwrap();
    let scratch = Scratch::new();
    let os_ca = bundle.os_ca().unwrap();
    let ca_path = scratch.write("ca.pem", os_ca.cert_pem());
    let key = scratch.path("node.key");
    let csr = scratch.path("node.csr");
    openssl_ok(&[
        "genpkey",
        "-algorithm",
        "ed25519",
        "-out",
        &key.display().to_string(),
    ]);
    openssl_ok(&[
        "req",
        "-new",
        "-key",
        &key.display().to_string(),
        "-out",
        &csr.display().to_string(),
        "-subj",
        "/O=os:admin/CN=node-1",
        "-addext",
        "subjectAltName=DNS:node-1,IP:10.5.0.3",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "extendedKeyUsage=clientAuth",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    let profile = LeafProfile {
        usage: Usage::SERVER,
        lifetime: Duration::from_secs(3600),
        organizations: OrganizationPolicy::Empty,
    };
    let cert = sign_csr(&os_ca, &scratch.read("node.csr"), &profile).unwrap();
    let cert_path = scratch.write("node.pem", &cert);
    assert!(verify(&ca_path, &cert_path, Some("sslserver")).0);
    assert!(!verify(&ca_path, &cert_path, Some("sslclient")).0);
    let text = x509_text(&cert_path);
    assert!(text.contains("Subject: CN = node-1\n"), "{text}");
    assert!(!text.contains("os:admin"), "{text}");
    assert!(
        text.contains("CA:FALSE") && !text.contains("CA:TRUE"),
        "{text}"
    );
    assert!(!text.contains("Certificate Sign"), "{text}");
    assert!(text.contains("DNS:node-1, IP Address:10.5.0.3"), "{text}");
    // The certificate is for the requester's key.
    let cert_pub = openssl_ok(&[
        "x509",
        "-noout",
        "-pubkey",
        "-in",
        &cert_path.display().to_string(),
    ]);
    let key_pub = openssl_ok(&["pkey", "-pubout", "-in", &key.display().to_string()]);
    assert_eq!(cert_pub, key_pub);
}

#[test]
fn openssl_made_ca_can_issue() {
    let scratch = Scratch::new();
    let key = scratch.path("ca.key");
    let crt = scratch.path("ca.pem");
    openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &key.display().to_string(),
        "-out",
        &crt.display().to_string(),
        "-subj",
        "/O=kubernetes",
        "-days",
        "30",
    ]);
    let ca =
        CertificateAuthority::from_pem(&scratch.read("ca.pem"), &scratch.read("ca.key")).unwrap();
    let leaf = ca
        .issue(&server_request(KeyAlgorithm::EcdsaP256, Usage::SERVER))
        .unwrap();
    let leaf_path = scratch.write("leaf.pem", &leaf.cert_pem);
    let (ok, out) = verify(&crt, &leaf_path, Some("sslserver"));
    assert!(ok, "{out}");

    // A leaf is not a CA.
    let err = CertificateAuthority::from_pem(&leaf.cert_pem, &leaf.key_pem).unwrap_err();
    assert!(
        err.to_string().contains("not a certificate authority"),
        "{err}"
    );
}
