//! `basaltctl etcd members|status|leave|remove-member ID|forfeit-leadership|snapshot PATH|
//! defrag|alarm list|alarm disarm`, as talosctl: read commands print tables with talosctl's
//! columns (or `-o yaml|json`); actions print one line per node.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use basalt_api::machine::{self as m, etcd_member_alarm::AlarmType};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::client::replies::{self, split};
use crate::client::{self, status_error, Client};
use crate::global::GlobalArgs;
use crate::output::{self, OutputFormat, Render, Table};

/// `etcd` subcommands.
#[derive(Debug, Subcommand)]
pub enum EtcdCommand {
    /// List the etcd cluster's members
    Members(ReadArgs),
    /// Show the local etcd member's status on each node
    Status(ReadArgs),
    /// Make the node leave the etcd cluster (its etcd stops and its data is wiped)
    Leave,
    /// Remove a member (one without a running node) by its hex ID (see `etcd members`)
    RemoveMember(RemoveArgs),
    /// Move etcd leadership away from the node
    ForfeitLeadership,
    /// Stream a snapshot of the node's etcd data into PATH
    Snapshot(SnapshotArgs),
    /// Defragment the node's etcd data (resource-heavy: one node at a time)
    Defrag,
    /// List or disarm etcd alarms
    #[command(subcommand)]
    Alarm(AlarmCommand),
}

/// `etcd alarm` subcommands.
#[derive(Debug, Subcommand)]
pub enum AlarmCommand {
    /// List the etcd alarms
    List(ReadArgs),
    /// Disarm the etcd alarms
    Disarm,
}

/// Arguments of read commands.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Output format
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// Arguments of `etcd remove-member`.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The member ID, hexadecimal as `etcd members` shows it
    pub id: String,
}

/// Arguments of `etcd snapshot`.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Where to write the snapshot
    pub path: PathBuf,
}

/// Runs an `etcd` subcommand.
pub fn run(global: &GlobalArgs, command: &EtcdCommand) -> anyhow::Result<()> {
    client::block_on(async {
        let mut client = Client::connect(global).await?;
        let (text, failed) = match command {
            EtcdCommand::Members(a) => members(&mut client, a.output).await?,
            EtcdCommand::Status(a) => status(&mut client, a.output).await?,
            EtcdCommand::Alarm(AlarmCommand::List(a)) => alarms(&mut client, a.output).await?,
            EtcdCommand::Alarm(AlarmCommand::Disarm) => disarm(&mut client).await?,
            EtcdCommand::Leave => leave(&mut client).await?,
            EtcdCommand::RemoveMember(a) => remove(&mut client, &a.id).await?,
            EtcdCommand::ForfeitLeadership => forfeit(&mut client).await?,
            EtcdCommand::Defrag => defrag(&mut client).await?,
            EtcdCommand::Snapshot(a) => snapshot(&mut client, &a.path).await?,
        };
        if !text.is_empty() {
            output::print(&text)?;
        }
        replies::finish(&failed)
    })
}

/// One member as printed (hex ID, as talosctl).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberRow {
    /// The node that answered.
    pub node: String,
    /// Member ID, hex.
    pub id: String,
    /// Member name.
    pub hostname: String,
    /// Peer URLs.
    pub peer_urls: Vec<String>,
    /// Client URLs.
    pub client_urls: Vec<String>,
    /// Learner flag.
    pub learner: bool,
}

/// Every node's member list.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Members(pub Vec<MemberRow>);

impl Members {
    /// The rows of every node's reply.
    pub fn from_nodes(nodes: &[(String, m::EtcdMembers)]) -> Self {
        Members(
            nodes
                .iter()
                .flat_map(|(node, list)| {
                    list.members.iter().map(move |member| MemberRow {
                        node: node.clone(),
                        id: format!("{:x}", member.id),
                        hostname: member.hostname.clone(),
                        peer_urls: member.peer_urls.clone(),
                        client_urls: member.client_urls.clone(),
                        learner: member.is_learner,
                    })
                })
                .collect(),
        )
    }
}

impl Render for Members {
    fn human(&self) -> String {
        let mut table = Table::new(&[
            "node",
            "id",
            "hostname",
            "peer urls",
            "client urls",
            "learner",
        ]);
        for r in &self.0 {
            table.push(vec![
                r.node.clone(),
                r.id.clone(),
                r.hostname.clone(),
                r.peer_urls.join(","),
                r.client_urls.join(","),
                r.learner.to_string(),
            ]);
        }
        table.render()
    }
}

