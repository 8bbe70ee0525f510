//! `gen config`: the generated configs are valid, round-trip, and keep private keys off workers.
#![allow(clippy::unwrap_used)]

use basalt_config::generate::{generate, GenerateOptions};
use basalt_config::validate::{validate, Mode};
use basalt_config::MachineConfig;
use basalt_pki::SecretsBundle;

fn generated() -> (SecretsBundle, basalt_config::generate::GeneratedConfigs) {
    let secrets = SecretsBundle::generate().unwrap();
    let mut options = GenerateOptions::new("demo", "https://10.5.0.2:6443");
    options.additional_sans = vec!["basalt.example.com".into(), "10.5.0.10".into()];
    let configs = generate(&secrets, &options).unwrap();
    (secrets, configs)
}

#[test]
fn generated_configs_validate_in_every_mode_with_no_findings() {
    let (_, configs) = generated();
    for (name, cfg) in [
        ("controlplane", &configs.controlplane),
        ("worker", &configs.worker),
    ] {
        // Validate what a user would read back from disk, so lines are known too.
        let text = cfg.to_yaml().unwrap();
        let reloaded = MachineConfig::from_yaml(&text).unwrap();
        assert_eq!(&reloaded, cfg, "{name} does not round-trip");
        for mode in [Mode::Metal, Mode::Container] {
            let report = validate(&reloaded, mode);
            assert!(
                report.errors.is_empty(),
                "{name} in {mode} mode: {:?}",
                report.errors
            );
        }
        assert!(
            validate(&reloaded, Mode::Metal).warnings.is_empty(),
            "{name}: metal warnings"
        );
    }
}

#[test]
fn worker_carries_certificates_but_no_private_keys() {
    let (secrets, configs) = generated();
    let worker = configs.worker.to_yaml().unwrap();
    let controlplane = configs.controlplane.to_yaml().unwrap();
    let b64 = |pem: &str| basalt_config::v1alpha1::Base64Pem::from_pem(pem).0;
    for key in [
        &secrets.certs.os.key,
        &secrets.certs.k8s.key,
        &secrets.certs.etcd.key,
        &secrets.certs.k8s_aggregator.key,
        &secrets.certs.k8s_service_account.key,
    ] {
        assert!(
            !worker.contains(&b64(key)),
            "a private key leaked into worker.yaml"
        );
        assert!(
            controlplane.contains(&b64(key)),
            "controlplane.yaml misses a private key"
        );
    }
    assert!(worker.contains(&b64(&secrets.certs.os.crt)));
    assert!(worker.contains(&b64(&secrets.certs.k8s.crt)));
    assert!(worker.contains(&secrets.trustd_info.token));
}

#[test]
fn generated_config_carries_inputs() {
    let (secrets, configs) = generated();
    let cp = configs.controlplane.v1alpha1().unwrap();
    assert_eq!(cp.machine.machine_type, "controlplane");
    assert_eq!(cp.cluster.cluster_name.as_deref(), Some("demo"));
    assert_eq!(
        cp.cluster.control_plane.as_ref().unwrap().endpoint,
        "https://10.5.0.2:6443"
    );
    assert_eq!(
        cp.cluster.token.as_deref(),
        Some(secrets.secrets.bootstrap_token.as_str())
    );
    let sans = cp
        .cluster
        .api_server
        .as_ref()
        .unwrap()
        .cert_sans
        .clone()
        .unwrap();
    assert_eq!(sans, ["10.5.0.2", "basalt.example.com", "10.5.0.10"]);
    assert_eq!(
        cp.machine.cert_sans.clone().unwrap(),
        ["basalt.example.com", "10.5.0.10"]
    );
    assert_eq!(
        cp.machine.install.as_ref().unwrap().disk.as_deref(),
        Some("/dev/sda")
    );
    let worker = configs.worker.v1alpha1().unwrap();
    assert_eq!(worker.machine.machine_type, "worker");
    assert!(worker.cluster.api_server.is_none());
}

#[test]
fn bad_inputs_are_refused_with_the_input_named() {
    let secrets = SecretsBundle::generate().unwrap();
    let cases = [
        (
            GenerateOptions::new("", "https://10.5.0.2:6443"),
            "cluster name \"\"",
        ),
        (
            GenerateOptions::new("demo", "10.5.0.2:6443"),
            "cluster endpoint \"10.5.0.2:6443\"",
        ),
        (
            GenerateOptions::new("demo", "http://10.5.0.2:6443"),
            "the scheme must be https",
        ),
        (
            GenerateOptions {
                kubernetes_version: "latest".into(),
                ..GenerateOptions::new("demo", "https://a:6443")
            },
            "--kubernetes-version \"latest\"",
        ),
        (
            GenerateOptions {
                install_disk: "sda".into(),
                ..GenerateOptions::new("demo", "https://a:6443")
            },
            "--install-disk \"sda\"",
        ),
        (
            GenerateOptions {
                additional_sans: vec!["bad name".into()],
                ..GenerateOptions::new("demo", "https://a:6443")
            },
            "--additional-sans entry \"bad name\"",
        ),
    ];
    for (options, expected) in cases {
        let err = generate(&secrets, &options).unwrap_err().to_string();
        assert!(err.contains(expected), "expected {expected:?} in {err:?}");
    }
}
