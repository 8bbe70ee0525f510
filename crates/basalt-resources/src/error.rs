//! Errors of the store, of watches and of the controller runtime.

use thiserror::Error;

/// An operation on the [`Store`](crate::Store) or the controller runtime failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// No resource with this namespace, type and id exists.
    #[error("resource {ns}/{type_}/{id} not found; list the type to see which ids exist")]
    NotFound {
        /// Namespace that was asked for.
        ns: String,
        /// Type that was asked for.
        type_: String,
        /// Id that was asked for.
        id: String,
    },
    /// A resource with this namespace, type and id already exists.
    #[error("resource {ns}/{type_}/{id} already exists; update it instead of creating it")]
    AlreadyExists {
        /// Namespace of the existing resource.
        ns: String,
        /// Type of the existing resource.
        type_: String,
        /// Id of the existing resource.
        id: String,
    },
    /// An update was based on an outdated version of the resource.
    #[error(
        "version conflict: the update is based on version {expected} but the resource is at \
         version {actual}; read it again and retry"
    )]
    Conflict {
        /// Version the writer based its update on.
        expected: u64,
        /// Version currently stored.
        actual: u64,
    },
    /// The writer does not own the resource.
    #[error(
        "the resource is owned by {} and {} may not change it; only its owner may write it",
        owner_name(.owner),
        owner_name(.writer)
    )]
    OwnerConflict {
        /// Current owner ("" = user).
        owner: String,
        /// Who tried to write ("" = user).
        writer: String,
    },
    /// The resource type has no registered definition.
    #[error("unknown resource type `{0}`; register its definition before writing resources of it")]
    UnknownType(String),
    /// A watch asked to resume from a revision that is no longer in the history.
    #[error(
        "cannot resume the watch after revision {requested}: the oldest revision still in the \
         history is {oldest}; start a new watch with bootstrap instead"
    )]
    HistoryCompacted {
        /// Revision the watch asked to resume after.
        requested: u64,
        /// Oldest revision kept in the history.
        oldest: u64,
    },
    /// A spec could not be converted to or from its typed form.
    #[error("resource spec: {0}")]
    Spec(String),
    /// A watch asked to resume after a revision the store has not reached (e.g. machined
    /// restarted since): resuming would silently skip events.
    #[error(
        "cannot resume the watch after revision {requested}: the store is only at revision \
         {current} (it was probably restarted); start a new watch with bootstrap instead"
    )]
    RevisionInFuture {
        /// Revision the watch asked to resume after.
        requested: u64,
        /// Current store revision.
        current: u64,
    },
    /// A resource or a definition is malformed (empty id, bad type name, alias clash, ...).
    #[error("invalid: {0}")]
    Invalid(String),
    /// A controller wrote a type it did not declare as an output.
    #[error(
        "controller `{controller}` wrote a `{type_}` resource but did not declare that type as \
         an output; add it to outputs()"
    )]
    UndeclaredOutput {
        /// Name of the controller.
        controller: String,
        /// Type it tried to write.
        type_: String,
    },
    /// Two controllers claimed the same output type.
    #[error(
        "controller `{controller}` declares output `{type_}`, which controller `{claimed_by}` \
         already owns; each output type has exactly one controller"
    )]
    OutputClaimed {
        /// The output type.
        type_: String,
        /// The controller being registered.
        controller: String,
        /// The controller already owning the type.
        claimed_by: String,
    },
}

/// A [`Watcher`](crate::Watcher) cannot deliver further events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum WatchError {
    /// The watcher did not keep up and events were dropped from its buffer. Every matching
    /// event up to and including `last_delivered` was delivered: resume with
    /// `since_revision = Some(last_delivered)` to miss nothing.
    #[error(
        "the watcher fell behind after revision {last_delivered} and events were dropped; \
         watch again with since_revision {last_delivered}"
    )]
    FellBehind {
        /// Revision up to which every matching event was delivered.
        last_delivered: u64,
    },
    /// The store is gone.
    #[error("the resource store was closed")]
    Closed,
}

fn owner_name(owner: &str) -> String {
    if owner.is_empty() {
        "the user (owner \"\")".to_string()
    } else {
        format!("controller `{owner}`")
    }
}
