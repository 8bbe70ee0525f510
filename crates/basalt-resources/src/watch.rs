//! Watches: filters, options, events and the [`Watcher`] that delivers them.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::broadcast;

use crate::error::WatchError;
use crate::resource::Resource;

/// Which resources a watch sees. An empty `namespace` or `type_` matches any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchFilter {
    /// Namespace, or "" for all namespaces.
    pub namespace: String,
    /// Type, or "" for all types.
    pub type_: String,
    /// One id only, or all ids.
    pub id: Option<String>,
}

/// How a watch starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchOptions {
    /// First deliver the current matching resources as `Created` events, then one
    /// `Bootstrapped` marker, then live events. Ignored when `since_revision` is set.
    pub bootstrap: bool,
    /// Replay every matching event with a revision greater than this one from the history,
    /// then live events: resumes an earlier watch with no gap and no duplicate.
    pub since_revision: Option<u64>,
}

/// What happened to a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// It was created (or, during bootstrap, it exists).
    Created,
    /// It changed (spec, labels or phase).
    Updated,
    /// It was destroyed; the event carries its last state.
    Destroyed,
    /// Bootstrap is complete: every existing resource was delivered. Carries an empty
    /// resource of the watched namespace and type.
    Bootstrapped,
}

/// One change in the store.
#[derive(Clone, Debug)]
pub struct Event {
    /// Store revision of the change (for `Bootstrapped`: the revision of the snapshot).
    pub revision: u64,
    /// What happened.
    pub kind: EventKind,
    /// The resource after the change (for `Destroyed`: its last state).
    pub resource: Resource,
    /// The resource before the change, for `Updated`.
    pub old: Option<Resource>,
}

impl WatchFilter {
    /// All resources of one type in one namespace.
    pub fn of(namespace: impl Into<String>, type_: impl Into<String>) -> Self {
        WatchFilter {
            namespace: namespace.into(),
            type_: type_.into(),
            id: None,
        }
    }

    /// One resource.
    pub fn one(
        namespace: impl Into<String>,
        type_: impl Into<String>,
        id: impl Into<String>,
    ) -> Self {
        WatchFilter {
            namespace: namespace.into(),
            type_: type_.into(),
            id: Some(id.into()),
        }
    }

    /// Whether `resource` passes the filter.
    pub fn matches(&self, resource: &Resource) -> bool {
        let m = &resource.metadata;
        (self.namespace.is_empty() || self.namespace == m.namespace)
            && (self.type_.is_empty() || self.type_ == m.type_)
            && self.id.as_ref().is_none_or(|id| *id == m.id)
    }
}

/// Delivers the events of one watch, in revision order, with no gap: if it cannot keep up
/// it fails with [`WatchError::FellBehind`] (and keeps failing) instead of skipping events.
#[derive(Debug)]
pub struct Watcher {
    filter: WatchFilter,
    /// Bootstrap or replayed events, delivered before live ones.
    pending: VecDeque<Event>,
    live: broadcast::Receiver<Arc<Event>>,
    /// Store revision when the watch was created; live events come after it.
    start: u64,
    last_delivered: u64,
    failed: Option<WatchError>,
}

impl Watcher {
    /// Built by the store while it holds its lock, so `pending` and `live` join seamlessly.
    pub(crate) fn new(
        filter: WatchFilter,
        pending: VecDeque<Event>,
        live: broadcast::Receiver<Arc<Event>>,
        start: u64,
        resumed_from: u64,
    ) -> Self {
        Watcher {
            filter,
            last_delivered: if pending.is_empty() {
                start
            } else {
                resumed_from
            },
            pending,
            live,
            start,
            failed: None,
        }
    }

    /// The next matching event. Waits for one if none is buffered.
    pub async fn next(&mut self) -> Result<Event, WatchError> {
        if let Some(err) = self.failed {
            return Err(err);
        }
        if let Some(event) = self.pending.pop_front() {
            if self.pending.is_empty() {
                self.last_delivered = self.start;
            }
            return Ok(event);
        }
        loop {
            match self.live.recv().await {
                Ok(event) => {
                    self.last_delivered = event.revision;
                    if self.filter.matches(&event.resource) {
                        return Ok(Event::clone(&event));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return Err(self.fail(WatchError::FellBehind {
                        last_delivered: self.last_delivered,
                    }))
                }
                Err(broadcast::error::RecvError::Closed) => {
                    return Err(self.fail(WatchError::Closed))
                }
            }
        }
    }

    /// Revision up to which every matching event has been delivered (a resume point for
    /// `since_revision`).
    pub fn last_delivered(&self) -> u64 {
        self.last_delivered
    }

    /// The filter of this watch.
    pub fn filter(&self) -> &WatchFilter {
        &self.filter
    }

    fn fail(&mut self, err: WatchError) -> WatchError {
        self.failed = Some(err);
        err
    }
}
