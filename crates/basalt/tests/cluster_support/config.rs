//! Machine configs of a test cluster: one `basaltctl gen config` run (control-plane config
//! plus the admin `basaltconfig`), patched per node with its hostname and static `eth0`.

use std::path::{Path, PathBuf};
use std::process::Command;

use basalt_config::v1alpha1::{Device, NetworkConfig};
use basalt_config::MachineConfig;

/// The `basaltctl` binary built next to `basalt` (cargo builds it for workspace tests).
pub fn basaltctl() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_basalt")).with_file_name("basaltctl");
    assert!(
        path.is_file(),
        "{} is missing: build it with `cargo build -p basaltctl` (cargo xtask test does)",
        path.display()
    );
    path
}

/// Runs `basaltctl gen secrets` and `gen config --with-secrets` into `dir`
/// (secrets.yaml, controlplane.yaml, worker.yaml, basaltconfig).
pub fn generate(dir: &Path, endpoint_ip: &str) {
    let secrets = dir.join("secrets.yaml");
    ctl_ok(
        Command::new(basaltctl())
            .args(["gen", "secrets", "-o"])
            .arg(&secrets),
    );
    ctl_ok(
        Command::new(basaltctl())
            .args(["gen", "config", "basalt-test"])
            .arg(format!("https://{endpoint_ip}:6443"))
            .arg("--with-secrets")
            .arg(&secrets)
            .arg("-o")
            .arg(dir),
    );
}

fn ctl_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes `ca.crt`, `<name>.crt`, `<name>.key` into `dir`: the OS CA and a client
/// certificate with `roles` issued from it (for raw TLS clients such as curl).
pub fn client_files(dir: &Path, name: &str, roles: &[&str]) -> (PathBuf, PathBuf, PathBuf) {
    let secrets = basalt_pki::SecretsBundle::from_file(&dir.join("secrets.yaml")).unwrap();
    let ca = secrets.os_ca().unwrap();
    let issued =
        basalt_pki::issue_client_certificate(&ca, roles, std::time::Duration::from_secs(3600))
            .unwrap();
    let paths = (
        dir.join("ca.crt"),
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    std::fs::write(&paths.0, secrets.certs.os.crt.as_bytes()).unwrap();
    std::fs::write(&paths.1, issued.cert_pem.as_bytes()).unwrap();
    // Talos-style `ED25519 PRIVATE KEY` blocks; OpenSSL tools read PKCS#8.
    let key = basalt_pki::PrivateKey::from_pem(&issued.key_pem).unwrap();
    std::fs::write(&paths.2, key.to_pkcs8_pem().as_bytes()).unwrap();
    paths
}

/// The control-plane config of `dir` for one node: `hostname`, `eth0` with `cidr`.
pub fn node_config(dir: &Path, hostname: &str, cidr: &str) -> String {
    let mut config = MachineConfig::from_file(&dir.join("controlplane.yaml")).unwrap();
    let doc = config.v1alpha1_mut().unwrap();
    let network = doc
        .machine
        .network
        .get_or_insert_with(NetworkConfig::default);
    network.hostname = Some(hostname.to_string());
    network.interfaces = Some(vec![Device {
        interface: Some("eth0".into()),
        addresses: Some(vec![cidr.to_string()]),
        ..Device::default()
    }]);
    config.to_yaml().unwrap()
}
