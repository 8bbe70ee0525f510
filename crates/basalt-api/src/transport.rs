//! gRPC over a unix socket: how machined serves its local API and how clients
//! (`basaltctl --socket`) reach it.

use std::fs::{self, DirBuilder, Permissions};
use std::future::Future;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use hyper_util::rt::TokioIo;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::oneshot;
use tonic::transport::server::Router;
use tonic::transport::{Channel, Endpoint, Uri};

/// How long [`serve_unix`] waits, after shutdown was requested, for open
/// connections (e.g. a client following logs) to finish before it returns anyway.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Pause after a failed `accept` (e.g. out of file descriptors), so the accept
/// loop does not spin while the condition lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The URI given to tonic; only its authority ends up in requests, the socket
/// path decides where they go.
const PLACEHOLDER_URI: &str = "http://machined.local";

/// Errors of the unix-socket transport. Each names the socket path.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The socket's parent directory could not be created.
    #[error("cannot create the directory of socket {path}: {source}; check that the path is right and writable")]
    CreateDir {
        /// The socket path.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Something other than a socket exists at the path.
    #[error("{path} exists and is not a socket; remove it or choose another socket path")]
    NotASocket {
        /// The socket path.
        path: PathBuf,
    },
    /// Another server is listening on the socket.
    #[error(
        "another server is already listening on {path}; stop it or choose another socket path"
    )]
    InUse {
        /// The socket path.
        path: PathBuf,
    },
    /// The path could not be inspected, a stale socket could not be removed,
    /// or the new socket could not be bound or restricted to mode 0600.
    #[error("cannot {action} socket {path}: {source}; check the path and its permissions")]
    Setup {
        /// What failed, e.g. "bind".
        action: &'static str,
        /// The socket path.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The gRPC server failed while serving.
    #[error("the gRPC server on socket {path} failed: {source}")]
    Serve {
        /// The socket path.
        path: PathBuf,
        /// The underlying error.
        source: tonic::transport::Error,
    },
    /// Connecting failed because the socket does not exist.
    #[error(
        "socket {path} does not exist: is machined running, and is this the right socket path?"
    )]
    Missing {
        /// The socket path.
        path: PathBuf,
    },
    /// Connecting failed because nobody listens on the socket.
    #[error("socket {path} refused the connection: nothing listens there (machined stopped, or has not started its API yet)")]
    Refused {
        /// The socket path.
        path: PathBuf,
    },
    /// Connecting failed because the caller may not use the socket.
    #[error("permission denied on socket {path}: run as root (the socket is mode 0600)")]
    PermissionDenied {
        /// The socket path.
        path: PathBuf,
    },
    /// Connecting failed for another reason.
    #[error("cannot connect to socket {path}: {source}")]
    Connect {
        /// The socket path.
        path: PathBuf,
        /// The underlying error.
        source: tonic::transport::Error,
    },
}

/// Serves `router` on the unix socket at `path` until `shutdown` completes, then
/// waits up to [`DEFAULT_SHUTDOWN_GRACE`] for open connections to finish.
/// See [`serve_unix_with_grace`].
pub async fn serve_unix<F>(path: &Path, router: Router, shutdown: F) -> Result<(), TransportError>
where
    F: Future<Output = ()>,
{
    serve_unix_with_grace(path, router, shutdown, DEFAULT_SHUTDOWN_GRACE).await
}

/// Serves `router` (a `tonic::transport::Server::builder().add_service(..)` chain)
/// on the unix socket at `path` until `shutdown` completes.
///
/// Before binding, missing parent directories are created with mode 0700 (existing
/// ones are left as they are) and a stale socket file left by a previous run is
/// removed; a live server on the path or a non-socket file is an error. The socket
/// gets mode 0600. After `shutdown`, no new connection is accepted and open ones
/// are asked to finish; streams that never end (followed logs, watches) should
/// end on the same shutdown signal. Whatever is still open after `grace` is
/// abandoned and the function returns. The socket file is removed on return.
pub async fn serve_unix_with_grace<F>(
    path: &Path,
    router: Router,
    shutdown: F,
    grace: Duration,
) -> Result<(), TransportError>
where
    F: Future<Output = ()>,
{
    let listener = bind_unix(path).await?;
    let (fired_tx, fired_rx) = oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        let _ = fired_tx.send(());
    };
    let serve = router.serve_with_incoming_shutdown(accept_stream(listener), signal);
    let result = tokio::select! {
        served = serve => served.map_err(|source| TransportError::Serve { path: path.to_path_buf(), source }),
        () = grace_expired(fired_rx, grace) => Ok(()),
    };
    // Best effort: a leftover file is removed by the next bind anyway.
    let _ = fs::remove_file(path);
    result
}

