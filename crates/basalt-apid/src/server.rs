//! The accept loop: TCP → TLS (tokio-rustls) → peer identity → HTTP/2 (hyper)
//! → the gRPC service. A failed handshake is logged with the peer address and
//! the reason and never stops the server. On shutdown the server stops accepting and
//! lets in-flight calls finish (at most [`DRAIN_LIMIT`]): a reply is not lost because
//! machined stopped apid right after the call (e.g. the first config in maintenance mode).

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::console;
use crate::identity::PeerIdentity;
use crate::tls::server::SharedServerConfig;

/// How long a client may take to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long in-flight calls may take to finish after shutdown (below machined's 5 s stop
/// timeout of apid).
pub const DRAIN_LIMIT: Duration = Duration::from_secs(3);

/// Pause after a failed `accept` (e.g. out of file descriptors).
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

type BoxError = Box<dyn StdError + Send + Sync>;

/// The TCP peer of a connection, in every request's extensions (next to its
/// [`PeerIdentity`]), so handlers can name who called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// Binds the TCP listener, with an error that says what to check.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// Errors of the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listen address could not be bound.
    #[error(
        "cannot listen on {addr}: {source}; is another apid running there, or is --listen wrong?"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: io::Error,
    },
}

/// Serves `service` on `listener` with the TLS configuration in `tls` until
/// `shutdown` completes, then drains in-flight calls (see the module docs). Every
/// request carries the connection's [`PeerIdentity`] in its extensions.
pub async fn serve<S, B, F>(
    listener: TcpListener,
    tls: Arc<SharedServerConfig>,
    service: S,
    shutdown: F,
) where
    S: tower::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    F: Future<Output = ()>,
{
    tokio::pin!(shutdown);
    let stop = CancellationToken::new();
    // every connection task holds a sender: `recv` returns `None` once all are gone
    let (alive, mut drained) = mpsc::channel::<()>(1);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, peer)) => {
                let acceptor = TlsAcceptor::from(tls.get());
                let conn = Conn {
                    peer,
                    stop: stop.clone(),
                    _alive: alive.clone(),
                };
                tokio::spawn(handle_connection(tcp, conn, acceptor, service.clone()));
            }
            Err(err) => {
                console::log(format_args!("cannot accept a connection: {err}"));
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
    drop(listener);
    stop.cancel();
    drop(alive);
    if tokio::time::timeout(DRAIN_LIMIT, drained.recv())
        .await
        .is_err()
    {
        console::log(format_args!(
            "shutdown: calls still running after {}s are cut off",
            DRAIN_LIMIT.as_secs()
        ));
    }
}

/// One accepted connection: its peer, the server's stop signal, and the sender that keeps
/// the drain waiting while the connection lives.
struct Conn {
    peer: SocketAddr,
    stop: CancellationToken,
    _alive: mpsc::Sender<()>,
}

/// Handshakes, identifies the peer and serves HTTP/2 on one connection.
async fn handle_connection<S, B>(tcp: TcpStream, conn: Conn, acceptor: TlsAcceptor, service: S)
where
    S: tower::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let peer = conn.peer;
    let _ = tcp.set_nodelay(true);
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        // machined's health probe connects over loopback and closes without a byte
        Ok(Err(err))
            if err.kind() == std::io::ErrorKind::UnexpectedEof && peer.ip().is_loopback() =>
        {
            return;
        }
        Ok(Err(err)) => {
            console::log(format_args!("TLS handshake with {peer} failed: {err}"));
            return;
        }
        Err(_) => {
            console::log(format_args!(
                "TLS handshake with {peer} timed out after {}s",
                HANDSHAKE_TIMEOUT.as_secs()
            ));
            return;
        }
    };
    let leaf = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
    let identity = match leaf {
        None => PeerIdentity::anonymous(),
        Some(der) => match PeerIdentity::from_certificate_der(der) {
            Ok(identity) => identity,
            Err(err) => {
                console::log(format_args!(
                    "cannot read the client certificate of {peer}: {err}; closing the connection"
                ));
                return;
            }
        },
    };
    let service = WithIdentity {
        inner: service,
        identity: Arc::new(identity),
        peer: PeerAddr(peer),
    };
    let http = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(tls), service);
    tokio::pin!(http);
    let served = tokio::select! {
        served = http.as_mut() => served,
        () = conn.stop.cancelled() => {
            // GOAWAY: no new calls on this connection, running ones finish
            http.as_mut().graceful_shutdown();
            http.await
        }
    };
    if let Err(err) = served {
        console::log(format_args!(
            "connection from {peer} ended with an error: {err}"
        ));
    }
}

/// Inserts the connection's identity and peer address into every request, then calls `inner`.
#[derive(Clone)]
struct WithIdentity<S> {
    inner: S,
    identity: Arc<PeerIdentity>,
    peer: PeerAddr,
}

impl<S, B> hyper::service::Service<Request<Incoming>> for WithIdentity<S>
where
    S: tower::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<B>, S::Error>> + Send>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        request
            .extensions_mut()
            .insert(PeerIdentity::clone(&self.identity));
        request.extensions_mut().insert(self.peer);
        let mut inner = self.inner.clone();
        Box::pin(async move {
            futures::future::poll_fn(|cx| inner.poll_ready(cx)).await?;
            inner.call(request).await
        })
    }
}