/// One node's member status as printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusRow {
    /// The node that answered.
    pub node: String,
    /// Member ID, hex.
    pub member: String,
    /// Database size, bytes.
    pub db_size: i64,
    /// Database size in use, bytes.
    pub db_size_in_use: i64,
    /// Leader ID, hex.
    pub leader: String,
    /// Raft index.
    pub raft_index: u64,
    /// Raft term.
    pub raft_term: u64,
    /// Raft applied index.
    pub raft_applied_index: u64,
    /// Learner flag.
    pub learner: bool,
    /// Errors the member reports.
    pub errors: Vec<String>,
}

/// Every node's status.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Statuses(pub Vec<StatusRow>);

impl Statuses {
    /// The rows of every node's reply.
    pub fn from_nodes(nodes: &[(String, m::EtcdStatus)]) -> Self {
        Statuses(
            nodes
                .iter()
                .filter_map(|(node, s)| {
                    let st = s.member_status.as_ref()?;
                    Some(StatusRow {
                        node: node.clone(),
                        member: format!("{:x}", st.member_id),
                        db_size: st.db_size,
                        db_size_in_use: st.db_size_in_use,
                        leader: format!("{:x}", st.leader),
                        raft_index: st.raft_index,
                        raft_term: st.raft_term,
                        raft_applied_index: st.raft_applied_index,
                        learner: st.is_learner,
                        errors: st.errors.clone(),
                    })
                })
                .collect(),
        )
    }
}

/// Bytes as talosctl shows them (`humanize.Bytes`: SI units, e.g. `20 kB`, `1.2 MB`).
pub fn human_bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    if n < 1000.0 {
        return format!("{n} B");
    }
    let units = ["kB", "MB", "GB", "TB", "PB"];
    let mut value = n / 1000.0;
    let mut unit = units[0];
    for u in units.iter().skip(1) {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    if value < 10.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.0} {unit}")
    }
}

impl Render for Statuses {
    fn human(&self) -> String {
        let mut table = Table::new(&[
            "node",
            "member",
            "db size",
            "in use",
            "leader",
            "raft index",
            "raft term",
            "raft applied index",
            "learner",
            "errors",
        ]);
        for r in &self.0 {
            let pct = if r.db_size > 0 {
                r.db_size_in_use as f64 * 100.0 / r.db_size as f64
            } else {
                0.0
            };
            table.push(vec![
                r.node.clone(),
                r.member.clone(),
                human_bytes(r.db_size),
                format!("{} ({pct:.2}%)", human_bytes(r.db_size_in_use)),
                r.leader.clone(),
                r.raft_index.to_string(),
                r.raft_term.to_string(),
                r.raft_applied_index.to_string(),
                r.learner.to_string(),
                r.errors.join(", "),
            ]);
        }
        table.render()
    }
}

/// One alarm as printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlarmRow {
    /// The node that answered.
    pub node: String,
    /// Member ID, hex.
    pub member: String,
    /// Alarm name (`NOSPACE`, `CORRUPT`).
    pub alarm: String,
}

/// Every node's alarms.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Alarms(pub Vec<AlarmRow>);

impl Alarms {
    /// The rows of every node's alarms.
    pub fn from_nodes(nodes: &[(String, Vec<m::EtcdMemberAlarm>)]) -> Self {
        Alarms(
            nodes
                .iter()
                .flat_map(|(node, alarms)| {
                    alarms.iter().map(move |a| AlarmRow {
                        node: node.clone(),
                        member: format!("{:x}", a.member_id),
                        alarm: AlarmType::try_from(a.alarm)
                            .map(|t| t.as_str_name().to_string())
                            .unwrap_or_else(|_| a.alarm.to_string()),
                    })
                })
                .collect(),
        )
    }
}

impl Render for Alarms {
    fn human(&self) -> String {
        let mut table = Table::new(&["node", "member", "alarm"]);
        for r in &self.0 {
            table.push(vec![r.node.clone(), r.member.clone(), r.alarm.clone()]);
        }
        table.render()
    }
}

type Outcome = (String, Vec<String>);

async fn members(client: &mut Client, format: OutputFormat) -> anyhow::Result<Outcome> {
    let reply = client
        .machine
        .etcd_member_list(m::EtcdMemberListRequest { query_local: false })
        .await
        .map_err(|s| status_error("cannot list etcd members", &s))?
        .into_inner();
    let fallback = client.node_name(None).await;
    let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
    let text = output::render(format, &Members::from_nodes(&nodes.ok))?;
    Ok((text, nodes.failed))
}

async fn status(client: &mut Client, format: OutputFormat) -> anyhow::Result<Outcome> {
    let reply = client
        .machine
        .etcd_status(())
        .await
        .map_err(|s| status_error("cannot get the etcd status", &s))?
        .into_inner();
    let fallback = client.node_name(None).await;
    let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
    let text = output::render(format, &Statuses::from_nodes(&nodes.ok))?;
    Ok((text, nodes.failed))
}

