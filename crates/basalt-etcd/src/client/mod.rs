//! An async etcd v3 gRPC client over mutual TLS (tonic + rustls), with the calls machined
//! needs: membership (learners included), maintenance, and simple KV.
//!
//! Channels are lazy: [`Client::connect`] checks endpoints and TLS material only; each
//! call tries the endpoints in order and moves on when one is unreachable, and every
//! error names the endpoint that produced it.

mod connector;
mod tls;
mod types;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt as _};
use rustls::ClientConfig;
use tonic::transport::{Channel, Endpoint};

use crate::error::EtcdError;
use crate::pki::ClientTls;
use crate::proto::etcdserverpb as pb;
use connector::{Connector, Target};
pub use types::{Alarm, AlarmKind, Member, MemberAdded, Status};

use pb::cluster_client::ClusterClient;
use pb::kv_client::KvClient;
use pb::maintenance_client::MaintenanceClient;

/// How long a unary call may take before the next endpoint is tried.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one `MemberAdd` may take before `join` retries it.
pub const MEMBER_ADD_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a defragmentation may take.
pub const DEFRAG_TIMEOUT: Duration = Duration::from_secs(300);

/// A stream of snapshot chunks (the bytes `etcdctl snapshot save` would write).
pub type SnapshotStream = Pin<Box<dyn Stream<Item = Result<Bytes, EtcdError>> + Send>>;

#[derive(Debug, Clone)]
struct Conn {
    target: Target,
    channel: Channel,
}

/// A client for one etcd cluster, reached through one or more endpoints.
#[derive(Debug, Clone)]
pub struct Client {
    conns: Vec<Conn>,
    config: Arc<ClientConfig>,
}

fn open(target: Target, config: &Arc<ClientConfig>) -> Result<Conn, EtcdError> {
    let endpoint =
        Endpoint::from_shared(target.tonic_uri()).map_err(|e| EtcdError::BadEndpoint {
            endpoint: target.url.clone(),
            reason: e.to_string(),
        })?;
    let channel = endpoint
        .http2_keep_alive_interval(Duration::from_secs(10))
        .keep_alive_timeout(Duration::from_secs(10))
        .connect_with_connector_lazy(Connector {
            target: target.clone(),
            config: config.clone(),
        });
    Ok(Conn { target, channel })
}

/// Maps a gRPC status to an [`EtcdError`], recognising etcd's membership refusals.
pub(crate) fn map_status(
    call: &'static str,
    endpoint: &str,
    status: tonic::Status,
    id: u64,
) -> EtcdError {
    let message = status.message().to_string();
    let endpoint = endpoint.to_string();
    if message.contains("unhealthy cluster") {
        EtcdError::UnhealthyCluster { endpoint, message }
    } else if message.contains("too many learner") {
        EtcdError::TooManyLearners { endpoint, message }
    } else if message.contains("in sync with leader") {
        EtcdError::LearnerNotReady {
            endpoint,
            member_id: id,
            message,
        }
    } else if message.contains("member not found") {
        EtcdError::MemberNotFound {
            endpoint,
            member_id: id,
            message,
        }
    } else if status.code() == tonic::Code::Unavailable
        && std::error::Error::source(&status).is_some()
    {
        let mut reason = message;
        let mut source = std::error::Error::source(&status);
        while let Some(err) = source {
            let text = err.to_string();
            if !reason.contains(&text) {
                reason = format!("{reason}: {text}");
            }
            source = err.source();
        }
        if reason.contains("invalid peer certificate") {
            reason.push_str(
                " (etcd's server certificate does not verify against the etcd CA given \
                 (cluster.etcd.ca) or does not name this address)",
            );
        }
        EtcdError::Connect { endpoint, reason }
    } else {
        EtcdError::Rpc {
            call,
            endpoint,
            code: status.code(),
            message,
        }
    }
}

/// True when the next endpoint should be tried (this one is unreachable or not serving).
fn try_next(err: &EtcdError) -> bool {
    match err {
        EtcdError::Connect { .. } => true,
        EtcdError::Rpc { code, .. } => matches!(
            code,
            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded
        ),
        _ => false,
    }
}

