//! `basaltctl events [--tail N] [--since-id ID]`: machine events (sequences, phases,
//! tasks, service states, machine status) as table rows, until interrupted.

use basalt_api::machine::{
    machine_status_event, phase_event, sequence_event, service_state_event, task_event, Event,
    EventsRequest, MachineStatusEvent, PhaseEvent, SequenceEvent, ServiceStateEvent, TaskEvent,
};
use clap::Args;
use prost::Name;

use crate::client::replies::{self, error_line, node_of};
use crate::client::{self, status_error, Client};
use crate::commands::stream::{emit, Flow, RowPrinter};
use crate::global::GlobalArgs;

/// Arguments of `events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// First show the last N past events (-1: the whole history)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub tail: i32,

    /// First show the past events that follow the event with this id
    #[arg(long, visible_alias = "since", value_name = "ID")]
    pub since_id: Option<String>,
}

/// The prefix of event payload type URLs.
const TYPE_URL_PREFIX: &str = "talos/runtime/";

/// Typical widths of the ID column (20-digit ids) and the EVENT column, so the
/// header printed before any event lines up with the rows.
const EVENT_ID_WIDTH: usize = 20;
const EVENT_KIND_WIDTH: usize = "machine.ServiceStateEvent".len();

/// Runs `events`: prints a header, then one row per event as it arrives.
pub fn run(global: &GlobalArgs, args: &EventsArgs) -> anyhow::Result<()> {
    client::block_on(async {
        let mut client = Client::connect(global).await?;
        let what = "cannot stream machine events";
        let request = EventsRequest {
            tail_events: args.tail,
            tail_id: args.since_id.clone().unwrap_or_default(),
            ..Default::default()
        };
        let mut stream = client
            .machine
            .events(request)
            .await
            .map_err(|s| status_error(what, &s))?
            .into_inner();
        let node = client.node_name(None).await;
        let (mut printer, header) = RowPrinter::new(
            &["node", "id", "event", "actor", "source", "message"],
            &[node.len(), EVENT_ID_WIDTH, EVENT_KIND_WIDTH, 0, 8],
        );
        if emit(header.as_bytes())? == Flow::Stop {
            return Ok(());
        }
        let mut failed = 0;
        while let Some(event) = stream.message().await.map_err(|s| status_error(what, &s))? {
            let node = event
                .metadata
                .as_ref()
                .map(|m| node_of(m, &node))
                .unwrap_or_else(|| node.clone());
            if let Some(m) = event.metadata.as_ref().filter(|m| !m.error.is_empty()) {
                eprintln!("{}", error_line(&node, &format!("{what}: {}", m.error)));
                failed += 1;
                continue;
            }
            if emit(printer.line(&row(&node, &event)).as_bytes())? == Flow::Stop {
                break;
            }
        }
        replies::fail_if_any(failed)
    })
}

/// The cells of one event: NODE ID EVENT ACTOR SOURCE MESSAGE.
pub fn row(node: &str, event: &Event) -> Vec<String> {
    let type_url = event
        .data
        .as_ref()
        .map(|d| d.type_url.as_str())
        .unwrap_or("");
    let kind = type_url.strip_prefix(TYPE_URL_PREFIX).unwrap_or(type_url);
    let (source, message) = describe(event);
    vec![
        node.to_string(),
        event.id.clone(),
        kind.to_string(),
        event.actor_id.clone(),
        source,
        message,
    ]
}