async fn alarms(client: &mut Client, format: OutputFormat) -> anyhow::Result<Outcome> {
    let reply = client
        .machine
        .etcd_alarm_list(())
        .await
        .map_err(|s| status_error("cannot list etcd alarms", &s))?
        .into_inner();
    let fallback = client.node_name(None).await;
    let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
    let rows: Vec<(String, Vec<m::EtcdMemberAlarm>)> = nodes
        .ok
        .into_iter()
        .map(|(n, a)| (n, a.member_alarms))
        .collect();
    let text = output::render(format, &Alarms::from_nodes(&rows))?;
    Ok((text, nodes.failed))
}

async fn disarm(client: &mut Client) -> anyhow::Result<Outcome> {
    let reply = client
        .machine
        .etcd_alarm_disarm(())
        .await
        .map_err(|s| status_error("cannot disarm etcd alarms", &s))?
        .into_inner();
    let fallback = client.node_name(None).await;
    let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
    let rows: Vec<(String, Vec<m::EtcdMemberAlarm>)> = nodes
        .ok
        .into_iter()
        .map(|(n, a)| (n, a.member_alarms))
        .collect();
    Ok((Alarms::from_nodes(&rows).human(), nodes.failed))
}

/// `NODE: MESSAGE` lines for an action's good replies.
fn done_lines(nodes: &[String], message: &str) -> String {
    nodes.iter().map(|n| format!("{n}: {message}\n")).collect()
}

async fn leave(client: &mut Client) -> anyhow::Result<Outcome> {
    let reply = client
        .machine
        .etcd_leave_cluster(m::EtcdLeaveClusterRequest {})
        .await
        .map_err(|s| status_error("cannot leave the etcd cluster", &s))?
        .into_inner();
    let fallback = client.node_name(None).await;
    let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
    let names: Vec<String> = nodes.ok.into_iter().map(|(n, _)| n).collect();
    Ok((done_lines(&names, "left the etcd cluster"), nodes.failed))
}

/// Parses a member ID as `etcd members` prints it (hex, optional `0x`).
pub fn parse_member_id(text: &str) -> anyhow::Result<u64> {
    let digits = text.trim().trim_start_matches("0x");
    u64::from_str_radix(digits, 16).with_context(|| {
        format!(
            "invalid member ID {text:?}: give the hexadecimal ID `basaltctl etcd members` shows"
        )
    })
}

async fn remove(client: &mut Client, id: &str) -> anyhow::Result<Outcome> {
    let member_id = parse_member_id(id)?;
    let what = format!("cannot remove etcd member {id}");
    let reply = client
        .machine
        .etcd_remove_member_by_id(m::EtcdRemoveMemberByIdRequest { member_id })
        .await
        .map_err(|s| status_error(&what, &s))?
        .into_inner();
    let fallback = client.node_name(None).await;
    let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
    let names: Vec<String> = nodes.ok.into_iter().map(|(n, _)| n).collect();
    Ok((
        done_lines(&names, &format!("removed etcd member {member_id:x}")),
        nodes.failed,
    ))
}

async fn forfeit(client: &mut Client) -> anyhow::Result<Outcome> {
    let reply = client
        .machine
        .etcd_forfeit_leadership(m::EtcdForfeitLeadershipRequest {})
        .await
        .map_err(|s| status_error("cannot forfeit etcd leadership", &s))?
        .into_inner();
    let fallback = client.node_name(None).await;
    let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
    let mut table = Table::new(&["node", "member"]);
    for (node, f) in &nodes.ok {
        table.push(vec![node.clone(), f.member.clone()]);
    }
    Ok((table.render(), nodes.failed))
}

async fn defrag(client: &mut Client) -> anyhow::Result<Outcome> {
    let reply = client
        .machine
        .etcd_defragment(())
        .await
        .map_err(|s| status_error("cannot defragment etcd", &s))?
        .into_inner();
    let fallback = client.node_name(None).await;
    let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
    let names: Vec<String> = nodes.ok.into_iter().map(|(n, _)| n).collect();
    Ok((done_lines(&names, "etcd defragmented"), nodes.failed))
}

