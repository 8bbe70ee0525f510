//! apid's gRPC proxy: every call is authorised against [`crate::policy`], then passed —
//! without decoding its messages — to machined's unix socket, to one other node, or to
//! several nodes with their replies merged (Talos's `node` / `nodes` / `proxyfrom` rules).
//!
//! - [`service`] is the `tower::Service` the TLS server runs over HTTP/2; it expects a
//!   [`PeerIdentity`] in each request's extensions (none: no roles).
//! - Roles: the `x-basalt-roles` header when the peer is an impersonator (another node's
//!   apid), else the peer certificate's roles. They go on with every call as
//!   `x-basalt-roles`; calls to other nodes also carry `proxyfrom: <hostname>`.
//! - Every call is handled as a bidirectional stream, so unary, server-, client- and
//!   bidi-streaming methods all pass, including ones this proxy has never heard of.
//! - Fan-out replies: see [`fanout`]; the wire helpers in [`wire`].

mod backend;
mod codec;
mod fanout;
pub mod route;
pub mod wire;

use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::StreamExt;
use tonic::codec::Streaming;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::Status;

pub use backend::CONNECT_TIMEOUT;
pub use codec::RawCodec;

use crate::identity::{PeerIdentity, Role};
use crate::policy;
use backend::Backends;
use fanout::ReplyStream;
use route::{Route, Target};

/// Largest message accepted or sent, in either direction (4 MiB).
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Request metadata not passed on: routing and roles (replaced) and content encodings
/// (the proxy re-frames messages uncompressed).
const DROPPED_METADATA: &[&str] = &[
    route::NODE,
    route::NODES,
    route::PROXY_FROM,
    route::ROLES,
    "grpc-encoding",
    "grpc-accept-encoding",
];

/// What the proxy needs to know about this node.
#[derive(Debug, Clone)]
pub struct ProxyState {
    /// machined's local API socket.
    pub machined_socket: PathBuf,
    /// This node's addresses and hostname: targets naming them are served locally.
    pub local_names: Vec<String>,
    /// Node-to-node mutual TLS with the `os:impersonator` client certificate; `None` when
    /// this node cannot forward (maintenance, or no certificate yet).
    pub node_client: Option<rustls::ClientConfig>,
    /// Maintenance mode: only the policy's maintenance calls, no forwarding.
    pub maintenance: bool,
    /// This node's hostname, sent as `proxyfrom` on forwarded calls.
    pub hostname: String,
}

/// The proxy as a service over HTTP requests (`http::Request<hyper::body::Incoming>` from
/// the TLS server, or any body of `Bytes`). Cheap to clone; clones share connections.
#[derive(Debug, Clone)]
pub struct ProxyService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    backends: Arc<Backends>,
    local_names: Vec<String>,
    maintenance: bool,
    hostname: String,
}

/// The proxy service for `state`.
pub fn service(state: ProxyState) -> ProxyService {
    ProxyService {
        inner: Arc::new(Inner {
            backends: Arc::new(Backends::new(state.machined_socket, state.node_client)),
            local_names: state.local_names,
            maintenance: state.maintenance,
            hostname: state.hostname,
        }),
    }
}

/// The boxed future of a service call.
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<B> tower::Service<http::Request<B>> for ProxyService
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let call = Call {
            inner: self.inner.clone(),
            method: request.uri().path().to_string(),
        };
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(RawCodec)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES);
            Ok(grpc.streaming(call, request).await)
        })
    }
}

/// One call being handled (tonic's streaming service shape).
struct Call {
    inner: Arc<Inner>,
    method: String,
}

impl tower::Service<tonic::Request<Streaming<Bytes>>> for Call {
    type Response = tonic::Response<ReplyStream>;
    type Error = Status;
    type Future = BoxFuture<Result<Self::Response, Status>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: tonic::Request<Streaming<Bytes>>) -> Self::Future {
        let (inner, method) = (self.inner.clone(), self.method.clone());
        Box::pin(async move { inner.handle(method, request).await })
    }
}

