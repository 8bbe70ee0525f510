//! The tonic connector: TCP to the endpoint, then a rustls handshake that checks the
//! server certificate names the endpoint's host (an IP SAN for `https://IP:2379`).
//!
//! In TLS 1.3 the client finishes its handshake before the server has checked the client
//! certificate; a refusal arrives as an alert on the first read. So the connector reads the
//! server's first bytes (etcd's HTTP/2 server sends SETTINGS at once) and reports a refused
//! certificate as such; the bytes read are replayed to HTTP/2 by [`Probed`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tonic::transport::Uri;

/// How long the TCP connect and the TLS handshake may each take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One etcd endpoint, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// As given (`https://10.5.0.2:2379`), used in messages.
    pub url: String,
    /// Host without brackets.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl Target {
    /// Parses `https://HOST:PORT`, `HOST:PORT` or `HOST` (port 2379).
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let rest = url.trim();
        if rest.starts_with("http://") {
            return Err("etcd runs with TLS only: use https://".to_string());
        }
        let rest = rest.strip_prefix("https://").unwrap_or(rest);
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains('/') {
            return Err("expected https://HOST:PORT".to_string());
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, tail) = v6
                .split_once(']')
                .ok_or_else(|| "unterminated [IPv6] address".to_string())?;
            (host.to_string(), tail.strip_prefix(':'))
        } else {
            match rest.rsplit_once(':') {
                Some((host, port)) => (host.to_string(), Some(port)),
                None => (rest.to_string(), None),
            }
        };
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| format!("invalid port {p:?}"))?,
            None => crate::args::CLIENT_PORT,
        };
        if host.is_empty() {
            return Err("the host is empty".to_string());
        }
        Ok(Target {
            url: url.trim().to_string(),
            host,
            port,
        })
    }

    /// `http://host:port` for tonic (our connector adds TLS itself).
    pub(crate) fn tonic_uri(&self) -> String {
        if self.host.contains(':') {
            format!("http://[{}]:{}", self.host, self.port)
        } else {
            format!("http://{}:{}", self.host, self.port)
        }
    }
}

/// Dials a [`Target`] with TLS for every (re)connection tonic asks for.
#[derive(Debug, Clone)]
pub(crate) struct Connector {
    pub target: Target,
    pub config: Arc<ClientConfig>,
}

async fn dial(target: Target, config: Arc<ClientConfig>) -> io::Result<Probed> {
    let name = ServerName::try_from(target.host.clone()).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{:?} is not a valid TLS server name: {e}", target.host),
        )
    })?;
    let tcp = timeout(
        CONNECT_TIMEOUT,
        TcpStream::connect((target.host.as_str(), target.port)),
    )
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no TCP connection within 5 s"))??;
    let _ = tcp.set_nodelay(true);
    let mut tls = timeout(
        CONNECT_TIMEOUT,
        TlsConnector::from(config).connect(name, tcp),
    )
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake took over 5 s"))??;
    let refused = |detail: String| {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "etcd refused this client's certificate ({detail}); the client certificate must \
                 be issued by the cluster's etcd CA (cluster.etcd.ca) with ClientAuth usage"
            ),
        )
    };
    let mut first = vec![0u8; 16 * 1024];
    let n = timeout(CONNECT_TIMEOUT, tls.read(&mut first))
        .await
        .map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                "the server sent nothing within 5 s after the TLS handshake",
            )
        })?
        .map_err(|e| refused(format!("TLS alert after the handshake: {e}")))?;
    if n == 0 {
        return Err(refused(
            "connection closed right after the TLS handshake".to_string(),
        ));
    }
    first.truncate(n);
    Ok(Probed {
        inner: tls,
        prefix: first,
        offset: 0,
    })
}

/// A TLS stream whose first bytes were read ahead; they are yielded first.
#[derive(Debug)]
pub(crate) struct Probed {
    inner: TlsStream<TcpStream>,
    prefix: Vec<u8>,
    offset: usize,
}

impl AsyncRead for Probed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.offset < this.prefix.len() {
            let rest = &this.prefix[this.offset..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.offset += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Probed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl tower::Service<Uri> for Connector {
    type Response = TokioIo<Probed>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let (target, config) = (self.target.clone(), self.config.clone());
        Box::pin(async move { Ok(TokioIo::new(dial(target, config).await?)) })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn endpoints_parse() {
        let t = Target::parse("https://10.5.0.2:2379").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("10.5.0.2", 2379));
        let t = Target::parse("https://[fd00::2]:12379").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("fd00::2", 12379));
        assert_eq!(t.tonic_uri(), "http://[fd00::2]:12379");
        assert_eq!(Target::parse("cp-1").unwrap().port, 2379);
        assert!(Target::parse("http://10.0.0.1:2379").is_err());
        assert!(Target::parse("https://10.0.0.1:x").is_err());
        assert!(Target::parse("").is_err());
    }
}
