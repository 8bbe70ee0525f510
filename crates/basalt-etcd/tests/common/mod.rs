//! Real etcd 3.4 processes on 127.0.0.1 with their own ports and directories.
#![allow(clippy::unwrap_used, dead_code)]

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use basalt_etcd::args::{EtcdArgs, Initial, Ports};
use basalt_etcd::client::Client;
use basalt_etcd::pki::{issue_node_certs, CertPaths, ClientTls, NodeCerts, NodeNames};
use basalt_pki::{CaSubject, CertificateAuthority, KeyAlgorithm, CA_LIFETIME};

pub const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The full path of `binary` on PATH; fails naming the Debian package when missing.
pub fn require(binary: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(binary))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{binary}` is not installed: these tests run real etcd 3.4; install the Debian \
                 package `{package}` (apt-get install -y {package}, or `cargo xtask test`)"
            )
        })
}

pub fn etcd() -> PathBuf {
    require("etcd", "etcd-server")
}

pub fn etcdctl() -> PathBuf {
    require("etcdctl", "etcd-client")
}

/// A free TCP port on 127.0.0.1 (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn free_ports() -> Ports {
    Ports {
        client: free_port(),
        peer: free_port(),
    }
}

/// A fresh etcd CA (ECDSA P-256, O=etcd like `gen secrets`).
pub fn etcd_ca() -> CertificateAuthority {
    CertificateAuthority::generate(
        &CaSubject::organization("etcd"),
        KeyAlgorithm::EcdsaP256,
        CA_LIFETIME,
    )
    .unwrap()
}

pub fn node_certs(ca: &CertificateAuthority, name: &str) -> NodeCerts {
    issue_node_certs(
        ca.cert_pem(),
        ca.key_pem(),
        &NodeNames {
            hostname: name.to_string(),
            ips: vec![LOCALHOST],
        },
        Duration::from_secs(24 * 3600),
    )
    .unwrap()
}

/// One running etcd member; killed (SIGKILL) and reaped on drop.
pub struct Member {
    pub name: String,
    pub args: EtcdArgs,
    pub tls: ClientTls,
    pub certs: CertPaths,
    pub log: PathBuf,
    child: Option<Child>,
}

impl Member {
    pub fn client_url(&self) -> String {
        self.args.client_url()
    }

    pub fn peer_url(&self) -> String {
        self.args.peer_url()
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Waits until the member answers Status over mTLS.
    pub async fn wait_ready(&self, limit: Duration) {
        let client = Client::connect(&[self.client_url()], &self.tls)
            .await
            .unwrap();
        let start = Instant::now();
        loop {
            match client.status(&self.client_url()).await {
                Ok(_) => return,
                Err(err) if start.elapsed() > limit => panic!(
                    "etcd member {} not ready after {limit:?}: {err}\n--- log ---\n{}",
                    self.name,
                    self.log_tail()
                ),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Writes the node's certificates under `root/NAME/secrets`, data in `root/NAME/data`, and
/// starts etcd with `initial`.
pub fn start(
    root: &Path,
    ca: &CertificateAuthority,
    name: &str,
    ports: Ports,
    initial: Initial,
) -> Member {
    let dir = root.join(name);
    let certs = node_certs(ca, name);
    let paths = certs.write(&dir.join("secrets")).unwrap();
    let mut args = EtcdArgs::new(name, dir.join("data"), LOCALHOST, paths.clone(), initial);
    args.ports = ports;
    start_with(args, certs.client_tls(), &dir)
}

pub fn start_with(args: EtcdArgs, tls: ClientTls, dir: &Path) -> Member {
    std::fs::create_dir_all(dir).unwrap();
    let argv = args.argv(&etcd()).unwrap();
    let log = dir.join(format!("etcd-{}.log", std::process::id()));
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .unwrap();
    let child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    Member {
        name: args.name.clone(),
        certs: args.certs.clone(),
        args,
        tls,
        log,
        child: Some(child),
    }
}

pub fn log_line(line: &str) {
    eprintln!("[join] {line}");
}