/// Opens a gRPC channel to the unix socket at `path`.
///
/// The first connection is made now, so a missing socket or a socket nobody
/// listens on is reported here ([`TransportError::Missing`],
/// [`TransportError::Refused`]). The channel reconnects on its own later, e.g.
/// after machined restarted.
pub async fn connect_unix(path: &Path) -> Result<Channel, TransportError> {
    let connector = UnixConnector {
        path: Arc::new(path.to_path_buf()),
    };
    Endpoint::from_static(PLACEHOLDER_URI)
        .connect_with_connector(connector)
        .await
        .map_err(|source| classify_connect_error(path, source))
}

/// Resolves `grace` after the shutdown signal fired; never resolves otherwise.
async fn grace_expired(fired: oneshot::Receiver<()>, grace: Duration) {
    if fired.await.is_err() {
        // The signal future was dropped unfired: the server already returned.
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(grace).await;
}

/// Prepares the path (parent directory, stale socket) and binds the socket, mode 0600.
async fn bind_unix(path: &Path) -> Result<UnixListener, TransportError> {
    let setup_error = |action: &'static str| {
        move |source: io::Error| TransportError::Setup {
            action,
            path: path.to_path_buf(),
            source,
        }
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|source| TransportError::CreateDir {
                path: path.to_path_buf(),
                source,
            })?;
    }
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            if UnixStream::connect(path).await.is_ok() {
                return Err(TransportError::InUse {
                    path: path.to_path_buf(),
                });
            }
            fs::remove_file(path).map_err(setup_error("remove the stale"))?;
        }
        Ok(_) => {
            return Err(TransportError::NotASocket {
                path: path.to_path_buf(),
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(setup_error("inspect the path of the")(e)),
    }
    let listener = UnixListener::bind(path).map_err(setup_error("bind"))?;
    fs::set_permissions(path, Permissions::from_mode(0o600))
        .map_err(setup_error("set mode 0600 on"))?;
    Ok(listener)
}

/// The stream of accepted connections tonic serves. Accept errors are passed on
/// (tonic skips them) after a short pause.
fn accept_stream(listener: UnixListener) -> impl Stream<Item = io::Result<UnixStream>> {
    futures::stream::unfold(listener, |listener| async move {
        let accepted = listener.accept().await.map(|(stream, _addr)| stream);
        if accepted.is_err() {
            tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
        }
        Some((accepted, listener))
    })
}

/// Maps a failed first connection to a specific error by the `io::Error` inside it.
fn classify_connect_error(path: &Path, source: tonic::transport::Error) -> TransportError {
    let path = path.to_path_buf();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&source);
    while let Some(err) = cause {
        if let Some(io_err) = err.downcast_ref::<io::Error>() {
            match io_err.kind() {
                io::ErrorKind::NotFound => return TransportError::Missing { path },
                io::ErrorKind::ConnectionRefused => return TransportError::Refused { path },
                io::ErrorKind::PermissionDenied => {
                    return TransportError::PermissionDenied { path }
                }
                _ => break,
            }
        }
        cause = err.source();
    }
    TransportError::Connect { path, source }
}

/// A tower connector that dials the unix socket for every (re)connection.
#[derive(Clone, Debug)]
struct UnixConnector {
    path: Arc<PathBuf>,
}

impl tower::Service<Uri> for UnixConnector {
    type Response = TokioIo<UnixStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let path = Arc::clone(&self.path);
        Box::pin(async move { UnixStream::connect(path.as_path()).await.map(TokioIo::new) })
    }
}
