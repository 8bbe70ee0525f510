//! TCP connect + rustls handshake to one endpoint, for tonic.
//!
//! In TLS 1.3 the client finishes its handshake before the server has checked the
//! client certificate; a refusal arrives as an alert on the first read. So after the
//! handshake [`connect`] waits for the server's first bytes (an HTTP/2 server sends its
//! SETTINGS frame at once): a refused certificate is then reported here, with the
//! endpoint, instead of as an obscure error of the first call. The bytes read are
//! replayed to HTTP/2 by [`Probed`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tonic::transport::Uri;

use super::endpoint::Endpoint;

/// A connected, handshaken stream whose first server bytes were already read.
pub type ApiStream = Probed<TlsStream<TcpStream>>;

/// What went wrong while connecting, before any explanation is added.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The TCP connection failed (refused, unreachable, name not found...).
    #[error("cannot open a TCP connection: {0}")]
    Tcp(#[source] io::Error),
    /// Nothing answered within the timeout.
    #[error("no TCP connection within {0:?}")]
    TcpTimeout(Duration),
    /// The TLS handshake failed (usually a `rustls::Error` inside).
    #[error("the TLS handshake failed: {0}")]
    Handshake(#[source] io::Error),
    /// The handshake did not finish within the timeout.
    #[error("the TLS handshake did not finish within {0:?}")]
    HandshakeTimeout(Duration),
    /// The first read after the handshake failed (usually a TLS alert: our certificate was refused).
    #[error("the server ended the connection after the TLS handshake: {0}")]
    Refused(#[source] io::Error),
    /// The server closed the connection right after the handshake, without an alert.
    #[error("the server closed the connection right after the TLS handshake")]
    Closed,
    /// The server sent nothing after the handshake within the timeout.
    #[error("the server sent nothing within {0:?} after the TLS handshake")]
    Silent(Duration),
    /// The endpoint's host is not a valid TLS server name.
    #[error("{0}")]
    ServerName(String),
}

/// Connects to `endpoint`: TCP, TLS handshake, then the first read (see the module docs).
/// Each of the three steps may take up to `limit`.
pub async fn connect(
    endpoint: &Endpoint,
    config: Arc<ClientConfig>,
    limit: Duration,
) -> Result<ApiStream, ConnectError> {
    let server_name = endpoint.server_name().map_err(ConnectError::ServerName)?;
    let address = (endpoint.host.as_str(), endpoint.port);
    let tcp = timeout(limit, TcpStream::connect(address))
        .await
        .map_err(|_| ConnectError::TcpTimeout(limit))?
        .map_err(ConnectError::Tcp)?;
    // Best effort: small gRPC messages should not wait for Nagle.
    let _ = tcp.set_nodelay(true);
    let mut tls = timeout(limit, TlsConnector::from(config).connect(server_name, tcp))
        .await
        .map_err(|_| ConnectError::HandshakeTimeout(limit))?
        .map_err(ConnectError::Handshake)?;
    let mut first = vec![0u8; 16 * 1024];
    let n = timeout(limit, tls.read(&mut first))
        .await
        .map_err(|_| ConnectError::Silent(limit))?
        .map_err(ConnectError::Refused)?;
    if n == 0 {
        return Err(ConnectError::Closed);
    }
    first.truncate(n);
    Ok(Probed {
        inner: tls,
        prefix: first,
        offset: 0,
    })
}

/// A stream that first yields bytes read ahead of time, then the inner stream's.
#[derive(Debug)]
pub struct Probed<S> {
    inner: S,
    prefix: Vec<u8>,
    offset: usize,
}

impl<S: AsyncRead + Unpin> AsyncRead for Probed<S> {
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

impl<S: AsyncWrite + Unpin> AsyncWrite for Probed<S> {
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

/// The connector tonic calls for every (re)connection: it hands out the stream
/// [`connect`] already opened once, then dials afresh.
#[derive(Debug, Clone)]
pub struct Connector {
    endpoint: Endpoint,
    config: Arc<ClientConfig>,
    limit: Duration,
    ready: Arc<Mutex<Option<ApiStream>>>,
}

impl Connector {
    /// A connector for `endpoint` whose first connection is `ready`.
    pub fn new(
        endpoint: Endpoint,
        config: Arc<ClientConfig>,
        limit: Duration,
        ready: ApiStream,
    ) -> Self {
        Self {
            endpoint,
            config,
            limit,
            ready: Arc::new(Mutex::new(Some(ready))),
        }
    }
}

impl tower::Service<Uri> for Connector {
    type Response = TokioIo<ApiStream>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let ready = self.ready.lock().ok().and_then(|mut slot| slot.take());
        let (endpoint, config, limit) = (self.endpoint.clone(), self.config.clone(), self.limit);
        Box::pin(async move {
            let stream = match ready {
                Some(stream) => stream,
                None => connect(&endpoint, config, limit).await?,
            };
            Ok(TokioIo::new(stream))
        })
    }
}
