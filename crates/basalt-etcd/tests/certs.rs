//! The node certificates: checked by `openssl verify`, used by a real etcd with client
//! certificate authentication on, TLS 1.3 negotiated, weak TLS 1.2 suites refused, and a
//! client certificate from another CA refused.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;
use std::time::Duration;

use basalt_etcd::args::Initial;
use basalt_etcd::client::Client;
use basalt_etcd::EtcdError;
use basalt_pki::{CertificateInfo, ExtKeyUsage};
use common::*;

fn openssl() -> std::path::PathBuf {
    require("openssl", "openssl")
}

#[test]
fn certificates_verify_with_openssl_and_files_are_private() {
    let ca = etcd_ca();
    let dir = tempfile::tempdir().unwrap();
    let certs = node_certs(&ca, "cp-1");
    let paths = certs.write(&dir.path().join("etcd")).unwrap();
    for (cert, purpose) in [
        (&paths.peer_cert, "sslserver"),
        (&paths.peer_cert, "sslclient"),
        (&paths.server_cert, "sslserver"),
        (&paths.server_cert, "sslclient"),
        (&paths.client_cert, "sslclient"),
    ] {
        let out = Command::new(openssl())
            .args(["verify", "-purpose", purpose, "-CAfile"])
            .arg(&paths.ca)
            .arg(cert)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl verify -purpose {purpose} {}: {}",
            cert.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The client certificate cannot serve.
    let out = Command::new(openssl())
        .args(["verify", "-purpose", "sslserver", "-CAfile"])
        .arg(&paths.ca)
        .arg(&paths.client_cert)
        .output()
        .unwrap();
    assert!(!out.status.success());
    for path in [
        &paths.ca,
        &paths.peer_cert,
        &paths.peer_key,
        &paths.server_cert,
        &paths.server_key,
        &paths.client_cert,
        &paths.client_key,
    ] {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    let peer = CertificateInfo::from_pem(&certs.peer.cert_pem).unwrap();
    assert_eq!(peer.dns_names, ["cp-1", "localhost"]);
    assert!(peer.ip_addresses.contains(&LOCALHOST));
    assert_eq!(
        peer.ext_key_usages,
        [ExtKeyUsage::ServerAuth, ExtKeyUsage::ClientAuth]
    );
    let client = CertificateInfo::from_pem(&certs.client.cert_pem).unwrap();
    assert_eq!(client.ext_key_usages, [ExtKeyUsage::ClientAuth]);
    assert!(client.organizations.is_empty());
    assert!(client.ip_addresses.is_empty());
}

#[test]
fn a_wrong_ca_is_reported() {
    let err = basalt_etcd::pki::issue_node_certs(
        "not a pem",
        "nor this",
        &basalt_etcd::pki::NodeNames {
            hostname: "cp-9".into(),
            ips: vec![],
        },
        Duration::from_secs(60),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("cluster.etcd.ca") && err.contains("cp-9"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_uses_the_certificates_and_refuses_strangers() {
    let ca = etcd_ca();
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports();
    let member = start(dir.path(), &ca, "solo", ports, Initial::New);
    member.wait_ready(Duration::from_secs(30)).await;

    let client = Client::connect(&[member.client_url()], &member.tls)
        .await
        .unwrap();
    client.put("greeting", "hello").await.unwrap();
    assert_eq!(client.get("greeting").await.unwrap().unwrap(), b"hello");
    assert_eq!(client.get("absent").await.unwrap(), None);
    let status = client.status(&member.client_url()).await.unwrap();
    assert!(status.version.starts_with("3.4."), "{status:?}");
    assert_eq!(status.leader, status.member_id);
    assert!(client.alarm_list().await.unwrap().is_empty());
    client.defragment(&member.client_url()).await.unwrap();

    // A client certificate from another CA (the server is still trusted) is refused.
    let other = node_certs(&etcd_ca(), "intruder");
    let mut stranger_tls = other.client_tls();
    stranger_tls.ca_pem = member.tls.ca_pem.clone();
    let stranger = Client::connect(&[member.client_url()], &stranger_tls)
        .await
        .unwrap();
    let err = stranger.member_list().await.unwrap_err();
    eprintln!("client certificate from another CA: {err}");
    assert!(
        matches!(err, EtcdError::Connect { .. })
            && err.to_string().contains(&member.client_url())
            && err
                .to_string()
                .contains("refused this client's certificate"),
        "the error names the endpoint and the cause: {err}"
    );
    // A server from another CA is not trusted.
    let untrusting = Client::connect(&[member.client_url()], &other.client_tls())
        .await
        .unwrap();
    let err = untrusting.member_list().await.unwrap_err();
    eprintln!("server from another CA: {err}");
    assert!(
        matches!(err, EtcdError::Connect { .. }) && err.to_string().contains("certificate"),
        "{err}"
    );

    // openssl: TLS 1.3 is negotiated; a non-ECDHE TLS 1.2 suite is refused.
    let addr = format!("127.0.0.1:{}", ports.client);
    let s_client = |extra: &[&str]| {
        Command::new(openssl())
            .args(["s_client", "-connect", &addr, "-brief", "-cert"])
            .arg(&member.certs.client_cert)
            .arg("-key")
            .arg(&member.certs.client_key)
            .arg("-CAfile")
            .arg(&member.certs.ca)
            .args(extra)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let tls13 = s_client(&["-tls1_3"]);
    let text = String::from_utf8_lossy(&tls13.stderr).to_string()
        + &String::from_utf8_lossy(&tls13.stdout);
    assert!(text.contains("Protocol version: TLSv1.3"), "{text}");
    let weak = s_client(&["-tls1_2", "-cipher", "AES128-SHA"]);
    let text = String::from_utf8_lossy(&weak.stderr).to_string();
    assert!(!text.contains("Protocol version: TLSv1.2"), "{text}");
    let strong = s_client(&["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"]);
    let text = String::from_utf8_lossy(&strong.stderr).to_string();
    assert!(text.contains("Protocol version: TLSv1.2"), "{text}");
}
