use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use super::*;

/// What the test server does with each request.
#[derive(Clone)]
enum Answer {
    /// Writes these bytes, then closes.
    Bytes(Vec<u8>),
    /// Writes the head, then waits forever.
    Stall(Vec<u8>),
}

fn ok(body: &[u8]) -> Answer {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    Answer::Bytes(bytes)
}

fn raw(text: &str) -> Answer {
    Answer::Bytes(text.as_bytes().to_vec())
}

/// Serves `answer` to every connection on `listener`; returns the requests' heads.
fn serve_on(listener: TcpListener, answer: Answer) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (heads, received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let answer = answer.clone();
            let heads = heads.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = stream.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    head.extend_from_slice(&buf[..n]);
                }
                let _ = heads.send(String::from_utf8_lossy(&head).into_owned());
                match answer {
                    Answer::Bytes(bytes) => {
                        // the client may hang up early (oversized bodies)
                        let _ = stream.write_all(&bytes).await;
                        let _ = stream.shutdown().await;
                    }
                    Answer::Stall(bytes) => {
                        let _ = stream.write_all(&bytes).await;
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                }
            });
        }
    });
    received
}

async fn serve(answer: Answer) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/configs/worker.yaml",
        listener.local_addr().unwrap()
    );
    (url, serve_on(listener, answer))
}

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn status_200_returns_the_body_and_sends_a_plain_get() {
    let (url, mut heads) = serve(ok(b"version: v1alpha1\n")).await;
    let body = fetch_once(&url, 1024, SECOND * 5).await.unwrap();
    assert_eq!(body, b"version: v1alpha1\n");
    let head = heads.recv().await.unwrap();
    assert!(
        head.starts_with("GET /configs/worker.yaml HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase().contains("host: 127.0.0.1:"),
        "{head}"
    );
}

#[tokio::test]
async fn other_statuses_are_errors_and_redirects_are_not_followed() {
    let (url, _h) = serve(raw("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")).await;
    let e = fetch_once(&url, 1024, SECOND * 5).await.unwrap_err();
    assert!(matches!(e, FetchError::Status { .. }), "{e}");
    assert!(
        e.to_string().contains("404") && e.to_string().contains(&url),
        "{e}"
    );

    let (url, _h) = serve(raw(
        "HTTP/1.1 302 Found\r\nLocation: http://elsewhere/c.yaml\r\nContent-Length: 0\r\n\r\n",
    ))
    .await;
    let e = fetch_once(&url, 1024, SECOND * 5)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("302") && e.contains("redirects are not followed"),
        "{e}"
    );
    assert!(e.contains("http://elsewhere/c.yaml"), "{e}");
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_or_without_content_length() {
    let (url, _h) = serve(ok(&[b'a'; 2000])).await;
    let e = fetch_once(&url, 1000, SECOND * 5).await.unwrap_err();
    assert!(matches!(e, FetchError::TooBig { limit: 1000, .. }), "{e}");

    let mut unannounced = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
    unannounced.extend_from_slice(&[b'a'; 2000]);
    let (url, _h) = serve(Answer::Bytes(unannounced)).await;
    let e = fetch_once(&url, 1000, SECOND * 5).await.unwrap_err();
    assert!(matches!(e, FetchError::TooBig { .. }), "{e}");

    // the real limit
    let (url, _h) = serve(ok(&vec![b'a'; MAX_CONFIG_BYTES + 1])).await;
    let e = fetch_once(&url, MAX_CONFIG_BYTES, SECOND * 5)
        .await
        .unwrap_err();
    assert!(e.to_string().contains(&MAX_CONFIG_BYTES.to_string()), "{e}");
}

#[tokio::test]
async fn chunked_bodies_are_read() {
    let (url, _h) = serve(raw(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    ))
    .await;
    assert_eq!(fetch_once(&url, 10, SECOND * 5).await.unwrap(), b"abcde");
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".to_vec();
    let (url, _h) = serve(Answer::Stall(head)).await;
    let e = fetch_once(&url, 1024, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(e, FetchError::Timeout { .. }), "{e}");
    assert!(e.to_string().contains(&url), "{e}");
}

#[tokio::test]
async fn a_truncated_body_is_an_error() {
    let (url, _h) = serve(raw(
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part",
    ))
    .await;
    let e = fetch_once(&url, 1024, SECOND * 5).await.unwrap_err();
    assert!(matches!(e, FetchError::Http { .. }), "{e}");
}

#[tokio::test]
async fn connection_refused_names_the_address() {
    let url = format!("http://{}/c.yaml", free_port().await);
    let e = fetch_once(&url, 1024, SECOND * 5).await.unwrap_err();
    assert!(matches!(e, FetchError::Connect { .. }), "{e}");
    assert!(e.to_string().to_lowercase().contains("refused"), "{e}");
}

/// An address nobody listens on (bound, then released).
async fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

fn quick(total: Duration) -> FetchPolicy {
    FetchPolicy {
        total,
        attempt_timeout: SECOND * 2,
        first_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(400),
        max_bytes: MAX_CONFIG_BYTES,
    }
}

#[tokio::test]
async fn retries_until_a_late_server_answers() {
    let addr = free_port().await;
    let url = format!("http://{addr}/c.yaml");
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(800)).await;
        let listener = TcpListener::bind(addr).await.unwrap();
        let _heads = serve_on(listener, ok(b"late"));
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
    let mut lines = Vec::new();
    let cancel = CancellationToken::new();
    let body = fetch_with_retry(&url, &quick(SECOND * 20), &cancel, &mut |l| lines.push(l))
        .await
        .unwrap();
    assert_eq!(body, b"late");
    assert!(lines.len() >= 2, "{lines:?}");
    assert!(
        lines[0].contains("attempt 1") && lines[0].to_lowercase().contains("refused"),
        "{lines:?}"
    );
    assert!(lines[0].contains("retrying in 0.1 s"), "{lines:?}");
    assert!(lines[1].contains("retrying in 0.2 s"), "{lines:?}");
}