impl Client {
    /// A client for `endpoints` (`https://HOST:2379`) with the node's client identity.
    pub async fn connect(endpoints: &[String], tls: &ClientTls) -> Result<Client, EtcdError> {
        if endpoints.is_empty() {
            return Err(EtcdError::NoEndpoints);
        }
        let config = tls::client_config(tls)?;
        let mut conns = Vec::with_capacity(endpoints.len());
        for url in endpoints {
            let target = Target::parse(url).map_err(|reason| EtcdError::BadEndpoint {
                endpoint: url.clone(),
                reason,
            })?;
            conns.push(open(target, &config)?);
        }
        Ok(Client { conns, config })
    }

    /// The endpoints, as given.
    pub fn endpoints(&self) -> Vec<String> {
        self.conns.iter().map(|c| c.target.url.clone()).collect()
    }

    fn conn_for(&self, endpoint: &str) -> Result<Conn, EtcdError> {
        let target = Target::parse(endpoint).map_err(|reason| EtcdError::BadEndpoint {
            endpoint: endpoint.to_string(),
            reason,
        })?;
        match self
            .conns
            .iter()
            .find(|c| c.target.host == target.host && c.target.port == target.port)
        {
            Some(conn) => Ok(conn.clone()),
            None => open(target, &self.config),
        }
    }

