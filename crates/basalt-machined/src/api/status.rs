//! The ONE place where our typed errors become gRPC statuses.
//!
//! | error | code | why |
//! |---|---|---|
//! | resource or service not found, unknown resource type | `NOT_FOUND` | as COSI and Talos |
//! | malformed request (bad option, bookmark bytes, tail id) | `INVALID_ARGUMENT` | the client must change the request |
//! | watch cannot resume (history compacted, store restarted) | `FAILED_PRECONDITION` | as COSI for invalid bookmarks: watch again with bootstrap |
//! | watcher or event subscriber fell behind | `ABORTED` | retry at a higher level: re-watch from the last bookmark / id |
//! | another sequence holds the lock (Locked) | `ABORTED` | retrying later succeeds once that sequence ended; nothing to fix |
//! | sensitive resource without the admin role | `PERMISSION_DENIED` | |
//! | store/bus closed, kernel log unreadable, machine stopping | `UNAVAILABLE` | |
//! | a request we do not support yet (option, driver) | `UNIMPLEMENTED` | |
//! | invalid machine config in ApplyConfiguration | `INVALID_ARGUMENT` | every finding in the message |
//! | apply mode not possible (needs a reboot, not in maintenance) | `FAILED_PRECONDITION` | |
//! | new config persisted but reboot refused | `ABORTED` | |
//! | a caller without the role an RPC needs (admin-only RPCs) | `PERMISSION_DENIED` | |
//! | request larger than 4 MiB | `OUT_OF_RANGE` | set by tonic before our code runs |
//! | everything else | `INTERNAL` | |

use basalt_resources::{StoreError, WatchError};
use tonic::{Code, Status};

use crate::events::EventBusError;
use crate::machine::config_apply::ApplyError;
use crate::sequencer::SequencerError;
use crate::supervisor::SupervisorError;

/// Converts an error of one of machined's parts into a gRPC status whose message is the
/// error's own (it already says what failed and what to do).
pub trait IntoStatus {
    /// The status for this error.
    fn into_status(self) -> Status;
}

impl IntoStatus for StoreError {
    fn into_status(self) -> Status {
        let code = match &self {
            StoreError::NotFound { .. } | StoreError::UnknownType(_) => Code::NotFound,
            StoreError::HistoryCompacted { .. } | StoreError::RevisionInFuture { .. } => {
                Code::FailedPrecondition
            }
            StoreError::AlreadyExists { .. } => Code::AlreadyExists,
            StoreError::Conflict { .. } | StoreError::OwnerConflict { .. } => {
                Code::FailedPrecondition
            }
            StoreError::Invalid(_) => Code::InvalidArgument,
            StoreError::Spec(_)
            | StoreError::UndeclaredOutput { .. }
            | StoreError::OutputClaimed { .. } => Code::Internal,
        };
        Status::new(code, self.to_string())
    }
}

impl IntoStatus for WatchError {
    fn into_status(self) -> Status {
        match self {
            WatchError::FellBehind { last_delivered } => Status::aborted(format!(
                "the watch fell behind and events were dropped after store revision \
                 {last_delivered}; watch again with start_from_bookmark set to the bookmark of \
                 the ERRORED event (or the last bookmark you saw)"
            )),
            WatchError::Closed => Status::unavailable(
                "the resource store was closed: machined is stopping; reconnect once it is back",
            ),
        }
    }
}

impl IntoStatus for SupervisorError {
    fn into_status(self) -> Status {
        let code = match &self {
            SupervisorError::NotFound { .. } => Code::NotFound,
            SupervisorError::InvalidId(_) => Code::InvalidArgument,
            SupervisorError::Busy(_) | SupervisorError::DependencyCycle(_) => {
                Code::FailedPrecondition
            }
        };
        Status::new(code, self.to_string())
    }
}

impl IntoStatus for SequencerError {
    fn into_status(self) -> Status {
        let code = match &self {
            SequencerError::Locked { .. } | SequencerError::Cancelled { .. } => Code::Aborted,
            SequencerError::NotDefined(_) => Code::Unimplemented,
            SequencerError::TaskFailed { .. } | SequencerError::Aborted(_) => Code::Internal,
        };
        Status::new(code, self.to_string())
    }
}

impl IntoStatus for EventBusError {
    fn into_status(self) -> Status {
        match self {
            EventBusError::Lagged {
                missed,
                last_delivered,
            } => Status::aborted(format!(
                "the event stream fell behind and {missed} event(s) after id \
                 {last_delivered:020} were dropped; request events again with tail_id \
                 {last_delivered:020}"
            )),
            EventBusError::Closed => Status::unavailable(
                "the event bus was closed: machined is stopping; reconnect once it is back",
            ),
        }
    }
}

impl IntoStatus for ApplyError {
    fn into_status(self) -> Status {
        let code = match &self {
            ApplyError::Invalid(_) => Code::InvalidArgument,
            ApplyError::NeedsReboot { .. } | ApplyError::NotInMaintenance(_) => {
                Code::FailedPrecondition
            }
            ApplyError::Reboot(_) => Code::Aborted,
            ApplyError::Persist(_) | ApplyError::Store(_) => Code::Internal,
        };
        Status::new(code, self.to_string())
    }
}

/// The status for a streaming RPC cut short because the server is shutting down.
pub fn shutting_down() -> Status {
    Status::unavailable("machined is shutting down its API; reconnect once it is back")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_table() {
        let nf = StoreError::NotFound {
            ns: "runtime".into(),
            type_: "Services.v1alpha1.basalt.dev".into(),
            id: "x".into(),
        };
        assert_eq!(nf.into_status().code(), Code::NotFound);
        let compacted = StoreError::HistoryCompacted {
            requested: 1,
            oldest: 5,
        };
        assert_eq!(compacted.into_status().code(), Code::FailedPrecondition);
        let locked = SequencerError::Locked {
            running: "boot",
            requested: "reboot",
        };
        let status = locked.into_status();
        assert_eq!(status.code(), Code::Aborted);
        assert!(status.message().contains("locked"), "{}", status.message());
        let unknown = SupervisorError::NotFound {
            id: "nope".into(),
            known: vec!["a".into(), "b".into()],
        };
        let status = unknown.into_status();
        assert_eq!(status.code(), Code::NotFound);
        assert!(status.message().contains("a, b"), "{}", status.message());
    }
}
