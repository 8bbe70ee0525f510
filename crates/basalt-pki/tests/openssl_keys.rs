//! Key files in Talos's and OpenSSL's labels, exchanged with the real `openssl` CLI.

#![allow(clippy::unwrap_used)]

mod support;

use basalt_pki::{KeyAlgorithm, PrivateKey, PEM_LABEL_ED25519};
use support::{openssl_ok, Scratch};

/// The DER SubjectPublicKeyInfo openssl derives from a private key file.
fn openssl_public_der(scratch: &Scratch, key_file: &str) -> Vec<u8> {
    let out = scratch.path(&format!("{key_file}.pub.der"));
    openssl_ok(&[
        "pkey",
        "-in",
        &scratch.path(key_file).display().to_string(),
        "-pubout",
        "-outform",
        "DER",
        "-out",
        &out.display().to_string(),
    ]);
    std::fs::read(out).unwrap()
}

#[test]
fn openssl_ec_private_key_loads() {
    let scratch = Scratch::new();
    let path = scratch.path("ec.pem").display().to_string();
    openssl_ok(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        &path,
    ]);
    let text = scratch.read("ec.pem");
    assert!(text.starts_with("-----BEGIN EC PRIVATE KEY-----"), "{text}");
    let key = PrivateKey::from_pem(&text).unwrap();
    assert_eq!(key.algorithm(), KeyAlgorithm::EcdsaP256);
    assert_eq!(key.public_key_der(), openssl_public_der(&scratch, "ec.pem"));
}

#[test]
fn openssl_ed25519_key_with_talos_label_loads() {
    let scratch = Scratch::new();
    let path = scratch.path("ed.pem").display().to_string();
    openssl_ok(&["genpkey", "-algorithm", "ed25519", "-out", &path]);
    // OpenSSL writes PKCS#8 under "PRIVATE KEY"; Talos writes the same body
    // under "ED25519 PRIVATE KEY". Both must load.
    let pkcs8 = scratch.read("ed.pem");
    let talos = pkcs8.replace("PRIVATE KEY", PEM_LABEL_ED25519);
    let expected = openssl_public_der(&scratch, "ed.pem");
    for text in [&pkcs8, &talos] {
        let key = PrivateKey::from_pem(text).unwrap();
        assert_eq!(key.algorithm(), KeyAlgorithm::Ed25519);
        assert_eq!(key.public_key_der(), expected);
    }
}

#[test]
fn openssl_pkcs8_ec_key_loads() {
    let scratch = Scratch::new();
    let path = scratch.path("ec8.pem").display().to_string();
    openssl_ok(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        &path,
    ]);
    let key = PrivateKey::from_pem(&scratch.read("ec8.pem")).unwrap();
    assert_eq!(
        key.public_key_der(),
        openssl_public_der(&scratch, "ec8.pem")
    );
}

#[test]
fn keys_we_write_are_read_by_openssl() {
    let scratch = Scratch::new();
    // ECDSA: SEC1 "EC PRIVATE KEY" with the named curve embedded, as Go requires.
    let ec = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    scratch.write("ours-ec.pem", ec.to_pem());
    let text = openssl_ok(&[
        "ec",
        "-noout",
        "-text",
        "-in",
        &scratch.path("ours-ec.pem").display().to_string(),
    ]);
    assert!(text.contains("ASN1 OID: prime256v1"), "{text}");
    assert_eq!(
        openssl_public_der(&scratch, "ours-ec.pem"),
        ec.public_key_der()
    );

    // Ed25519: the body is plain PKCS#8, so under the generic label openssl reads it.
    let ed = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let relabelled = ed.to_pem().replace(PEM_LABEL_ED25519, "PRIVATE KEY");
    scratch.write("ours-ed.pem", &relabelled);
    assert_eq!(
        openssl_public_der(&scratch, "ours-ed.pem"),
        ed.public_key_der()
    );
}