    /// Runs `f` against each endpoint in turn until one answers (or fails for a reason
    /// that is not about reachability).
    async fn call_any<T, F, Fut>(&self, call: &'static str, id: u64, f: F) -> Result<T, EtcdError>
    where
        F: Fn(Channel) -> Fut,
        Fut: Future<Output = Result<T, tonic::Status>>,
    {
        self.call_any_within(call, id, CALL_TIMEOUT, f).await
    }

    /// [`Self::call_any`] with a per-endpoint time limit.
    async fn call_any_within<T, F, Fut>(
        &self,
        call: &'static str,
        id: u64,
        limit: Duration,
        f: F,
    ) -> Result<T, EtcdError>
    where
        F: Fn(Channel) -> Fut,
        Fut: Future<Output = Result<T, tonic::Status>>,
    {
        let mut last = EtcdError::NoEndpoints;
        for conn in &self.conns {
            match call_one(conn, call, id, limit, &f).await {
                Ok(v) => return Ok(v),
                Err(err) if try_next(&err) => last = err,
                Err(err) => return Err(err),
            }
        }
        Err(last)
    }

    /// Every member of the cluster.
    pub async fn member_list(&self) -> Result<Vec<Member>, EtcdError> {
        let reply = self
            .call_any("MemberList", 0, |ch| async move {
                ClusterClient::new(ch)
                    .member_list(pb::MemberListRequest {})
                    .await
            })
            .await?;
        Ok(reply
            .into_inner()
            .members
            .into_iter()
            .map(Member::from)
            .collect())
    }

    /// Adds a learner with `peer_urls`; etcd refuses while the cluster is unhealthy
    /// ([`EtcdError::UnhealthyCluster`]) or another learner exists ([`EtcdError::TooManyLearners`]).
    pub async fn member_add_learner(&self, peer_urls: &[String]) -> Result<MemberAdded, EtcdError> {
        let urls = peer_urls.to_vec();
        // etcd may hold a MemberAdd while another membership change settles; give up early
        // and let `join` retry (it first removes a member with our peer URL, should this
        // add have gone through after all)
        let reply = self
            .call_any_within("MemberAdd", 0, MEMBER_ADD_TIMEOUT, |ch| {
                let urls = urls.clone();
                async move {
                    ClusterClient::new(ch)
                        .member_add(pb::MemberAddRequest {
                            peer_ur_ls: urls,
                            is_learner: true,
                        })
                        .await
                }
            })
            .await?;
        let reply = reply.into_inner();
        let member = reply.member.ok_or_else(|| EtcdError::BadReply {
            call: "MemberAdd",
            endpoint: self.endpoints().join(","),
            what: "no member in the reply".to_string(),
        })?;
        Ok(MemberAdded {
            member: member.into(),
            members: reply.members.into_iter().map(Member::from).collect(),
        })
    }

    /// Promotes learner `id` to voter; [`EtcdError::LearnerNotReady`] while it lags behind.
    pub async fn member_promote(&self, id: u64) -> Result<Vec<Member>, EtcdError> {
        let reply = self
            .call_any("MemberPromote", id, |ch| async move {
                ClusterClient::new(ch)
                    .member_promote(pb::MemberPromoteRequest { id })
                    .await
            })
            .await?;
        Ok(reply
            .into_inner()
            .members
            .into_iter()
            .map(Member::from)
            .collect())
    }

    /// Removes member `id`; returns the remaining members.
    pub async fn member_remove(&self, id: u64) -> Result<Vec<Member>, EtcdError> {
        let reply = self
            .call_any("MemberRemove", id, |ch| async move {
                ClusterClient::new(ch)
                    .member_remove(pb::MemberRemoveRequest { id })
                    .await
            })
            .await?;
        Ok(reply
            .into_inner()
            .members
            .into_iter()
            .map(Member::from)
            .collect())
    }

    /// The status of the member serving `endpoint` (need not be one of the client's).
    pub async fn status(&self, endpoint: &str) -> Result<Status, EtcdError> {
        let conn = self.conn_for(endpoint)?;
        let reply = call_one(&conn, "Status", 0, CALL_TIMEOUT, &|ch| async move {
            MaintenanceClient::new(ch)
                .status(pb::StatusRequest {})
                .await
        })
        .await?
        .into_inner();
        let header = reply.header.unwrap_or_default();
        Ok(Status {
            endpoint: conn.target.url.clone(),
            member_id: header.member_id,
            cluster_id: header.cluster_id,
            version: reply.version,
            db_size: reply.db_size,
            db_size_in_use: reply.db_size_in_use,
            leader: reply.leader,
            raft_index: reply.raft_index,
            raft_term: reply.raft_term,
            raft_applied_index: reply.raft_applied_index,
            errors: reply.errors,
            is_learner: reply.is_learner,
        })
    }

    /// Defragments the backend of the member serving `endpoint` (blocks that member).
    pub async fn defragment(&self, endpoint: &str) -> Result<(), EtcdError> {
        let conn = self.conn_for(endpoint)?;
        call_one(&conn, "Defragment", 0, DEFRAG_TIMEOUT, &|ch| async move {
            MaintenanceClient::new(ch)
                .defragment(pb::DefragmentRequest {})
                .await
        })
        .await?;
        Ok(())
    }

    async fn alarm(
        &self,
        action: pb::alarm_request::AlarmAction,
        member_id: u64,
        kind: AlarmKind,
    ) -> Result<Vec<Alarm>, EtcdError> {
        let reply = self
            .call_any("Alarm", member_id, |ch| async move {
                MaintenanceClient::new(ch)
                    .alarm(pb::AlarmRequest {
                        action: action as i32,
                        member_id,
                        alarm: kind.as_i32(),
                    })
                    .await
            })
            .await?;
        Ok(reply
            .into_inner()
            .alarms
            .into_iter()
            .map(|a| Alarm {
                member_id: a.member_id,
                kind: AlarmKind::from(a.alarm),
            })
            .collect())
    }

    /// Every raised alarm of the cluster.
    pub async fn alarm_list(&self) -> Result<Vec<Alarm>, EtcdError> {
        self.alarm(pb::alarm_request::AlarmAction::Get, 0, AlarmKind::None)
            .await
    }

    /// Disarms every raised alarm (as `etcdctl alarm disarm`); returns the ones disarmed.
    pub async fn alarm_disarm(&self) -> Result<Vec<Alarm>, EtcdError> {
        let raised = self.alarm_list().await?;
        for alarm in &raised {
            self.alarm(
                pb::alarm_request::AlarmAction::Deactivate,
                alarm.member_id,
                alarm.kind,
            )
            .await?;
        }
        Ok(raised)
    }

    /// Moves leadership to member `to`. The request goes to the current leader, found by
    /// asking each endpoint's status.
    pub async fn move_leader(&self, to: u64) -> Result<(), EtcdError> {
        let mut leader = None;
        let mut last = EtcdError::NoEndpoints;
        for conn in &self.conns {
            match self.status(&conn.target.url).await {
                Ok(status) if status.leader == status.member_id && status.leader != 0 => {
                    leader = Some(conn.clone());
                    break;
                }
                Ok(_) => {}
                Err(err) => last = err,
            }
        }
        let Some(conn) = leader else {
            return Err(EtcdError::Rpc {
                call: "MoveLeader",
                endpoint: self.endpoints().join(","),
                code: tonic::Code::FailedPrecondition,
                message: format!(
                    "none of the client's endpoints is the leader (last error: {last}); \
                     include the leader's endpoint"
                ),
            });
        };
        call_one(&conn, "MoveLeader", to, CALL_TIMEOUT, &|ch| async move {
            MaintenanceClient::new(ch)
                .move_leader(pb::MoveLeaderRequest { target_id: to })
                .await
        })
        .await?;
        Ok(())
    }

    /// Streams a snapshot of the backend from the first endpoint that answers.
    pub async fn snapshot(&self) -> Result<SnapshotStream, EtcdError> {
        let mut last = EtcdError::NoEndpoints;
        for conn in &self.conns {
            let url = conn.target.url.clone();
            let started = tokio::time::timeout(
                CALL_TIMEOUT,
                MaintenanceClient::new(conn.channel.clone())
                    .max_decoding_message_size(64 * 1024 * 1024)
                    .snapshot(pb::SnapshotRequest {}),
            )
            .await;
            let result = match started {
                Err(_) => Err(timeout_error("Snapshot", &url)),
                Ok(r) => r.map_err(|s| map_status("Snapshot", &url, s, 0)),
            };
            match result {
                Ok(reply) => {
                    let stream = reply.into_inner().map(move |chunk| {
                        chunk
                            .map(|c| Bytes::from(c.blob))
                            .map_err(|s| map_status("Snapshot", &url, s, 0))
                    });
                    return Ok(Box::pin(stream));
                }
                Err(err) if try_next(&err) => last = err,
                Err(err) => return Err(err),
            }
        }
        Err(last)
    }

    /// Writes a snapshot to `path` (0600, via a temporary file); returns its size in bytes.
    pub async fn snapshot_to_file(&self, path: &std::path::Path) -> Result<u64, EtcdError> {
        use tokio::io::AsyncWriteExt as _;
        let mut stream = self.snapshot().await?;
        let tmp = path.with_extension("part");
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .await
            .map_err(|e| EtcdError::io("creating", &tmp, e))?;
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            file.write_all(&chunk)
                .await
                .map_err(|e| EtcdError::io("writing", &tmp, e))?;
        }
        file.sync_all()
            .await
            .map_err(|e| EtcdError::io("writing", &tmp, e))?;
        tokio::fs::rename(&tmp, path)
            .await
            .map_err(|e| EtcdError::io("renaming into place", path, e))?;
        Ok(size)
    }

