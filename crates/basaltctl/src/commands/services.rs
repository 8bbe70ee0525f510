//! `basaltctl service [ID [start|stop|restart|status]]` (alias `services`), as talosctl:
//! without an id, a table of every service; with one, its status or an action on it.

use std::time::SystemTime;

use anyhow::bail;
use basalt_api::machine::{
    ServiceInfo, ServiceRestartRequest, ServiceStartRequest, ServiceStopRequest,
};
use clap::{Args, ValueEnum};

use crate::client::replies::{self, split, Split};
use crate::client::{self, status_error, Client};
use crate::global::GlobalArgs;
use crate::output::{self, Table};

/// Arguments of `service`.
#[derive(Debug, Args)]
pub struct ServiceArgs {
    /// The service id; without it, every service is listed
    pub id: Option<String>,

    /// What to do with the service
    #[arg(value_enum, default_value_t = ServiceAction::Status, requires = "id")]
    pub action: ServiceAction,
}

/// What `service ID ACTION` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceAction {
    /// Start the service
    Start,
    /// Stop the service
    Stop,
    /// Restart the service
    Restart,
    /// Show the service's state, health and recent events
    Status,
}

/// Runs `service`.
pub fn run(global: &GlobalArgs, args: &ServiceArgs) -> anyhow::Result<()> {
    client::block_on(async {
        let mut client = Client::connect(global).await?;
        let (text, failed) = match (&args.id, args.action) {
            (None, _) => list(&mut client).await?,
            (Some(id), ServiceAction::Status) => status(&mut client, id).await?,
            (Some(id), action) => act(&mut client, id, action).await?,
        };
        if !text.is_empty() {
            output::print(&text)?;
        }
        replies::finish(&failed)
    })
}

/// Every node's services; failed nodes as `NODE: error: ...` lines.
async fn services(client: &mut Client) -> anyhow::Result<Split<Vec<ServiceInfo>>> {
    let what = "cannot list services";
    let reply = client
        .machine
        .service_list(())
        .await
        .map_err(|s| status_error(what, &s))?
        .into_inner();
    let fallback = client.node_name(None).await;
    let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
    Ok(Split {
        ok: nodes.ok.into_iter().map(|(n, m)| (n, m.services)).collect(),
        failed: nodes.failed,
    })
}

async fn list(client: &mut Client) -> anyhow::Result<(String, Vec<String>)> {
    let nodes = services(client).await?;
    if nodes.ok.is_empty() {
        return Ok((String::new(), nodes.failed));
    }
    Ok((services_table(&nodes.ok, SystemTime::now()), nodes.failed))
}

async fn status(client: &mut Client, id: &str) -> anyhow::Result<(String, Vec<String>)> {
    let mut nodes = services(client).await?;
    let mut text = String::new();
    for (node, services) in &nodes.ok {
        match services.iter().find(|s| s.id == id) {
            Some(service) => text.push_str(&service_status(node, service, SystemTime::now())),
            None => {
                let known: Vec<&str> = services.iter().map(|s| s.id.as_str()).collect();
                let message = format!(
                    "service {id:?} not found on {node}; known services: {}",
                    known.join(", ")
                );
                if nodes.ok.len() == 1 && nodes.failed.is_empty() {
                    bail!("{message}");
                }
                nodes.failed.push(replies::error_line(node, &message));
            }
        }
    }
    Ok((text, nodes.failed))
}

async fn act(
    client: &mut Client,
    id: &str,
    action: ServiceAction,
) -> anyhow::Result<(String, Vec<String>)> {
    let id = id.to_string();
    let fallback = client.node_name(None).await;
    let (what, ok, failed): (String, Vec<(String, String)>, Vec<String>) = match action {
        ServiceAction::Start => {
            let what = format!("cannot start service {id:?}");
            let reply = client
                .machine
                .service_start(ServiceStartRequest { id })
                .await;
            let reply = reply.map_err(|s| status_error(&what, &s))?.into_inner();
            let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
            (
                what,
                nodes.ok.into_iter().map(|(n, m)| (n, m.resp)).collect(),
                nodes.failed,
            )
        }
        ServiceAction::Stop => {
            let what = format!("cannot stop service {id:?}");
            let reply = client.machine.service_stop(ServiceStopRequest { id }).await;
            let reply = reply.map_err(|s| status_error(&what, &s))?.into_inner();
            let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
            (
                what,
                nodes.ok.into_iter().map(|(n, m)| (n, m.resp)).collect(),
                nodes.failed,
            )
        }
        ServiceAction::Restart | ServiceAction::Status => {
            let what = format!("cannot restart service {id:?}");
            let reply = client
                .machine
                .service_restart(ServiceRestartRequest { id })
                .await;
            let reply = reply.map_err(|s| status_error(&what, &s))?.into_inner();
            let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
            (
                what,
                nodes.ok.into_iter().map(|(n, m)| (n, m.resp)).collect(),
                nodes.failed,
            )
        }
    };
    if ok.is_empty() && failed.is_empty() {
        bail!("{what}: the reply held no node's answer");
    }
    let mut table = Table::new(&["node", "response"]);
    for (node, resp) in ok {
        table.push(vec![node, resp]);
    }
    Ok((table.render(), failed))
}

/// talosctl's health word: `OK`, `Fail`, or `?` while unknown.
pub fn health_word(service: &ServiceInfo) -> &'static str {
    match &service.health {
        None => "?",
        Some(h) if h.unknown => "?",
        Some(h) if h.healthy => "OK",
        Some(_) => "Fail",
    }
}