/// The SOURCE and MESSAGE of an event, from its payload.
fn describe(event: &Event) -> (String, String) {
    let Some(data) = &event.data else {
        return (String::new(), "(no payload)".into());
    };
    let name = data.type_url.as_str();
    let undecodable = || (String::new(), format!("(cannot decode payload {name})"));
    if name == SequenceEvent::type_url() {
        let Ok(e) = data.to_msg::<SequenceEvent>() else {
            return undecodable();
        };
        let action = sequence_event::Action::try_from(e.action).map(|a| a.as_str_name());
        let mut message = action.unwrap_or("?").to_string();
        if let Some(error) = e.error.filter(|err| !err.message.is_empty()) {
            message = format!("{message}: {}", error.message);
        }
        (e.sequence, message)
    } else if name == PhaseEvent::type_url() {
        let Ok(e) = data.to_msg::<PhaseEvent>() else {
            return undecodable();
        };
        let action = phase_event::Action::try_from(e.action).map(|a| a.as_str_name());
        (e.phase, action.unwrap_or("?").to_string())
    } else if name == TaskEvent::type_url() {
        let Ok(e) = data.to_msg::<TaskEvent>() else {
            return undecodable();
        };
        let action = task_event::Action::try_from(e.action).map(|a| a.as_str_name());
        (e.task, action.unwrap_or("?").to_string())
    } else if name == ServiceStateEvent::type_url() {
        let Ok(e) = data.to_msg::<ServiceStateEvent>() else {
            return undecodable();
        };
        let action = service_state_event::Action::try_from(e.action).map(|a| a.as_str_name());
        (
            e.service,
            format!("{}: {}", action.unwrap_or("?"), e.message),
        )
    } else if name == MachineStatusEvent::type_url() {
        let Ok(e) = data.to_msg::<MachineStatusEvent>() else {
            return undecodable();
        };
        let stage = machine_status_event::MachineStage::try_from(e.stage).map(|s| s.as_str_name());
        let ready = e.status.is_some_and(|s| s.ready);
        let message = format!("stage: {}, ready: {ready}", stage.unwrap_or("?"));
        ("machine".into(), message)
    } else {
        (String::new(), format!("(unknown payload {name})"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use basalt_api::common;

    use super::*;

    fn event(id: &str, data: prost_types::Any) -> Event {
        Event {
            metadata: None,
            data: Some(data),
            id: id.into(),
            actor_id: "actor-1".into(),
        }
    }

    #[test]
    fn rows_describe_each_payload() {
        let seq = SequenceEvent {
            sequence: "boot".into(),
            action: sequence_event::Action::Stop.into(),
            error: Some(common::Error {
                message: "task x failed".into(),
                ..Default::default()
            }),
        };
        let row1 = row("n1", &event("1", prost_types::Any::from_msg(&seq).unwrap()));
        assert_eq!(
            row1,
            [
                "n1",
                "1",
                "machine.SequenceEvent",
                "actor-1",
                "boot",
                "STOP: task x failed"
            ]
        );

        let svc = ServiceStateEvent {
            service: "web".into(),
            action: service_state_event::Action::Running.into(),
            message: "Health check successful".into(),
            health: None,
        };
        let row2 = row("n1", &event("2", prost_types::Any::from_msg(&svc).unwrap()));
        assert_eq!(row2[2], "machine.ServiceStateEvent");
        assert_eq!(row2[4], "web");
        assert_eq!(row2[5], "RUNNING: Health check successful");

        let status = MachineStatusEvent {
            stage: machine_status_event::MachineStage::Running.into(),
            status: Some(machine_status_event::MachineStatus {
                ready: true,
                unmet_conditions: vec![],
            }),
        };
        let row3 = row(
            "n1",
            &event("3", prost_types::Any::from_msg(&status).unwrap()),
        );
        assert_eq!(row3[5], "stage: RUNNING, ready: true");

        let task = TaskEvent {
            task: "mountVar".into(),
            action: task_event::Action::Start.into(),
        };
        let row4 = row(
            "n1",
            &event("4", prost_types::Any::from_msg(&task).unwrap()),
        );
        assert_eq!((row4[4].as_str(), row4[5].as_str()), ("mountVar", "START"));
    }

    #[test]
    fn unknown_or_broken_payloads_are_shown_not_fatal() {
        let odd = prost_types::Any {
            type_url: "talos/runtime/machine.Other".into(),
            value: vec![1, 2, 3],
        };
        assert_eq!(
            row("n", &event("1", odd))[5],
            "(unknown payload talos/runtime/machine.Other)"
        );
        let broken = prost_types::Any {
            type_url: SequenceEvent::type_url(),
            value: vec![0xff, 0xff],
        };
        assert!(row("n", &event("2", broken))[5].starts_with("(cannot decode payload"));
    }
}