    /// Puts `key` = `value`.
    pub async fn put(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<(), EtcdError> {
        let (key, value) = (key.as_ref().to_vec(), value.as_ref().to_vec());
        self.call_any("Put", 0, |ch| {
            let (key, value) = (key.clone(), value.clone());
            async move {
                KvClient::new(ch)
                    .put(pb::PutRequest {
                        key,
                        value,
                        ..Default::default()
                    })
                    .await
            }
        })
        .await?;
        Ok(())
    }

    /// The value of `key` (linearizable read), if present.
    pub async fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, EtcdError> {
        let key = key.as_ref().to_vec();
        let reply = self
            .call_any("Range", 0, |ch| {
                let key = key.clone();
                async move {
                    KvClient::new(ch)
                        .range(pb::RangeRequest {
                            key,
                            ..Default::default()
                        })
                        .await
                }
            })
            .await?;
        Ok(reply.into_inner().kvs.into_iter().next().map(|kv| kv.value))
    }
}

fn timeout_error(call: &'static str, endpoint: &str) -> EtcdError {
    EtcdError::Rpc {
        call,
        endpoint: endpoint.to_string(),
        code: tonic::Code::DeadlineExceeded,
        message: "no reply in time".to_string(),
    }
}

async fn call_one<T, F, Fut>(
    conn: &Conn,
    call: &'static str,
    id: u64,
    limit: Duration,
    f: &F,
) -> Result<T, EtcdError>
where
    F: Fn(Channel) -> Fut,
    Fut: Future<Output = Result<T, tonic::Status>>,
{
    match tokio::time::timeout(limit, f(conn.channel.clone())).await {
        Err(_) => Err(timeout_error(call, &conn.target.url)),
        Ok(Err(status)) => Err(map_status(call, &conn.target.url, status, id)),
        Ok(Ok(v)) => Ok(v),
    }
}