/// The table of `services` on every node: NODE SERVICE STATE HEALTH LAST CHANGE LAST EVENT.
pub fn services_table(nodes: &[(String, Vec<ServiceInfo>)], now: SystemTime) -> String {
    let mut table = Table::new(&[
        "node",
        "service",
        "state",
        "health",
        "last change",
        "last event",
    ]);
    for (node, service) in nodes
        .iter()
        .flat_map(|(n, s)| s.iter().map(move |s| (n, s)))
    {
        let last = service.events.as_ref().and_then(|e| e.events.last());
        table.push(vec![
            node.to_string(),
            service.id.clone(),
            service.state.clone(),
            health_word(service).to_string(),
            last.and_then(|e| e.ts.as_ref())
                .map(|ts| ago(ts, now))
                .unwrap_or_default(),
            last.map(|e| e.msg.clone()).unwrap_or_default(),
        ]);
    }
    table.render()
}

/// The block of `service ID`: node, id, state, health, then events newest first.
pub fn service_status(node: &str, service: &ServiceInfo, now: SystemTime) -> String {
    let mut rows: Vec<(&str, String)> = vec![
        ("NODE", node.to_string()),
        ("ID", service.id.clone()),
        ("STATE", service.state.clone()),
        ("HEALTH", health_word(service).to_string()),
    ];
    if let Some(health) = service.health.as_ref().filter(|h| !h.unknown) {
        if !health.last_message.is_empty() {
            rows.push(("LAST HEALTH MSG", health.last_message.clone()));
        }
        if let Some(ts) = &health.last_change {
            rows.push(("LAST HEALTH CHANGE", ago(ts, now)));
        }
    }
    let events = service.events.as_ref().map(|e| e.events.as_slice());
    for (i, event) in events.unwrap_or_default().iter().rev().enumerate() {
        let label = if i == 0 { "EVENTS" } else { "" };
        let when = event.ts.as_ref().map(|ts| ago(ts, now)).unwrap_or_default();
        rows.push((label, format!("[{}]: {} ({when})", event.state, event.msg)));
    }
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(label, value)| format!("{label:width$}   {value}\n"))
        .collect()
}

/// How long before `now` the timestamp was, as Go prints a duration rounded to
/// seconds (`45s`, `2m3s`, `1h0m5s`), followed by ` ago`.
pub fn ago(ts: &prost_types::Timestamp, now: SystemTime) -> String {
    let then = SystemTime::try_from(*ts).unwrap_or(now);
    let elapsed = now.duration_since(then).unwrap_or_default();
    let secs = (elapsed.as_millis() + 500) / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let text = if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    };
    format!("{text} ago")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use basalt_api::machine::{ServiceEvent, ServiceEvents, ServiceHealth};

    use super::*;

    fn at(now: SystemTime, secs_before: u64) -> Option<prost_types::Timestamp> {
        Some((now - Duration::from_secs(secs_before)).into())
    }

    fn service(id: &str, health: Option<ServiceHealth>, now: SystemTime) -> ServiceInfo {
        ServiceInfo {
            id: id.into(),
            state: "Running".into(),
            events: Some(ServiceEvents {
                events: vec![
                    ServiceEvent {
                        msg: "Starting".into(),
                        state: "Starting".into(),
                        ts: at(now, 3700),
                    },
                    ServiceEvent {
                        msg: "Health check successful".into(),
                        state: "Running".into(),
                        ts: at(now, 65),
                    },
                ],
            }),
            health,
        }
    }

    #[test]
    fn ago_formats_like_go_durations() {
        let now = SystemTime::now();
        assert_eq!(ago(&at(now, 0).unwrap(), now), "0s ago");
        assert_eq!(ago(&at(now, 45).unwrap(), now), "45s ago");
        assert_eq!(ago(&at(now, 123).unwrap(), now), "2m3s ago");
        assert_eq!(ago(&at(now, 3605).unwrap(), now), "1h0m5s ago");
        // A clock skewed into the future reads as zero, not as a panic.
        let future: prost_types::Timestamp = (now + Duration::from_secs(9)).into();
        assert_eq!(ago(&future, now), "0s ago");
    }

    #[test]
    fn table_shows_health_word_and_last_event() {
        let now = SystemTime::now();
        let healthy = ServiceHealth {
            healthy: true,
            ..Default::default()
        };
        let failing = ServiceHealth::default();
        let unknown = ServiceHealth {
            unknown: true,
            ..Default::default()
        };
        let services = [
            service("apid", Some(healthy), now),
            service("etcd", Some(failing), now),
            service("web", Some(unknown), now),
            service("x", None, now),
        ];
        let text = services_table(&[("node1".to_string(), services.to_vec())], now);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "NODE    SERVICE   STATE     HEALTH   LAST CHANGE   LAST EVENT"
        );
        assert_eq!(
            lines[1],
            "node1   apid      Running   OK       1m5s ago      Health check successful"
        );
        assert!(lines[2].contains(" Fail "), "{}", lines[2]);
        assert!(lines[3].contains(" ? "), "{}", lines[3]);
        assert!(lines[4].contains(" ? "), "{}", lines[4]);
    }

    #[test]
    fn status_lists_events_newest_first() {
        let now = SystemTime::now();
        let text = service_status("node1", &service("apid", None, now), now);
        let expected = "NODE     node1\n\
                        ID       apid\n\
                        STATE    Running\n\
                        HEALTH   ?\n\
                        EVENTS   [Running]: Health check successful (1m5s ago)\n\
                        \x20        [Starting]: Starting (1h1m40s ago)\n";
        assert_eq!(text, expected);
    }
}
