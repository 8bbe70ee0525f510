#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::sync::OnceLock;

use super::*;
use crate::inspect::PublicKeyAlgorithm;

/// Generating a bundle costs a few key generations; share one across tests.
fn bundle() -> &'static SecretsBundle {
    static BUNDLE: OnceLock<SecretsBundle> = OnceLock::new();
    BUNDLE.get_or_init(|| SecretsBundle::generate().unwrap())
}

/// Replaces the first occurrence of `from` in the bundle's YAML and parses it.
fn parse_edited(from: &str, to: &str) -> String {
    let yaml = bundle().to_yaml().unwrap();
    assert!(yaml.contains(from), "test setup: {from:?} not in YAML");
    SecretsBundle::from_yaml(&yaml.replacen(from, to, 1))
        .unwrap_err()
        .to_string()
}

#[test]
fn generated_bundle_has_talos_shaped_cas() {
    let b = bundle();
    b.validate().unwrap();
    let os = b.os_ca().unwrap().info().unwrap();
    assert_eq!(os.public_key_algorithm, PublicKeyAlgorithm::Ed25519);
    assert_eq!(os.organizations, vec![OS_CA_ORGANIZATION.to_string()]);
    for (ca, org) in [
        (b.kubernetes_ca().unwrap(), KUBERNETES_CA_ORGANIZATION),
        (b.etcd_ca().unwrap(), ETCD_CA_ORGANIZATION),
    ] {
        let info = ca.info().unwrap();
        assert_eq!(info.public_key_algorithm, PublicKeyAlgorithm::EcdsaP256);
        assert_eq!(info.organizations, vec![org.to_string()]);
        assert!(info.is_ca);
        assert_eq!((info.not_after - info.not_before).whole_days() / 365, 10);
    }
    let agg = b.aggregator_ca().unwrap().info().unwrap();
    assert_eq!(agg.common_name.as_deref(), Some(AGGREGATOR_CA_COMMON_NAME));
    assert_eq!(
        b.service_account_key().unwrap().algorithm(),
        KeyAlgorithm::EcdsaP256
    );
    assert!(b
        .certs
        .os
        .key
        .starts_with("-----BEGIN ED25519 PRIVATE KEY-----"));
    assert!(b
        .certs
        .k8s
        .key
        .starts_with("-----BEGIN EC PRIVATE KEY-----"));
    assert!(is_valid_token(&b.trustd_info.token));
}

#[test]
fn yaml_uses_talos_layout_and_round_trips() {
    let yaml = bundle().to_yaml().unwrap();
    let value: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
    let keys = |v: &serde_yaml::Value| -> Vec<String> {
        v.as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(keys(&value), ["cluster", "secrets", "trustdinfo", "certs"]);
    assert_eq!(keys(&value["cluster"]), ["id", "secret"]);
    assert_eq!(
        keys(&value["secrets"]),
        ["bootstraptoken", "secretboxencryptionsecret"]
    );
    assert_eq!(keys(&value["trustdinfo"]), ["token"]);
    assert_eq!(
        keys(&value["certs"]),
        ["etcd", "k8s", "k8saggregator", "k8sserviceaccount", "os"]
    );
    assert_eq!(keys(&value["certs"]["os"]), ["crt", "key"]);
    assert_eq!(keys(&value["certs"]["k8sserviceaccount"]), ["key"]);
    // crt/key are base64 of PEM text.
    let crt = value["certs"]["os"]["crt"].as_str().unwrap();
    let decoded = STANDARD.decode(crt).unwrap();
    assert!(decoded.starts_with(b"-----BEGIN CERTIFICATE-----"));

    let back = SecretsBundle::from_yaml(&yaml).unwrap();
    assert_eq!(&back, bundle());
}

#[test]
fn unknown_and_missing_fields_are_named() {
    let err = parse_edited("trustdinfo:\n", "trustdinfo:\n  extra: 1\n");
    assert!(err.contains("trustdinfo") && err.contains("extra"), "{err}");
    let err = parse_edited("cluster:\n", "bogus: 1\ncluster:\n");
    assert!(err.contains("bogus"), "{err}");
    let yaml = bundle().to_yaml().unwrap();
    let without_trustd: String = yaml
        .lines()
        .filter(|l| !l.starts_with("trustdinfo") && !l.starts_with("  token"))
        .map(|l| format!("{l}\n"))
        .collect();
    let err = SecretsBundle::from_yaml(&without_trustd)
        .unwrap_err()
        .to_string();
    assert!(err.contains("trustdinfo"), "{err}");
}

#[test]
fn bad_values_are_named() {
    let b = bundle();
    let err = parse_edited(&b.secrets.bootstrap_token, "NOT-A-TOKEN");
    assert!(err.contains("secrets.bootstraptoken"), "{err}");
    let err = parse_edited(&b.cluster.secret, "c2hvcnQ=");
    assert!(
        err.contains("cluster.secret") && err.contains("5 bytes"),
        "{err}"
    );
    let crt_b64 = STANDARD.encode(&b.certs.etcd.crt);
    let err = parse_edited(&crt_b64, "not*base64");
    assert!(
        err.contains("certs.etcd") && err.contains("base64") && err.contains("line"),
        "{err}"
    );
}

#[test]
fn mismatched_ca_key_is_named() {
    let b = bundle();
    let mut swapped = b.clone();
    swapped.certs.k8s.key = b.certs.etcd.key.clone();
    let err = SecretsBundle::from_yaml(&swapped.to_yaml().unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("certs.k8s: ") && err.contains("does not match"),
        "{err}"
    );
}

#[test]
fn encryption_secret_rules() {
    let mut both = bundle().clone();
    both.secrets.aescbc_encryption_secret = Some(random_base64(32).unwrap());
    let err = both.validate().unwrap_err().to_string();
    assert!(err.contains("exactly one"), "{err}");
    let mut legacy = both.clone();
    legacy.secrets.secretbox_encryption_secret = None;
    legacy.validate().unwrap();
    let yaml = legacy.to_yaml().unwrap();
    assert!(yaml.contains("aescbcencryptionsecret:"));
    assert!(!yaml.contains("secretboxencryptionsecret"));
}

#[test]
fn files_are_private_and_errors_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.yaml");
    std::fs::write(&path, "old").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    bundle().write_file(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, SECRETS_FILE_MODE);
    assert_eq!(&SecretsBundle::from_file(&path).unwrap(), bundle());

    std::fs::write(&path, "cluster: [").unwrap();
    let err = SecretsBundle::from_file(&path).unwrap_err().to_string();
    assert!(err.starts_with(&path.display().to_string()), "{err}");
    let missing = dir.path().join("missing.yaml");
    let err = SecretsBundle::from_file(&missing).unwrap_err().to_string();
    assert!(err.contains("missing.yaml"), "{err}");
}

#[test]
fn debug_output_hides_secrets() {
    let b = bundle();
    let text = format!("{b:?} {:?} {:?}", b.certs, b.secrets);
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    assert!(!text.contains(&b.secrets.bootstrap_token), "{text}");
}