impl Inner {
    /// Authorises, routes and forwards one call.
    async fn handle(
        self: Arc<Self>,
        method: String,
        request: tonic::Request<Streaming<Bytes>>,
    ) -> Result<tonic::Response<ReplyStream>, Status> {
        let peer = request
            .extensions()
            .get::<PeerIdentity>()
            .cloned()
            .unwrap_or_default();
        let roles = effective_roles(&peer, request.metadata());
        policy::allowed(&method, &roles, self.maintenance).map_err(|d| d.to_status())?;
        let route = route::route(
            request.metadata(),
            &method,
            &self.local_names,
            self.maintenance,
        )?;
        let (incoming, _, body) = request.into_parts();
        let outgoing = |target: &Target| {
            let proxy_from = match target {
                Target::Local => None,
                Target::Remote(_) => Some(self.hostname.as_str()),
            };
            outgoing_metadata(&incoming, &roles, proxy_from)
        };
        // Messages are passed on until the caller's stream ends or fails.
        let messages = body
            .take_while(|m| futures::future::ready(m.is_ok()))
            .filter_map(|m| futures::future::ready(m.ok()));
        match route {
            Route::One(target) => {
                let metadata = outgoing(&target);
                let reply = self
                    .backends
                    .open(&target, &method, metadata, messages)
                    .await?;
                let (metadata, stream, _) = reply.into_parts();
                let stream: ReplyStream = Box::pin(stream);
                Ok(tonic::Response::from_parts(
                    metadata,
                    stream,
                    Default::default(),
                ))
            }
            Route::Many(nodes) => {
                let messages = collect_request(messages).await?;
                let backends = self.backends.clone();
                let stream = if route::STREAMING_METHODS.contains(&method.as_str()) {
                    fanout::streaming(backends, nodes, method, outgoing, messages)
                } else {
                    fanout::unary(backends, nodes, method, outgoing, messages).await
                };
                Ok(tonic::Response::new(stream))
            }
        }
    }
}

/// The roles a call is made with: the `x-basalt-roles` header when the peer is an
/// impersonator (the original caller's roles, stated by another node's apid), else the
/// peer's own roles. The impersonator role itself grants nothing and is not passed on.
pub fn effective_roles(peer: &PeerIdentity, metadata: &MetadataMap) -> Vec<Role> {
    let stated = peer
        .impersonator
        .then(|| metadata.get(route::ROLES))
        .flatten()
        .and_then(|v| v.to_str().ok());
    let mut roles = match stated {
        Some(list) => Role::parse_list(list),
        None => peer.roles.clone(),
    };
    roles.retain(|r| *r != Role::Impersonator);
    roles
}

/// The metadata sent on: the caller's, minus [`DROPPED_METADATA`], plus `x-basalt-roles`
/// and, to other nodes, `proxyfrom`.
fn outgoing_metadata(
    incoming: &MetadataMap,
    roles: &[Role],
    proxy_from: Option<&str>,
) -> MetadataMap {
    let mut out = incoming.clone();
    for key in DROPPED_METADATA {
        out.remove(*key);
    }
    if let Ok(value) = MetadataValue::try_from(Role::join(roles)) {
        out.insert(route::ROLES, value);
    }
    if let Some(value) = proxy_from.and_then(|h| MetadataValue::try_from(h).ok()) {
        out.insert(route::PROXY_FROM, value);
    }
    out
}

/// The whole request stream, for sending it to several nodes (at most
/// [`MAX_MESSAGE_BYTES`] in total).
async fn collect_request(
    messages: impl futures::Stream<Item = Bytes>,
) -> Result<Vec<Bytes>, Status> {
    let mut messages = std::pin::pin!(messages);
    let (mut out, mut total) = (Vec::new(), 0usize);
    while let Some(message) = messages.next().await {
        total += message.len();
        if total > MAX_MESSAGE_BYTES {
            return Err(Status::out_of_range(format!(
                "the request stream is larger than {MAX_MESSAGE_BYTES} bytes, too large to \
                 send to several nodes; address one node per call"
            )));
        }
        out.push(message);
    }
    Ok(out)
}
