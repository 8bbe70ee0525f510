//! The in-memory resource store: one lock over every resource, a global revision, a bounded
//! event history and a broadcast channel for live watches.
//!
//! Rules:
//! - A resource's owner is the writer that created it ("" = the user). Only its owner may
//!   update, tear down or destroy it ([`StoreError::OwnerConflict`] otherwise).
//! - Writes need a registered type ([`StoreError::UnknownType`]); reads of unknown types
//!   simply find nothing.
//! - `version` is 1 on create and +1 on every update or teardown; every change bumps the
//!   store revision by one and produces exactly one event.
//! - `destroy` is allowed in any phase; tearing down first is a convention for owners whose
//!   consumers must see the resource go away gracefully.

mod history;
mod state;

use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use state::State;

use crate::definition::ResourceDefinition;
use crate::error::StoreError;
use crate::resource::Resource;
use crate::watch::{EventKind, WatchFilter, WatchOptions, Watcher};

/// Default number of events kept for resuming watches.
pub const DEFAULT_HISTORY: usize = 16384;
/// Default number of live events a watcher may lag behind before it fails.
pub const DEFAULT_WATCH_BUFFER: usize = 8192;

/// The resource store. Cheap to clone: clones share the same state.
#[derive(Clone)]
pub struct Store {
    state: Arc<RwLock<State>>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("revision", &self.revision())
            .finish_non_exhaustive()
    }
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl Store {
    /// A store with the default history ([`DEFAULT_HISTORY`]) and watch buffer
    /// ([`DEFAULT_WATCH_BUFFER`]).
    pub fn new() -> Self {
        Store::with_limits(DEFAULT_HISTORY, DEFAULT_WATCH_BUFFER)
    }

    /// A store keeping `history` events for resuming watches and buffering `watch_buffer`
    /// live events per watcher (both at least 1).
    pub fn with_limits(history: usize, watch_buffer: usize) -> Self {
        Store {
            state: Arc::new(RwLock::new(State::new(history, watch_buffer))),
        }
    }

    /// Registers a resource type and publishes its definition as a resource (namespace
    /// `meta`, type `ResourceDefinitions.meta.cosi.dev`, id = the type). Registering the
    /// same definition again is a no-op; a different one under the same type, or a name
    /// clashing with another type's names, is refused.
    pub fn register(&self, def: ResourceDefinition) -> Result<(), StoreError> {
        self.write().register(def)
    }

    /// Every registered definition, sorted by type.
    pub fn definitions(&self) -> Vec<ResourceDefinition> {
        self.read().definitions()
    }

    /// The definition named by its full type, its plural (the type's first segment) or an
    /// alias, case-insensitively.
    pub fn resolve(&self, name_or_alias: &str) -> Option<ResourceDefinition> {
        self.read().resolve(name_or_alias)
    }

    /// One resource.
    pub fn get(&self, ns: &str, type_: &str, id: &str) -> Result<Resource, StoreError> {
        self.read().get(ns, type_, id)
    }

    /// Every resource of a type in a namespace, sorted by id.
    pub fn list(&self, ns: &str, type_: &str) -> Vec<Resource> {
        self.read().list(ns, type_)
    }

    /// Creates `r` with `owner` as its owner, version 1, phase running.
    pub fn create(&self, owner: &str, r: Resource) -> Result<Resource, StoreError> {
        self.write().create(owner, r)
    }

    /// Replaces spec and labels; `r.metadata.version` must be the stored version.
    pub fn update(&self, owner: &str, r: Resource) -> Result<Resource, StoreError> {
        self.write().update(owner, r)
    }

    /// Creates or updates `r` whatever its version; sets the phase back to running. If spec,
    /// labels and phase are unchanged, nothing happens (no new version, no event).
    pub fn apply(&self, owner: &str, r: Resource) -> Result<Resource, StoreError> {
        self.write().apply(owner, r)
    }

    /// Moves a resource to phase tearing-down (a no-op if it already is).
    pub fn teardown(
        &self,
        owner: &str,
        ns: &str,
        type_: &str,
        id: &str,
    ) -> Result<Resource, StoreError> {
        self.write().teardown(owner, ns, type_, id)
    }

    /// Removes a resource (in any phase).
    pub fn destroy(&self, owner: &str, ns: &str, type_: &str, id: &str) -> Result<(), StoreError> {
        self.write().destroy(owner, ns, type_, id)
    }

    /// The store revision: the number of events so far.
    pub fn revision(&self) -> u64 {
        self.read().revision()
    }

    /// Starts a watch. With `since_revision`, fails with [`StoreError::HistoryCompacted`]
    /// if events after it are no longer in the history.
    pub fn watch(&self, filter: WatchFilter, opts: WatchOptions) -> Result<Watcher, StoreError> {
        self.read().watch(filter, opts)
    }

    /// Waits until the resource exists and `pred` holds for it; returns that state.
    pub async fn wait_for(
        &self,
        ns: &str,
        type_: &str,
        id: &str,
        pred: impl Fn(&Resource) -> bool + Send,
    ) -> Result<Resource, StoreError> {
        let opts = WatchOptions {
            bootstrap: true,
            since_revision: None,
        };
        loop {
            let mut watcher = self.watch(WatchFilter::one(ns, type_, id), opts.clone())?;
            // On FellBehind or Closed, start over from a fresh snapshot: the predicate is
            // about the current state, so nothing is lost.
            while let Ok(event) = watcher.next().await {
                let present = matches!(event.kind, EventKind::Created | EventKind::Updated);
                if present && pred(&event.resource) {
                    return Ok(event.resource);
                }
            }
            tokio::task::yield_now().await;
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // State is never left half-changed by a panic (no code under the lock panics), so a
        // poisoned lock is still usable.
        self.state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
