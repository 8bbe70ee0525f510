//! `gen secrets`, `gen config`, `validate` and `machineconfig patch`, through the real binary;
//! every issued certificate is checked with the real `openssl` CLI.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use common::{openssl, Sandbox};

const ENDPOINT: &str = "https://10.5.0.2:6443";

/// Runs `basaltctl gen config demo https://10.5.0.2:6443` followed by `extra`.
fn gen_config(sb: &Sandbox, extra: &[&str]) -> common::Run {
    let mut args = vec!["gen", "config", "demo", ENDPOINT];
    args.extend_from_slice(extra);
    sb.run(&args)
}

fn yaml(path: &Path) -> serde_yaml::Value {
    serde_yaml::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// Follows `a.b.c` in a YAML value and base64-decodes the string there into `out`.
fn extract(doc: &serde_yaml::Value, dotted: &str, out: &Path) {
    let mut node = doc;
    for key in dotted.split('.') {
        node = &node[key];
    }
    let b64 = node
        .as_str()
        .unwrap_or_else(|| panic!("{dotted} is not a string"));
    let pem = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    fs::write(out, pem).unwrap();
}

/// Runs openssl and returns its stdout, or `Err(stderr)` when it exits non-zero.
fn openssl_out(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the `openssl` binary is required by these tests; install the openssl package");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Asserts with `openssl x509 -checkend` that `crt` is still valid in `min` days but not in `max`.
fn assert_lifetime_days(dir: &Path, crt: &str, min: u64, max: u64) {
    let checkend = |days: u64| {
        let secs = (days * 86400).to_string();
        openssl_out(dir, &["x509", "-in", crt, "-noout", "-checkend", &secs])
    };
    assert!(checkend(min).is_ok(), "{crt} expires within {min} days");
    assert!(checkend(max).is_err(), "{crt} is still valid in {max} days");
}

#[test]
fn gen_config_writes_three_private_files_that_validate() {
    let sb = Sandbox::new();
    let out = sb.path("out");
    gen_config(&sb, &["-o", out.to_str().unwrap()]).ok();
    for name in ["controlplane.yaml", "worker.yaml", "basaltconfig"] {
        let mode = fs::metadata(out.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name} must be private");
    }
    for (name, mode) in [
        ("controlplane.yaml", "metal"),
        ("worker.yaml", "metal"),
        ("controlplane.yaml", "container"),
    ] {
        let file = out.join(name);
        let stdout = sb
            .run(&["validate", "-c", file.to_str().unwrap(), "-m", mode])
            .ok()
            .to_string();
        assert!(
            stdout.contains(&format!("is valid for {mode} mode")),
            "{stdout}"
        );
    }
    // The client config points at the endpoint's host and is the current context.
    let client = yaml(&out.join("basaltconfig"));
    assert_eq!(client["context"].as_str(), Some("demo"));
    assert_eq!(
        client["contexts"]["demo"]["endpoints"][0].as_str(),
        Some("10.5.0.2")
    );
    // Running again without --force refuses and leaves the files alone.
    let before = fs::read(out.join("controlplane.yaml")).unwrap();
    let err = gen_config(&sb, &["-o", out.to_str().unwrap()])
        .fails()
        .to_string();
    assert!(err.contains("already exists; use --force"), "{err}");
    assert_eq!(before, fs::read(out.join("controlplane.yaml")).unwrap());
    gen_config(&sb, &["-o", out.to_str().unwrap(), "--force"]).ok();
    assert_ne!(
        before,
        fs::read(out.join("controlplane.yaml")).unwrap(),
        "--force writes new secrets"
    );
}

#[test]
fn openssl_verifies_every_issued_certificate() {
    let sb = Sandbox::new();
    let out = sb.path("out");
    gen_config(&sb, &["-o", out.to_str().unwrap()]).ok();
    let cp = yaml(&out.join("controlplane.yaml"));
    let dir = sb.dir.path();
    let cas = [
        ("os", "machine.ca"),
        ("k8s", "cluster.ca"),
        ("aggregator", "cluster.aggregatorCA"),
        ("etcd", "cluster.etcd.ca"),
    ];
    for (name, field) in cas {
        extract(
            &cp,
            &format!("{field}.crt"),
            &dir.join(format!("{name}.crt")),
        );
        extract(
            &cp,
            &format!("{field}.key"),
            &dir.join(format!("{name}.key")),
        );
        let crt = format!("{name}.crt");
        // Self-signed CA verifies against itself, is a CA, and is valid for ~10 years.
        openssl(dir, &["verify", "-CAfile", &crt, &crt]);
        let text = openssl_out(dir, &["x509", "-in", &crt, "-noout", "-text"]).unwrap();
        assert!(text.contains("CA:TRUE"), "{name} CA lacks CA:TRUE");
        assert_lifetime_days(dir, &crt, 3649, 3651);
        // The key in the config belongs to the certificate.
        let from_cert = openssl_out(dir, &["x509", "-in", &crt, "-noout", "-pubkey"]).unwrap();
        let key_path = dir.join(format!("{name}.key"));
        let key_pem = fs::read_to_string(&key_path).unwrap();
        // Talos labels Ed25519 keys `ED25519 PRIVATE KEY` around a PKCS#8 body; openssl only
        // knows the standard label for that body.
        fs::write(
            &key_path,
            key_pem.replace("ED25519 PRIVATE KEY", "PRIVATE KEY"),
        )
        .unwrap();
        let from_key =
            openssl_out(dir, &["pkey", "-in", &format!("{name}.key"), "-pubout"]).unwrap();
        assert_eq!(
            from_cert, from_key,
            "{field}.key does not match {field}.crt"
        );
    }
    let os_text = openssl_out(dir, &["x509", "-in", "os.crt", "-noout", "-text"]).unwrap();
    assert!(os_text.contains("ED25519"), "the OS CA must be Ed25519");
    for name in ["k8s", "aggregator", "etcd"] {
        let text = openssl_out(
            dir,
            &["x509", "-in", &format!("{name}.crt"), "-noout", "-text"],
        )
        .unwrap();
        assert!(
            text.contains("prime256v1"),
            "the {name} CA must be ECDSA P-256"
        );
    }
    extract(&cp, "cluster.serviceAccount.key", &dir.join("sa.key"));
    openssl(dir, &["pkey", "-in", "sa.key", "-noout"]);

    // The admin client certificate chains to the OS CA, is a TLS client cert with os:admin,
    // and expires after one year.
    let client = yaml(&out.join("basaltconfig"));
    extract(&client, "contexts.demo.crt", &dir.join("admin.crt"));
    extract(&client, "contexts.demo.ca", &dir.join("client-ca.crt"));
    assert_eq!(
        fs::read(dir.join("client-ca.crt")).unwrap(),
        fs::read(dir.join("os.crt")).unwrap()
    );
    openssl(
        dir,
        &[
            "verify",
            "-CAfile",
            "os.crt",
            "-purpose",
            "sslclient",
            "admin.crt",
        ],
    );
    let wrong = openssl_out(dir, &["verify", "-CAfile", "k8s.crt", "admin.crt"]);
    assert!(
        wrong.is_err(),
        "the admin certificate must not verify against another CA"
    );
    let subject = openssl_out(dir, &["x509", "-in", "admin.crt", "-noout", "-subject"]).unwrap();
    assert!(subject.contains("O = os:admin"), "{subject}");
    assert_lifetime_days(dir, "admin.crt", 364, 366);

    // The worker carries the CA certificates, never a private key.
    let worker = yaml(&out.join("worker.yaml"));
    assert_eq!(worker["machine"]["ca"]["key"].as_str(), Some(""));
    assert_eq!(worker["cluster"]["ca"]["key"].as_str(), Some(""));
    assert!(worker["cluster"]["etcd"].is_null());
}

#[test]
fn with_secrets_reuses_the_bundle() {
    let sb = Sandbox::new();
    let secrets = sb.path("secrets.yaml");
    sb.run(&["gen", "secrets", "-o", secrets.to_str().unwrap()])
        .ok();
    assert_eq!(
        fs::metadata(&secrets).unwrap().permissions().mode() & 0o777,
        0o600
    );
    for dir in ["one", "two"] {
        let out = sb.path(dir);
        gen_config(
            &sb,
            &[
                "--with-secrets",
                secrets.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ],
        )
        .ok();
    }
    let one = yaml(&sb.path("one/controlplane.yaml"));
    let two = yaml(&sb.path("two/controlplane.yaml"));
    assert_eq!(one["cluster"]["ca"], two["cluster"]["ca"]);
    assert_eq!(one["machine"]["token"], two["machine"]["token"]);
    let err = sb
        .run(&["gen", "secrets", "-o", secrets.to_str().unwrap()])
        .fails()
        .to_string();
    assert!(err.contains("already exists"), "{err}");
    sb.write("broken.yaml", "cluster: {id: x}\n");
    let err = gen_config(
        &sb,
        &["--with-secrets", sb.path("broken.yaml").to_str().unwrap()],
    )
    .fails()
    .to_string();
    assert!(
        err.contains("broken.yaml"),
        "the error must name the file: {err}"
    );
}

#[test]
fn gen_config_applies_patches_per_role_and_validates_the_result() {
    let sb = Sandbox::new();
    let patch = sb.write(
        "common.yaml",
        "machine:\n  network:\n    hostname: node-a\n",
    );
    let out = sb.path("out");
    gen_config(
        &sb,
        &[
            "-o",
            out.to_str().unwrap(),
            "--config-patch",
            &format!("@{}", patch.display()),
            "--config-patch-control-plane",
            "cluster:\n  allowSchedulingOnControlPlanes: true\n",
            "--config-patch-worker",
            r#"[{"op": "replace", "path": "/machine/install/disk", "value": "/dev/vda"}]"#,
        ],
    )
    .ok();
    let cp = yaml(&out.join("controlplane.yaml"));
    let worker = yaml(&out.join("worker.yaml"));
    assert_eq!(
        cp["machine"]["network"]["hostname"].as_str(),
        Some("node-a")
    );
    assert_eq!(
        worker["machine"]["network"]["hostname"].as_str(),
        Some("node-a")
    );
    assert_eq!(
        cp["cluster"]["allowSchedulingOnControlPlanes"].as_bool(),
        Some(true)
    );
    assert!(worker["cluster"]["allowSchedulingOnControlPlanes"].is_null());
    assert_eq!(
        worker["machine"]["install"]["disk"].as_str(),
        Some("/dev/vda")
    );
    assert_eq!(cp["machine"]["install"]["disk"].as_str(), Some("/dev/sda"));

    // A patch that does not apply names the operation and path, and writes nothing.
    let bad = sb.path("bad");
    let err = gen_config(
        &sb,
        &[
            "-o",
            bad.to_str().unwrap(),
            "--config-patch",
            r#"[{"op": "test", "path": "/machine/install/disk", "value": "/dev/nvme0n1"}]"#,
        ],
    )
    .fails()
    .to_string();
    assert!(
        err.contains("operation 1 (test /machine/install/disk)"),
        "{err}"
    );
    assert!(!bad.exists(), "nothing may be written when a patch fails");

    // A patch that produces an invalid config is refused with the field path.
    let err = gen_config(
        &sb,
        &[
            "-o",
            bad.to_str().unwrap(),
            "--config-patch",
            "machine:\n  netwrok: {}\n",
        ],
    )
    .fails()
    .to_string();
    assert!(err.contains(".machine.netwrok"), "{err}");
}

#[test]
fn single_output_type_goes_to_a_file_or_stdout() {
    let sb = Sandbox::new();
    let stdout = gen_config(&sb, &["-t", "worker", "-o", "-"])
        .ok()
        .to_string();
    assert!(stdout.contains("type: worker"), "{stdout}");
    let file = sb.path("cp.yaml");
    gen_config(&sb, &["-t", "controlplane", "-o", file.to_str().unwrap()]).ok();
    assert!(fs::read_to_string(&file)
        .unwrap()
        .contains("type: controlplane"));
    let err = gen_config(&sb, &["-o", "-"]).fails().to_string();
    assert!(err.contains("needs exactly one output type"), "{err}");
    let err = sb
        .run(&["gen", "config", "demo", "10.5.0.2"])
        .fails()
        .to_string();
    assert!(err.contains("cluster endpoint \"10.5.0.2\""), "{err}");
}

#[test]
fn validate_reports_every_problem_with_file_line_and_path() {
    let sb = Sandbox::new();
    let out = sb.path("out");
    gen_config(&sb, &["-o", out.to_str().unwrap()]).ok();
    let text = fs::read_to_string(out.join("controlplane.yaml")).unwrap();
    let broken = text
        .replace("endpoint: https://10.5.0.2:6443", "endpoint: 10.5.0.2:6443")
        .replace("- 10.96.0.0/12", "- 10.244.0.0/17");
    let file = sb.write("broken.yaml", &broken);
    let run = sb.run(&["validate", "-c", file.to_str().unwrap(), "-m", "metal"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let err = run.stderr;
    assert!(err.lines().last().unwrap().starts_with("error: "), "{err}");
    assert!(err.contains(".cluster.controlPlane.endpoint"), "{err}");
    assert!(err.contains(".cluster.network.serviceSubnets[0]"), "{err}");
    assert!(err.contains("line "), "{err}");
    assert!(err.contains("2 problem(s) found"), "{err}");

    // The generated worker has an install section, which container mode only warns about.
    let worker = out.join("worker.yaml");
    let ok = sb.run(&[
        "validate",
        "-c",
        worker.to_str().unwrap(),
        "-m",
        "container",
    ]);
    ok.ok();
    assert!(ok.stderr.contains("warning:"), "{}", ok.stderr);
    let strict = sb.run(&[
        "validate",
        "-c",
        worker.to_str().unwrap(),
        "-m",
        "container",
        "--strict",
    ]);
    assert_eq!(strict.code, Some(1), "{}", strict.stderr);
    assert!(strict.stderr.contains("--strict"), "{}", strict.stderr);
    let err = sb.run(&["validate", "-c", worker.to_str().unwrap(), "-m", "cloud"]);
    assert_eq!(
        err.code,
        Some(2),
        "an unknown mode is a usage error: {}",
        err.stderr
    );
    assert!(err.stderr.contains("metal, container"), "{}", err.stderr);
    let missing = sb
        .run(&["validate", "-c", "/nonexistent/cp.yaml", "-m", "metal"])
        .fails()
        .to_string();
    assert!(missing.contains("/nonexistent/cp.yaml"), "{missing}");
}

#[test]
fn machineconfig_patch_applies_in_order_and_reports_failures() {
    let sb = Sandbox::new();
    let cp = sb.path("cp.yaml");
    gen_config(&sb, &["-t", "controlplane", "-o", cp.to_str().unwrap()]).ok();
    let first = sb.write("first.yaml", "machine:\n  install:\n    disk: /dev/vda\n");
    let out = sb.path("patched.yaml");
    sb.run(&[
        "machineconfig",
        "patch",
        cp.to_str().unwrap(),
        "-p",
        &format!("@{}", first.display()),
        "-p",
        r#"[{"op": "test", "path": "/machine/install/disk", "value": "/dev/vda"}, {"op": "add", "path": "/machine/certSANs/-", "value": "node.example.com"}]"#,
        "-o",
        out.to_str().unwrap(),
    ])
    .ok();
    let patched = yaml(&out);
    assert_eq!(
        patched["machine"]["install"]["disk"].as_str(),
        Some("/dev/vda")
    );
    assert_eq!(
        patched["machine"]["certSANs"][0].as_str(),
        Some("node.example.com")
    );
    assert_eq!(
        fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let err = sb
        .run(&[
            "machineconfig",
            "patch",
            cp.to_str().unwrap(),
            "-p",
            r#"[{"op": "remove", "path": "/machine/nothing"}]"#,
        ])
        .fails()
        .to_string();
    assert!(
        err.contains("operation 1 (remove /machine/nothing)"),
        "{err}"
    );
    let err = sb
        .run(&[
            "machineconfig",
            "patch",
            cp.to_str().unwrap(),
            "-p",
            "@/nonexistent/patch.yaml",
        ])
        .fails()
        .to_string();
    assert!(err.contains("/nonexistent/patch.yaml"), "{err}");
}
