//! COSI Watch over store watchers, following the protocol in `api/cosi/state.proto`:
//!
//! 1. one empty `WatchResponse` first;
//! 2. with `bootstrap_contents` (watching a type): every current resource as CREATED, then one
//!    BOOTSTRAPPED (clients with `api_version` ≥ 1 only; it carries a bookmark when
//!    `bootstrap_bookmark` is set);
//!    watching one `id`: first that resource as CREATED, or DESTROYED with only its metadata
//!    when it does not exist;
//! 3. live CREATED / UPDATED (with `old`) / DESTROYED events, each with a bookmark.
//!
//! A bookmark is the store revision of the event. `start_from_bookmark` resumes right after it
//! with no gap and no duplicate, from the store's bounded history; a bookmark the history no
//! longer covers (or from before a machined restart) is FAILED_PRECONDITION. When the watch
//! falls behind the store, clients with `api_version` ≥ 1 get an ERRORED event whose bookmark
//! resumes without loss, and the stream then ends with ABORTED.
//!
//! Not supported yet (UNIMPLEMENTED): `tail_events`, `id_query`. `aggregated` is accepted and
//! answered with one event per response.

use basalt_api::cosi::resource as pb;
use basalt_resources::{Event, EventKind, WatchError, WatchFilter, WatchOptions, Watcher};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Response, Status};

use super::cosi_convert::{matches_labels, metadata_only, resource_to_proto};
use super::cosi_state::{refuse_id_query, BoxStream, CosiState};
use super::handle::Caller;
use super::status::{shutting_down, IntoStatus};

/// Prefix of our bookmarks (followed by the revision, 8 bytes big-endian).
const BOOKMARK_PREFIX: &[u8] = b"basalt-rev:";

/// Responses buffered per watch before the sender waits for the client.
const WATCH_CHANNEL: usize = 64;

/// The bookmark of store revision `revision`.
pub fn bookmark(revision: u64) -> Vec<u8> {
    let mut b = BOOKMARK_PREFIX.to_vec();
    b.extend_from_slice(&revision.to_be_bytes());
    b
}

/// The store revision of a bookmark made by [`bookmark`].
pub fn decode_bookmark(bytes: &[u8]) -> Result<u64, Status> {
    bytes
        .strip_prefix(BOOKMARK_PREFIX)
        .and_then(|rest| <[u8; 8]>::try_from(rest).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| {
            Status::failed_precondition(
                "start_from_bookmark is not a bookmark this server made; watch again without it \
                 (with bootstrap_contents) to get fresh bookmarks",
            )
        })
}

/// What a running watch needs to turn store events into wire events.
struct Session {
    single: bool,
    api_version: i32,
    bootstrap_bookmark: bool,
    label_query: Vec<pb::LabelQuery>,
    /// Still delivering the bootstrap snapshot (no bookmarks on its events).
    bootstrapping: bool,
    /// Watching one id and its initial event has not been sent yet.
    awaiting_initial: bool,
}