#[tokio::test]
async fn gives_up_after_the_total_time_with_the_last_reason() {
    let (url, _h) = serve(raw("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")).await;
    let mut lines = Vec::new();
    let cancel = CancellationToken::new();
    let started = std::time::Instant::now();
    let e = fetch_with_retry(&url, &quick(SECOND), &cancel, &mut |l| lines.push(l))
        .await
        .unwrap_err();
    assert!(started.elapsed() < SECOND * 2, "{:?}", started.elapsed());
    assert!(e.to_string().contains("404"), "{e}");
    assert!(lines.last().unwrap().contains("giving up"), "{lines:?}");
    assert!(lines.iter().all(|l| l.contains("404")), "{lines:?}");
}

#[tokio::test]
async fn cancellation_stops_the_retries() {
    let url = format!("http://{}/c.yaml", free_port().await);
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let e = fetch_with_retry(&url, &quick(SECOND * 60), &cancel, &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(e, FetchError::Cancelled { .. }), "{e}");
}

fn url_source(node: &Node, url: &str) -> ConfigSource {
    let mut source = node.source(Some(url));
    source.fetch = quick(SECOND * 5);
    source
}

#[tokio::test]
async fn acquire_fetches_validates_and_persists_then_the_next_boot_uses_state() {
    let node = Node::new();
    let text = valid_config_text();
    let (url, mut heads) = serve(ok(text.as_bytes())).await;
    let (acquired, lines) = acquire_async(&url_source(&node, &url)).await;
    let Acquired::Config { origin, bytes, .. } = acquired else {
        panic!("expected a config, got {acquired:?} ({lines:?})");
    };
    assert_eq!(origin, Origin::Argument(ConfigLocation::Url(url.clone())));
    assert_eq!(origin.to_string(), format!("basalt.config={url}"));
    assert_eq!(bytes, text.len());
    assert_eq!(std::fs::read_to_string(node.state_file()).unwrap(), text);
    assert!(lines.iter().any(|l| l.contains("persisted")), "{lines:?}");
    assert!(heads.recv().await.is_some());

    // next boot: STATE wins, the URL is not fetched again
    let (acquired, _) = acquire_async(&url_source(&node, &url)).await;
    assert!(matches!(
        acquired,
        Acquired::Config {
            origin: Origin::State(_),
            ..
        }
    ));
    assert!(heads.try_recv().is_err(), "the URL was fetched again");
}

#[tokio::test]
async fn an_invalid_fetched_config_is_not_persisted() {
    let node = Node::new();
    let (url, _h) = serve(ok(b"version: v1alpha1\nmachine: {bogus: 1}\n")).await;
    let (acquired, _) = acquire_async(&url_source(&node, &url)).await;
    assert!(matches!(
        acquired,
        Acquired::Maintenance(MaintenanceReason::Invalid { .. })
    ));
    assert!(!node.state_file().exists());
}

#[tokio::test]
async fn an_unreachable_url_goes_to_maintenance_with_the_reason() {
    let node = Node::new();
    let url = format!("http://{}/c.yaml", free_port().await);
    let mut source = url_source(&node, &url);
    source.fetch = quick(Duration::from_millis(500));
    let (acquired, lines) = acquire_async(&source).await;
    let Acquired::Maintenance(reason @ MaintenanceReason::Unavailable { .. }) = acquired else {
        panic!("expected maintenance, got {acquired:?}");
    };
    let reason = reason.to_string();
    assert!(
        reason.contains(&url) && reason.to_lowercase().contains("refused"),
        "{reason}"
    );
    assert!(lines.iter().any(|l| l.contains("giving up")), "{lines:?}");
}
