//! One call sent to several nodes, replies merged the Talos way: every node's reply is
//! tagged with its name, a node that fails contributes an entry carrying its error, and a
//! node that is down never fails the others.

use std::pin::Pin;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tonic::metadata::MetadataMap;
use tonic::Status;

use super::backend::Backends;
use super::route::Target;
use super::wire;

/// Reply messages streamed back to the caller.
pub type ReplyStream = Pin<Box<dyn Stream<Item = Result<Bytes, Status>> + Send>>;

/// How many streamed messages may wait for a slow caller before nodes are held back.
const STREAM_BUFFER: usize = 64;

/// One node of a fan-out: its name (as the caller wrote it) and where it is.
pub type Node = (String, Target);

/// Sends a unary call (its request `messages`) to every node at once and answers with one
/// reply: the concatenation of every node's tagged reply, or an error entry for it.
pub async fn unary(
    backends: Arc<Backends>,
    nodes: Vec<Node>,
    method: String,
    metadata: impl Fn(&Target) -> MetadataMap,
    messages: Vec<Bytes>,
) -> ReplyStream {
    let calls = nodes.into_iter().map(|(name, target)| {
        let (backends, method, messages) = (backends.clone(), method.clone(), messages.clone());
        let metadata = metadata(&target);
        async move {
            let reply = collect(&backends, &target, &method, metadata, messages).await;
            match reply.and_then(|replies| tag_all(&replies, &name)) {
                Ok(tagged) => tagged,
                Err(status) => wire::error_reply(&name, status.code() as i32, status.message()),
            }
        }
    });
    let mut merged = BytesMut::new();
    for part in futures::future::join_all(calls).await {
        merged.extend_from_slice(&part);
    }
    Box::pin(futures::stream::once(async move { Ok(merged.freeze()) }))
}

/// Sends a streaming call to every node at once and interleaves their messages as they
/// arrive, each tagged; a node that fails adds one message with its error and the stream
/// goes on with the others. The stream ends when every node's stream has ended.
pub fn streaming(
    backends: Arc<Backends>,
    nodes: Vec<Node>,
    method: String,
    metadata: impl Fn(&Target) -> MetadataMap,
    messages: Vec<Bytes>,
) -> ReplyStream {
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    for (name, target) in nodes {
        let (tx, backends, method, messages) = (
            tx.clone(),
            backends.clone(),
            method.clone(),
            messages.clone(),
        );
        let metadata = metadata(&target);
        tokio::spawn(async move {
            let relay = relay(&backends, &target, &name, &method, metadata, messages, &tx);
            let outcome = tokio::select! {
                outcome = relay => outcome,
                () = tx.closed() => return,
            };
            if let Err(status) = outcome {
                let msg =
                    wire::metadata_message(&name, Some((status.code() as i32, status.message())));
                let _ = tx.send(msg.freeze()).await;
            }
        });
    }
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx).map(Ok))
}

/// Streams one node's tagged messages into `tx` until its stream ends or fails.
async fn relay(
    backends: &Backends,
    target: &Target,
    name: &str,
    method: &str,
    metadata: MetadataMap,
    messages: Vec<Bytes>,
    tx: &mpsc::Sender<Bytes>,
) -> Result<(), Status> {
    let mut stream = backends
        .open(target, method, metadata, futures::stream::iter(messages))
        .await?
        .into_inner();
    while let Some(message) = stream.message().await? {
        let tagged = wire::tag_message(message, name).map_err(|e| malformed(name, &e))?;
        if tx.send(tagged).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// Every reply message of one node's call, up to the end of its stream.
async fn collect(
    backends: &Backends,
    target: &Target,
    method: &str,
    metadata: MetadataMap,
    messages: Vec<Bytes>,
) -> Result<Vec<Bytes>, Status> {
    let mut stream = backends
        .open(target, method, metadata, futures::stream::iter(messages))
        .await?
        .into_inner();
    let mut replies = Vec::new();
    while let Some(message) = stream.message().await? {
        replies.push(message);
    }
    Ok(replies)
}

/// The replies of node `name`, each entry tagged.
fn tag_all(replies: &[Bytes], name: &str) -> Result<Bytes, Status> {
    let mut out = BytesMut::new();
    for reply in replies {
        out.extend_from_slice(&wire::tag_reply(reply, name).map_err(|e| malformed(name, &e))?);
    }
    Ok(out.freeze())
}

fn malformed(name: &str, error: &wire::WireError) -> Status {
    Status::internal(format!("node {name} sent a reply apid cannot tag: {error}"))
}