/// Validates the request, starts the store watch and the task that streams it.
pub(super) fn start(
    state: &CosiState,
    caller: &Caller,
    req: pb::WatchRequest,
) -> Result<Response<BoxStream<pb::WatchResponse>>, Status> {
    let (namespace, def) = state.resolve(caller, &req.namespace, &req.r#type)?;
    let options = req.options.unwrap_or_default();
    refuse_id_query(options.id_query.as_ref())?;
    if options.tail_events != 0 {
        return Err(Status::unimplemented(
            "tail_events is not supported yet; use bootstrap_contents for the current state, \
             or start_from_bookmark to resume",
        ));
    }
    let since = options
        .start_from_bookmark
        .as_deref()
        .map(decode_bookmark)
        .transpose()?;
    let single = req.id.is_some();
    let filter = match &req.id {
        Some(id) => WatchFilter::one(namespace, def.type_, id.clone()),
        None => WatchFilter::of(namespace, def.type_),
    };
    let bootstrap = since.is_none() && (options.bootstrap_contents || single);
    let watcher = state
        .handle
        .store
        .watch(
            filter,
            WatchOptions {
                bootstrap,
                since_revision: since,
            },
        )
        .map_err(IntoStatus::into_status)?;
    let session = Session {
        single,
        api_version: req.api_version,
        bootstrap_bookmark: options.bootstrap_bookmark,
        label_query: options.label_query,
        bootstrapping: bootstrap,
        awaiting_initial: bootstrap && single,
    };
    let (tx, rx) = mpsc::channel(WATCH_CHANNEL);
    tokio::spawn(run(session, watcher, tx, state.shutdown.clone()));
    Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
}

type Sender = mpsc::Sender<Result<pb::WatchResponse, Status>>;

async fn run(
    mut session: Session,
    mut watcher: Watcher,
    tx: Sender,
    shutdown: tokio_util::sync::CancellationToken,
) {
    if !send(&tx, Vec::new()).await {
        return;
    }
    loop {
        let next = tokio::select! {
            () = shutdown.cancelled() => {
                let _ = tx.send(Err(shutting_down())).await;
                return;
            }
            () = tx.closed() => return,
            next = watcher.next() => next,
        };
        match next {
            Ok(event) => {
                if let Some(wire) = session.convert(event) {
                    if !send(&tx, vec![wire]).await {
                        return;
                    }
                }
            }
            Err(err) => {
                if let (WatchError::FellBehind { last_delivered }, true) =
                    (err, session.api_version >= 1)
                {
                    let errored = pb::Event {
                        resource: None,
                        old: None,
                        error: Some(err.to_string()),
                        event_type: pb::EventType::Errored as i32,
                        bookmark: Some(bookmark(last_delivered)),
                    };
                    let _ = send(&tx, vec![errored]).await;
                }
                let _ = tx.send(Err(err.into_status())).await;
                return;
            }
        }
    }
}

/// Sends one response; false when the client is gone.
async fn send(tx: &Sender, events: Vec<pb::Event>) -> bool {
    tx.send(Ok(pb::WatchResponse { event: events }))
        .await
        .is_ok()
}

impl Session {
    /// The wire event for a store event, or `None` when the client does not get it.
    fn convert(&mut self, event: Event) -> Option<pb::Event> {
        let wire = |event_type: pb::EventType, resource, bookmark| pb::Event {
            resource,
            old: None,
            error: None,
            event_type: event_type as i32,
            bookmark,
        };
        if event.kind == EventKind::Bootstrapped {
            self.bootstrapping = false;
            if self.single {
                if !std::mem::take(&mut self.awaiting_initial) {
                    return None;
                }
                // The watched resource does not exist.
                let only_meta = Some(metadata_only(&event.resource));
                return Some(wire(
                    pb::EventType::Destroyed,
                    only_meta,
                    Some(bookmark(event.revision)),
                ));
            }
            if self.api_version < 1 {
                return None;
            }
            let mark = self.bootstrap_bookmark.then(|| bookmark(event.revision));
            return Some(wire(pb::EventType::Bootstrapped, None, mark));
        }
        if !self.single && !matches_labels(&event.resource, &self.label_query) {
            return None;
        }
        self.awaiting_initial = false;
        let mark = (!self.bootstrapping || self.single).then(|| bookmark(event.revision));
        let event_type = match event.kind {
            EventKind::Created => pb::EventType::Created,
            EventKind::Updated => pb::EventType::Updated,
            EventKind::Destroyed | EventKind::Bootstrapped => pb::EventType::Destroyed,
        };
        let mut out = wire(event_type, Some(resource_to_proto(&event.resource)), mark);
        out.old = event.old.as_ref().map(resource_to_proto);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bookmarks_round_trip_and_reject_garbage() {
        assert_eq!(decode_bookmark(&bookmark(42)).unwrap(), 42);
        let err = decode_bookmark(b"garbage").unwrap_err();
        assert_eq!(err.code(), tonic::Code::FailedPrecondition);
        let mut short = bookmark(1);
        short.pop();
        assert!(decode_bookmark(&short).is_err());
    }
}
