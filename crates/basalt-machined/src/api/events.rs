//! `Events`: the machine event bus as `machine.Event`s whose payload is a
//! `google.protobuf.Any` with Talos's type URLs (`talos/runtime/machine.SequenceEvent`, ...).
//!
//! Event ids are the bus ids as 20-digit zero-padded decimals, so they sort in publication
//! order as text too. Replay like Talos: `tail_events` N replays the last N kept events
//! (negative: all kept), `tail_id` replays the kept events after that id; then live events
//! follow. `tail_seconds` is refused (UNIMPLEMENTED) because bus events carry no time yet;
//! `with_actor_id` is ignored: machined does not track actors yet (requests answer with an
//! empty actor id). A subscriber that falls behind gets ABORTED telling it which `tail_id`
//! resumes without loss.

use basalt_api::common;
use basalt_api::machine::{self as m, Event, EventsRequest};
use futures::StreamExt;
use prost_types::Any;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use super::cosi_state::BoxStream;
use super::handle::ApiHandle;
use super::services::health;
use super::status::IntoStatus;
use crate::events::{MachineEvent, PhaseAction, SequenceAction, ServiceState, TaskAction};

/// The event stream a request asks for.
pub fn events(
    handle: &ApiHandle,
    req: &EventsRequest,
    shutdown: CancellationToken,
) -> Result<BoxStream<Event>, Status> {
    if req.tail_seconds != 0 {
        return Err(Status::unimplemented(
            "tail_seconds is not supported yet (events carry no timestamps); use tail_events or \
             tail_id",
        ));
    }
    let bus = &handle.bus;
    let since = if !req.tail_id.is_empty() {
        Some(parse_id(&req.tail_id)?)
    } else if req.tail_events != 0 {
        let n = usize::try_from(req.tail_events).unwrap_or(usize::MAX);
        let first = bus.recent(n).first().map(|(id, _)| *id);
        Some(first.map_or(bus.next_id().saturating_sub(1), |id| id - 1))
    } else {
        None
    };
    let metadata = handle.metadata();
    let stream = bus.subscribe(since).into_stream().map(move |item| {
        let (id, event) = item.map_err(IntoStatus::into_status)?;
        Ok(Event {
            metadata: metadata.clone(),
            data: Some(payload(&event)?),
            id: event_id(id),
            actor_id: String::new(),
        })
    });
    // The first error (a lag or the bus closing) ends the stream.
    let mut failed = false;
    let stream = stream.take_while(move |item| {
        let pass = !failed;
        failed = failed || item.is_err();
        futures::future::ready(pass)
    });
    Ok(Box::pin(stream.take_until(shutdown.cancelled_owned())))
}

/// The wire id of bus event `id`.
pub fn event_id(id: u64) -> String {
    format!("{id:020}")
}

fn parse_id(text: &str) -> Result<u64, Status> {
    text.parse().map_err(|_| {
        Status::invalid_argument(format!(
            "tail_id {text:?} is not an event id of this node (ids are decimal numbers, as in \
             the id field of received events)"
        ))
    })
}

/// The `Any` payload of an event.
pub fn payload(event: &MachineEvent) -> Result<Any, Status> {
    let packed = match event {
        MachineEvent::Sequence {
            sequence,
            action,
            error,
        } => Any::from_msg(&m::SequenceEvent {
            sequence: sequence.clone(),
            action: match action {
                SequenceAction::Start => m::sequence_event::Action::Start,
                SequenceAction::Stop => m::sequence_event::Action::Stop,
            } as i32,
            error: error.as_ref().map(|message| common::Error {
                code: common::Code::Fatal as i32,
                message: message.clone(),
                details: Vec::new(),
            }),
        }),
        MachineEvent::Phase { phase, action, .. } => Any::from_msg(&m::PhaseEvent {
            phase: phase.clone(),
            action: match action {
                PhaseAction::Start => m::phase_event::Action::Start,
                PhaseAction::Stop => m::phase_event::Action::Stop,
            } as i32,
        }),
        MachineEvent::Task { task, action, .. } => Any::from_msg(&m::TaskEvent {
            task: task.clone(),
            action: match action {
                TaskAction::Start => m::task_event::Action::Start,
                TaskAction::Stop => m::task_event::Action::Stop,
            } as i32,
        }),
        MachineEvent::ServiceState {
            service,
            state,
            message,
            health: h,
        } => Any::from_msg(&m::ServiceStateEvent {
            service: service.clone(),
            action: service_action(*state) as i32,
            message: message.clone(),
            health: h.as_ref().map(health),
        }),
        MachineEvent::MachineStatus { stage, ready } => Any::from_msg(&m::MachineStatusEvent {
            stage: machine_stage(stage) as i32,
            status: Some(m::machine_status_event::MachineStatus {
                ready: *ready,
                unmet_conditions: Vec::new(),
            }),
        }),
    };
    packed.map_err(|e| Status::internal(format!("cannot encode an event payload: {e}")))
}

fn service_action(state: ServiceState) -> m::service_state_event::Action {
    use m::service_state_event::Action;
    match state {
        ServiceState::Initialized => Action::Initialized,
        ServiceState::Preparing => Action::Preparing,
        ServiceState::Waiting => Action::Waiting,
        ServiceState::Starting => Action::Starting,
        ServiceState::Running => Action::Running,
        ServiceState::Stopping => Action::Stopping,
        ServiceState::Finished => Action::Finished,
        ServiceState::Failed => Action::Failed,
        ServiceState::Skipped => Action::Skipped,
    }
}

fn machine_stage(stage: &str) -> m::machine_status_event::MachineStage {
    use m::machine_status_event::MachineStage;
    match stage {
        "booting" => MachineStage::Booting,
        "installing" => MachineStage::Installing,
        "maintenance" => MachineStage::Maintenance,
        "running" => MachineStage::Running,
        "rebooting" => MachineStage::Rebooting,
        "shutting down" => MachineStage::ShuttingDown,
        "resetting" => MachineStage::Resetting,
        "upgrading" => MachineStage::Upgrading,
        _ => MachineStage::Unknown,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn payloads_use_talos_type_urls() {
        let any = payload(&MachineEvent::MachineStatus {
            stage: "shutting down".into(),
            ready: false,
        })
        .unwrap();
        assert_eq!(any.type_url, "talos/runtime/machine.MachineStatusEvent");
        let status: m::MachineStatusEvent = any.to_msg().unwrap();
        assert_eq!(
            status.stage,
            m::machine_status_event::MachineStage::ShuttingDown as i32
        );
        assert_eq!(event_id(7), "00000000000000000007");
        assert_eq!(parse_id(&event_id(7)).unwrap(), 7);
        assert!(parse_id("xid").is_err());
    }
}
