//! Connections to where calls go: machined's unix socket and other nodes' apids (mutual
//! TLS with the node-to-node certificate). Channels are cached per target and dropped when
//! a call finds them unreachable, so a node that comes back is reconnected.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tonic::codec::Streaming;
use tonic::metadata::MetadataMap;
use tonic::transport::{Channel, Endpoint, Uri};
use tonic::{Code, Status};

use super::codec::RawCodec;
use super::route::{RemoteAddr, Target};
use super::MAX_MESSAGE_BYTES;

/// How long connecting to another node (TCP + TLS handshake) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens calls to targets, reusing one HTTP/2 channel per target.
#[derive(Debug)]
pub struct Backends {
    socket: PathBuf,
    node_client: Option<Arc<rustls::ClientConfig>>,
    channels: Mutex<HashMap<Target, Channel>>,
}

impl Backends {
    /// Backends reaching machined at `socket` and other nodes with `node_client` (`None`:
    /// this node cannot forward).
    pub fn new(socket: PathBuf, node_client: Option<rustls::ClientConfig>) -> Self {
        let node_client = node_client.map(|mut config| {
            config.alpn_protocols = vec![b"h2".to_vec()];
            Arc::new(config)
        });
        Backends {
            socket,
            node_client,
            channels: Mutex::new(HashMap::new()),
        }
    }

    /// Starts `method` on `target` with request `metadata` and `messages`; returns the
    /// reply stream (and the reply's metadata). Errors name the target.
    pub async fn open<S>(
        &self,
        target: &Target,
        method: &str,
        metadata: MetadataMap,
        messages: S,
    ) -> Result<tonic::Response<Streaming<Bytes>>, Status>
    where
        S: Stream<Item = Bytes> + Send + 'static,
    {
        let path = method.parse().map_err(|_| {
            Status::invalid_argument(format!("'{method}' is not a valid gRPC method path"))
        })?;
        let channel = self.channel(target).await?;
        let mut grpc = tonic::client::Grpc::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let request = tonic::Request::from_parts(metadata, Default::default(), messages);
        let result = match grpc.ready().await {
            Ok(()) => grpc.streaming(request, path, RawCodec).await,
            Err(e) => Err(Status::unavailable(chain(&e))),
        };
        result.map_err(|status| {
            if status.code() == Code::Unavailable {
                self.forget(target);
            }
            if status.code() != Code::Unavailable {
                return status;
            }
            match target {
                Target::Local => Status::unavailable(format!(
                    "machined on this node is not reachable on {}: {}",
                    self.socket.display(),
                    status.message()
                )),
                Target::Remote(addr) => {
                    Status::unavailable(format!("node {}: {}", addr.name, status.message()))
                }
            }
        })
    }

    /// The cached channel of `target`, or a new connection.
    async fn channel(&self, target: &Target) -> Result<Channel, Status> {
        if let Some(channel) = self.lock().get(target) {
            return Ok(channel.clone());
        }
        let channel = match target {
            Target::Local => basalt_api::transport::connect_unix(&self.socket)
                .await
                .map_err(|e| Status::unavailable(format!("machined is not reachable: {e}")))?,
            Target::Remote(addr) => self.connect_remote(addr).await?,
        };
        self.lock().insert(target.clone(), channel.clone());
        Ok(channel)
    }

    /// Connects to another node's apid, within [`CONNECT_TIMEOUT`].
    async fn connect_remote(&self, addr: &RemoteAddr) -> Result<Channel, Status> {
        let Some(config) = self.node_client.clone() else {
            return Err(Status::failed_precondition(format!(
                "cannot forward to {}: this node has no node-to-node client certificate \
                 (workers get one from trustd; control-plane nodes issue it from machine.ca)",
                addr.name
            )));
        };
        let server_name = ServerName::try_from(addr.host.clone()).map_err(|_| {
            Status::invalid_argument(format!(
                "node {}: '{}' is neither an IP address nor a DNS name",
                addr.name, addr.host
            ))
        })?;
        let connector = NodeConnector {
            config,
            server_name,
            host: addr.host.clone(),
            port: addr.port,
        };
        let endpoint = Endpoint::from_shared(format!("http://{}", authority(addr)))
            .map_err(|e| Status::invalid_argument(format!("node {}: {e}", addr.name)))?
            .connect_timeout(CONNECT_TIMEOUT);
        let connect = endpoint.connect_with_connector(connector);
        match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok(channel)) => Ok(channel),
            Ok(Err(e)) => Err(Status::unavailable(format!(
                "node {}: cannot connect to {}:{}: {}; check that the node is up, that its apid \
                 listens there and that both nodes trust the same OS CA",
                addr.name,
                addr.host,
                addr.port,
                chain(&e)
            ))),
            Err(_) => Err(Status::unavailable(format!(
                "node {}: no connection to {}:{} within {} s; check that the node is up and reachable",
                addr.name,
                addr.host,
                addr.port,
                CONNECT_TIMEOUT.as_secs()
            ))),
        }
    }

    /// Drops the cached channel of `target`.
    fn forget(&self, target: &Target) {
        self.lock().remove(target);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Target, Channel>> {
        self.channels.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `host:port` with brackets around IPv6 addresses.
fn authority(addr: &RemoteAddr) -> String {
    if addr.host.contains(':') {
        format!("[{}]:{}", addr.host, addr.port)
    } else {
        format!("{}:{}", addr.host, addr.port)
    }
}

/// An error and its sources, joined with ": " (tonic's own message is just "transport error").
fn chain(error: &dyn StdError) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// TCP + TLS to one node, for tonic's endpoint.
#[derive(Clone)]
struct NodeConnector {
    config: Arc<rustls::ClientConfig>,
    server_name: ServerName<'static>,
    host: String,
    port: u16,
}

impl tower::Service<Uri> for NodeConnector {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let connect = async {
                let tcp = TcpStream::connect((this.host.as_str(), this.port)).await?;
                tcp.set_nodelay(true)?;
                let tls = TlsConnector::from(this.config)
                    .connect(this.server_name, tcp)
                    .await
                    .map_err(|e| io::Error::new(e.kind(), format!("TLS handshake failed: {e}")))?;
                Ok(TokioIo::new(tls))
            };
            tokio::time::timeout(CONNECT_TIMEOUT, connect)
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))?
        })
    }
}

impl std::fmt::Debug for NodeConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeConnector")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}
