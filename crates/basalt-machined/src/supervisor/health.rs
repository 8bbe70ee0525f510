//! Health probes (TCP connect, HTTP/1.0 GET, in-process) and the periodic check loop.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::spec::{HealthCheck, Probe};
use super::status::Reporter;

/// The longest HTTP status line read.
const MAX_STATUS_LINE: usize = 4096;

/// Probes `check` every period until `cancel`, reporting each result.
pub(super) async fn run(check: HealthCheck, reporter: Reporter, cancel: CancellationToken) {
    tokio::select! {
        _ = tokio::time::sleep(check.initial_delay) => {}
        _ = cancel.cancelled() => return,
    }
    let mut ticks = tokio::time::interval(check.period.max(std::time::Duration::from_millis(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = cancel.cancelled() => return,
        }
        let result = match tokio::time::timeout(check.timeout, probe(&check.probe)).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {:?}", check.timeout)),
        };
        if cancel.is_cancelled() {
            return;
        }
        reporter.health(result);
    }
}

/// Runs one probe.
pub async fn probe(probe: &Probe) -> Result<(), String> {
    match probe {
        Probe::Tcp(addr) => TcpStream::connect(addr)
            .await
            .map(drop)
            .map_err(|e| format!("cannot connect to {addr}: {e}")),
        Probe::Http(url) => http_get(url).await,
        Probe::InProcess(check) => check().await,
    }
}

/// `http://host[:port][/path]` split into host, port and path.
fn parse_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        format!("health check URL {url:?} must start with http:// (https is not supported; use a TCP check)")
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.strip_prefix('[') {
        // [v6-address]:port
        Some(v6) => match v6.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, port)) => (host, port.strip_prefix(':')),
            None => return Err(format!("health check URL {url:?} has an unclosed '['")),
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port = match port {
        Some(p) => p
            .parse()
            .map_err(|_| format!("health check URL {url:?} has a bad port {p:?}"))?,
        None => 80,
    };
    if host.is_empty() {
        return Err(format!("health check URL {url:?} has no host"));
    }
    Ok((host.to_string(), port, path.to_string()))
}

async fn http_get(url: &str) -> Result<(), String> {
    let (host, port, path) = parse_url(url)?;
    let mut stream = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: basalt-health\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("cannot send the request to {url}: {e}"))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.contains(&b'\n') && head.len() < MAX_STATUS_LINE {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("cannot read the answer of {url}: {e}"))?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    let line = line.lines().next().unwrap_or_default();
    let code: u16 = line
        .split_whitespace()
        .nth(1)
        .filter(|_| line.starts_with("HTTP/"))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("{url} did not answer with an HTTP status line (got {line:?})"))?;
    if (200..300).contains(&code) {
        Ok(())
    } else {
        Err(format!("{url} answered HTTP {code}"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn parses_urls() {
        assert_eq!(
            parse_url("http://127.0.0.1:8080/healthz").unwrap(),
            ("127.0.0.1".into(), 8080, "/healthz".into())
        );
        assert_eq!(
            parse_url("http://localhost").unwrap(),
            ("localhost".into(), 80, "/".into())
        );
        assert_eq!(
            parse_url("http://[::1]:9/x").unwrap(),
            ("::1".into(), 9, "/x".into())
        );
        assert!(parse_url("https://x").unwrap_err().contains("http://"));
        assert!(parse_url("http://x:port").unwrap_err().contains("bad port"));
    }

    async fn serve_once(answer: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await.unwrap();
            s.write_all(answer.as_bytes()).await.unwrap();
        });
        format!("http://{addr}/healthz")
    }

    #[tokio::test]
    async fn http_probe_accepts_2xx_only() {
        let ok = serve_once("HTTP/1.0 204 No Content\r\n\r\n").await;
        assert_eq!(probe(&Probe::Http(ok)).await, Ok(()));
        let bad = serve_once("HTTP/1.1 503 Unavailable\r\n\r\n").await;
        assert!(probe(&Probe::Http(bad))
            .await
            .unwrap_err()
            .contains("HTTP 503"));
        let junk = serve_once("hello\r\n").await;
        assert!(probe(&Probe::Http(junk))
            .await
            .unwrap_err()
            .contains("status line"));
    }

    #[tokio::test]
    async fn tcp_probe_reports_refused_connections() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert_eq!(probe(&Probe::Tcp(addr)).await, Ok(()));
        drop(listener);
        assert!(probe(&Probe::Tcp(addr))
            .await
            .unwrap_err()
            .contains("cannot connect"));
    }
}
