//! apid on a worker, end to end: it reads a worker config (machine.ca.crt only) from a
//! real machined API socket, asks an in-process trustd at the control-plane endpoint's
//! HOST:50001 (a loopback address of the test's own) for its server certificate, then
//! answers `version` over mutual TLS. With a wrong token it does not listen and its log
//! says why.
#![allow(clippy::unwrap_used)]

mod support;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use basalt_api::machine::machine_service_client::MachineServiceClient;
use basalt_apid::args::Args;
use basalt_apid::certs;
use basalt_pki::{issue_client_certificate, CertificateInfo, ExtKeyUsage};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use support::{
    free_port, logs, os_ca, own_loopback, wait_for_log, within, worker_config, Machined,
    TrustdServer, TOKEN,
};
use tokio::net::TcpStream;
use tonic::transport::{Endpoint, Uri};

fn apid_args(sock: &std::path::Path, port: u16) -> Args {
    Args {
        socket: sock.to_path_buf(),
        listen: SocketAddr::from(([127, 0, 0, 1], port)),
        maintenance: false,
        maintenance_ca: None,
        cert_lifetime: Duration::from_secs(3600),
    }
}

#[derive(Clone)]
struct Connector {
    config: Arc<rustls::ClientConfig>,
    addr: SocketAddr,
    seen: Arc<std::sync::Mutex<Option<CertificateDer<'static>>>>,
}

impl tower::Service<Uri> for Connector {
    type Response = TokioIo<tokio_rustls::client::TlsStream<TcpStream>>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let tcp = TcpStream::connect(this.addr).await?;
            tcp.set_nodelay(true)?;
            let name = ServerName::try_from("worker.example.test").unwrap();
            let tls = tokio_rustls::TlsConnector::from(this.config)
                .connect(name, tcp)
                .await?;
            let leaf = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
            *this.seen.lock().unwrap() = leaf.map(|c| c.clone().into_owned());
            Ok(TokioIo::new(tls))
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_apid_gets_its_certificate_from_trustd_and_serves() {
    logs();
    let ca = os_ca();
    let host = own_loopback();
    let trustd = TrustdServer::start(&ca, TOKEN, SocketAddr::new(host, 50001)).await;
    let machined = Machined::start("worker-1", &worker_config(&ca, TOKEN, host)).await;
    let port = free_port();
    let apid = tokio::spawn(basalt_apid::entry::run(apid_args(&machined.sock, port)));

    // an admin client over mutual TLS, verifying apid's certificate against machine.ca
    let admin = issue_client_certificate(&ca, &["os:admin"], Duration::from_secs(600)).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca.cert_der().to_vec()))
        .unwrap();
    let (cert, key) = certs::to_der(&admin, "test admin").unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(certs::crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(vec![cert], key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = Connector {
        config: Arc::new(config),
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        seen: Arc::default(),
    };
    let channel = within("worker apid to listen", async {
        loop {
            let endpoint = Endpoint::from_shared(format!("http://127.0.0.1:{port}")).unwrap();
            if let Ok(channel) = endpoint.connect_with_connector(connector.clone()).await {
                return channel;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let version = MachineServiceClient::new(channel)
        .version(())
        .await
        .unwrap()
        .into_inner();
    let reply = version.messages.first().unwrap();
    assert!(reply.version.is_some(), "{reply:?}");

    let served = connector.seen.lock().unwrap().clone().unwrap();
    let info = CertificateInfo::from_der(&served).unwrap();
    assert_eq!(info.ext_key_usages, vec![ExtKeyUsage::ServerAuth]);
    assert!(info.organizations.is_empty());
    assert!(info.dns_names.contains(&"worker.example.test".to_string()));
    assert_eq!(info.authority_key_id, ca.info().unwrap().subject_key_id);
    assert_eq!(
        (info.not_after - info.not_before).whole_seconds(),
        7200 + 60
    );
    wait_for_log("trustd's signing line", |l| {
        l.contains("signed a server certificate for 127.") && l.contains("worker.example.test")
    })
    .await;
    wait_for_log("apid's serving line", |l| {
        l.contains(&format!("127.0.0.1:{port}")) && l.contains("from trustd at")
    })
    .await;
    apid.abort();
    drop(trustd);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_apid_with_a_wrong_token_does_not_serve_and_says_why() {
    logs();
    let ca = os_ca();
    let host = own_loopback();
    let trustd = TrustdServer::start(&ca, TOKEN, SocketAddr::new(host, 50001)).await;
    let wrong = "aaaaaa.bbbbbbbbbbbbbbbb";
    let machined = Machined::start("worker-2", &worker_config(&ca, wrong, host)).await;
    let port = free_port();
    let apid = tokio::spawn(basalt_apid::entry::run(apid_args(&machined.sock, port)));

    let endpoint = format!("{host}:50001");
    let line = wait_for_log("apid's refusal line", |l| {
        l.contains(&format!("trustd at {endpoint} refused the token"))
    })
    .await;
    assert!(
        line.contains("PermissionDenied") && line.contains("check machine.token"),
        "{line}"
    );
    assert!(line.contains("retrying"), "{line}");
    assert!(!line.contains(wrong), "the token was logged: {line}");
    wait_for_log("trustd's refusal line", |l| {
        l.contains("refused a certificate request from 127.") && l.contains("wrong token")
    })
    .await;
    assert!(
        TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "a worker without a certificate must not listen"
    );
    assert!(!apid.is_finished(), "apid keeps retrying");
    apid.abort();
    drop(trustd);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_apid_renews_its_certificate_at_half_life() {
    logs();
    let ca = os_ca();
    let host = own_loopback();
    // the CA backdates by 60 s: the certificate is valid ~4 s from now
    let lifetime = Duration::from_secs(4);
    let trustd = TrustdServer::start_with(&ca, TOKEN, SocketAddr::new(host, 50001), lifetime).await;
    let machined = Machined::start("worker-3", &worker_config(&ca, TOKEN, host)).await;
    let port = free_port();
    let apid = tokio::spawn(basalt_apid::entry::run(apid_args(&machined.sock, port)));
    let line = wait_for_log("a renewal", |l| {
        l.contains("server certificate renewed by trustd at")
            && l.contains(&format!("{host}:50001"))
    })
    .await;
    assert!(line.contains("next renewal in"), "{line}");
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_ok());
    apid.abort();
    drop(trustd);
}
