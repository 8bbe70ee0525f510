//! `basalt apid` in normal mode end to end: it reads the machine config from a
//! real machined API socket, issues its server certificate from machine.ca
//! (SANs include machine.certSANs), and serves mTLS calls through the proxy.
#![allow(clippy::unwrap_used)]

mod proxy_support;
mod support;

use std::sync::Arc;
use std::time::Duration;

use basalt_apid::args::Args;
use basalt_apid::config_source::{
    MACHINE_CONFIG_ID, MACHINE_CONFIG_NAMESPACE, MACHINE_CONFIG_TYPE,
};
use basalt_config::v1alpha1::{Base64Pem, CertAndKey, Config};
use basalt_pki::{issue_client_certificate, CertificateInfo, ExtKeyUsage};
use basalt_resources::Resource;
use proxy_support::{within, Node, Pki};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

fn machine_config(pki: &Pki) -> Config {
    let mut config = Config {
        version: "v1alpha1".to_string(),
        ..Config::default()
    };
    config.machine.machine_type = "controlplane".to_string();
    config.machine.ca = Some(CertAndKey {
        crt: Some(Base64Pem::from_pem(pki.ca.cert_pem())),
        key: Some(Base64Pem::from_pem(pki.ca.key_pem())),
    });
    config.machine.cert_sans = Some(vec!["apid.example.test".to_string()]);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apid_serves_with_a_certificate_from_machine_ca() {
    let pki = Pki::new();
    let node = Node::start(&pki, "node-a").await;
    let spec = serde_json::to_value(machine_config(&pki)).unwrap();
    let resource = Resource::new(
        MACHINE_CONFIG_NAMESPACE,
        MACHINE_CONFIG_TYPE,
        MACHINE_CONFIG_ID,
        spec,
    );
    node.store.apply("machined", resource).unwrap();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let args = Args {
        socket: node.sock.clone(),
        listen,
        maintenance: false,
        maintenance_ca: None,
        cert_lifetime: Duration::from_secs(3600),
    };
    let apid = tokio::spawn(basalt_apid::entry::run(args));

    // The server name is a certSAN: loopback addresses are not in the certificate.
    let admin = issue_client_certificate(&pki.ca, &["os:admin"], Duration::from_secs(600)).unwrap();
    let config = Arc::new(pki.client_config_for(&admin));
    let tls = within("apid to listen", async {
        loop {
            if let Ok(tcp) = TcpStream::connect(listen).await {
                let name = ServerName::try_from("apid.example.test").unwrap();
                return TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await
                    .unwrap();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let cert = CertificateInfo::from_der(&tls.get_ref().1.peer_certificates().unwrap()[0]).unwrap();
    assert_eq!(cert.ext_key_usages, vec![ExtKeyUsage::ServerAuth]);
    assert!(
        cert.dns_names.contains(&"apid.example.test".to_string()),
        "{:?}",
        cert.dns_names
    );
    assert_eq!(cert.authority_key_id, pki.ca.info().unwrap().subject_key_id);
    let valid = (cert.not_after - cert.not_before).whole_seconds();
    assert_eq!(valid, 3600 + 60, "lifetime plus the clock-skew backdating");
    drop(tls);

    // A real call through apid's proxy to machined.
    let mut h2 = {
        let tcp = TcpStream::connect(listen).await.unwrap();
        let name = ServerName::try_from("apid.example.test").unwrap();
        let tls = TlsConnector::from(Arc::new(pki.client_config(&["os:reader"])))
            .connect(name, tcp)
            .await
            .unwrap();
        support::h2(tls).await
    };
    let request = http::Request::builder()
        .method("POST")
        .uri("https://apid.example.test/machine.MachineService/Hostname")
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        // One gRPC frame: not compressed, length 0 (google.protobuf.Empty).
        .body(http_body_util::Full::new(bytes::Bytes::from_static(&[
            0, 0, 0, 0, 0,
        ])))
        .unwrap();
    let response = within("Hostname", h2.send_request(request)).await.unwrap();
    assert_eq!(response.status(), 200);
    use http_body_util::BodyExt as _;
    let body = within("the reply", response.into_body().collect())
        .await
        .unwrap();
    let status = body.trailers().and_then(|t| t.get("grpc-status")).cloned();
    assert_eq!(
        status.unwrap(),
        "0",
        "the call went through apid to machined"
    );
    let bytes = body.to_bytes();
    assert!(
        String::from_utf8_lossy(&bytes).contains("node-a"),
        "Hostname reply names the node: {bytes:?}"
    );

    apid.abort();
    node.stop().await;
}
