//! Shutdown drains: a call in flight when the server's shutdown fires still gets its
//! reply (machined stops apid right after the first config arrives in maintenance mode,
//! and that call's reply must reach the client); then `serve` returns and the port is free.
#![allow(clippy::unwrap_used)]

mod support;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use basalt_apid::certs;
use basalt_apid::server;
use basalt_apid::tls::resolver::RotatingResolver;
use basalt_apid::tls::server::{server_config, ClientAuth, SharedServerConfig};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use support::*;
use tokio::sync::{oneshot, Notify};

/// Answers once `release` is notified ("late reply", or "serve had returned" when `serve`
/// returned before the reply was made); tells `started` when a call arrived.
#[derive(Clone)]
struct Slow {
    started: Arc<Mutex<Option<oneshot::Sender<()>>>>,
    release: Arc<Notify>,
    returned: Arc<AtomicBool>,
}

impl<B: Send + 'static> tower::Service<http::Request<B>> for Slow {
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: http::Request<B>) -> Self::Future {
        if let Some(tx) = self.started.lock().unwrap().take() {
            let _ = tx.send(());
        }
        let release = Arc::clone(&self.release);
        let returned = Arc::clone(&self.returned);
        Box::pin(async move {
            release.notified().await;
            let text = if returned.load(Ordering::SeqCst) {
                "serve had returned"
            } else {
                "late reply"
            };
            Ok(http::Response::new(Full::new(Bytes::from(text))))
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_flight_at_shutdown_still_gets_its_reply() {
    let ca = ca("basalt");
    let issued =
        certs::issue_server_certificate(&ca, &localhost(), Duration::from_secs(3600)).unwrap();
    let (cert, key) = certs::to_der(&issued, "server").unwrap();
    let resolver = RotatingResolver::new(certs::certified_key(cert, &key, "server").unwrap());
    let auth = ClientAuth::Required {
        roots: vec![der_of(&ca)],
    };
    let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (started_tx, started_rx) = oneshot::channel();
    let slow = Slow {
        started: Arc::new(Mutex::new(Some(started_tx))),
        release: Arc::new(Notify::new()),
        returned: Arc::default(),
    };
    let release = Arc::clone(&slow.release);
    let returned = Arc::clone(&slow.returned);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        server::serve(
            listener,
            SharedServerConfig::new(server_config(resolver, &auth).unwrap()),
            slow,
            async move {
                let _ = stop_rx.await;
            },
        )
        .await;
        returned.store(true, Ordering::SeqCst);
    });

    let config = client_config(&[der_of(&ca)], Some(client(&ca, "os:admin")), false);
    let mut sender = h2(connect(addr, config).await.unwrap()).await;
    let request = http::Request::builder()
        .uri("https://127.0.0.1/machine.MachineService/ApplyConfiguration")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let call = tokio::spawn(async move {
        let response = sender.send_request(request).await.unwrap();
        response.into_body().collect().await.unwrap().to_bytes()
    });
    tokio::time::timeout(TIMEOUT, started_rx)
        .await
        .unwrap()
        .unwrap();

    stop_tx.send(()).unwrap();
    // the listener closes at once: new connections are refused while the call drains
    let refused = async {
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(TIMEOUT, refused).await.unwrap();

    release.notify_one();
    let body = tokio::time::timeout(TIMEOUT, call).await.unwrap().unwrap();
    assert_eq!(String::from_utf8_lossy(&body), "late reply");
    tokio::time::timeout(TIMEOUT, serving)
        .await
        .unwrap()
        .unwrap();
}