/// Streams the snapshot into `PATH.part`, then renames it to `path` (a failed transfer
/// leaves no half snapshot under the real name).
async fn snapshot(client: &mut Client, path: &Path) -> anyhow::Result<Outcome> {
    if client.nodes().len() > 1 {
        bail!("etcd snapshot takes one node; give exactly one with -n");
    }
    let mut stream = client
        .machine
        .etcd_snapshot(m::EtcdSnapshotRequest {})
        .await
        .map_err(|s| status_error("cannot take an etcd snapshot", &s))?
        .into_inner();
    let part = path.with_extension("part");
    let mut file = std::fs::File::create(&part)
        .with_context(|| format!("cannot create {}", part.display()))?;
    let mut size: u64 = 0;
    loop {
        let chunk = match stream.message().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(s) => {
                let _ = std::fs::remove_file(&part);
                return Err(status_error("the etcd snapshot stream failed", &s));
            }
        };
        file.write_all(&chunk.bytes)
            .with_context(|| format!("cannot write {}", part.display()))?;
        size += chunk.bytes.len() as u64;
    }
    file.sync_all()
        .with_context(|| format!("cannot write {}", part.display()))?;
    if size == 0 {
        let _ = std::fs::remove_file(&part);
        bail!(
            "the node sent an empty etcd snapshot; nothing was written to {}",
            path.display()
        );
    }
    std::fs::rename(&part, path)
        .with_context(|| format!("cannot rename {} to {}", part.display(), path.display()))?;
    Ok((
        format!("etcd snapshot saved to {} ({size} bytes)\n", path.display()),
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use basalt_api::common::Metadata;

    fn md(node: &str) -> Option<Metadata> {
        Some(Metadata {
            hostname: node.into(),
            ..Default::default()
        })
    }

    #[test]
    fn members_table_has_talosctl_columns_and_hex_ids() {
        let nodes = vec![(
            "cp-1".to_string(),
            m::EtcdMembers {
                metadata: md("cp-1"),
                legacy_members: vec![],
                members: vec![m::EtcdMember {
                    id: 0x4f3f_b4c3_3808_229a,
                    hostname: "cp-1".into(),
                    peer_urls: vec!["https://10.5.0.2:2380".into()],
                    client_urls: vec!["https://10.5.0.2:2379".into()],
                    is_learner: false,
                }],
            },
        )];
        let text = Members::from_nodes(&nodes).human();
        assert_eq!(
            text,
            "NODE   ID                 HOSTNAME   PEER URLS               CLIENT URLS             LEARNER\n\
             cp-1   4f3fb4c33808229a   cp-1       https://10.5.0.2:2380   https://10.5.0.2:2379   false\n"
        );
        let json = output::render(OutputFormat::Json, &Members::from_nodes(&nodes)).unwrap();
        assert!(json.contains("\"id\": \"4f3fb4c33808229a\""), "{json}");
    }

    #[test]
    fn status_table_shows_sizes_and_leader() {
        let nodes = vec![(
            "cp-1".to_string(),
            m::EtcdStatus {
                metadata: md("cp-1"),
                member_status: Some(m::EtcdMemberStatus {
                    member_id: 0xab,
                    protocol_version: "3.4.0".into(),
                    db_size: 20480,
                    db_size_in_use: 10240,
                    leader: 0xab,
                    raft_index: 9,
                    raft_term: 2,
                    raft_applied_index: 9,
                    errors: vec![],
                    is_learner: false,
                }),
            },
        )];
        let text = Statuses::from_nodes(&nodes).human();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("NODE   MEMBER   DB SIZE   IN USE"),
            "{text}"
        );
        assert!(
            lines[0].contains("RAFT APPLIED INDEX   LEARNER   ERRORS"),
            "{text}"
        );
        assert!(lines[1].contains("20 kB"), "{text}");
        assert!(lines[1].contains("10 kB (50.00%)"), "{text}");
        assert!(lines[1].contains(" ab "), "{text}");
    }

    #[test]
    fn alarms_table_names_the_alarm() {
        let nodes = vec![(
            "cp-1".to_string(),
            vec![m::EtcdMemberAlarm {
                member_id: 0x10,
                alarm: AlarmType::Nospace as i32,
            }],
        )];
        assert_eq!(
            Alarms::from_nodes(&nodes).human(),
            "NODE   MEMBER   ALARM\ncp-1   10       NOSPACE\n"
        );
    }

    #[test]
    fn member_ids_are_hex() {
        assert_eq!(
            parse_member_id("4f3fb4c33808229a").unwrap(),
            0x4f3f_b4c3_3808_229a
        );
        assert_eq!(parse_member_id("0x10").unwrap(), 16);
        let err = parse_member_id("cp-1").unwrap_err().to_string();
        assert!(err.contains("basaltctl etcd members"), "{err}");
    }

    #[test]
    fn bytes_are_humanized_like_talosctl() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(20480), "20 kB");
        assert_eq!(human_bytes(1_200_000), "1.2 MB");
    }
}
