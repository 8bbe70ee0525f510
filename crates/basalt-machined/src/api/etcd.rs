//! Bootstrap and the `Etcd*` RPCs, served from the node's [`EtcdControl`].
//!
//! On a worker (no control) and while etcd does not run, the calls are FAILED_PRECONDITION
//! with a message saying why and what to do. `EtcdRecover` stores the uploaded snapshot for
//! a later `Bootstrap { recover_etcd }`.

use std::io::Write as _;

use basalt_api::common::Data;
use basalt_api::machine as m;
use basalt_etcd::EtcdError;
use futures::StreamExt as _;
use tonic::{Code, Status};

use super::cosi_state::BoxStream;
use super::handle::ApiHandle;
use super::status::IntoStatus;
use crate::etcd::{EtcdControl, EtcdServiceError};

impl IntoStatus for EtcdServiceError {
    fn into_status(self) -> Status {
        let code = match &self {
            EtcdServiceError::NotControlPlane
            | EtcdServiceError::NotRunning { .. }
            | EtcdServiceError::BootstrapRefused { .. }
            | EtcdServiceError::NoSnapshot { .. }
            | EtcdServiceError::Config { .. }
            | EtcdServiceError::NoAddress { .. } => Code::FailedPrecondition,
            EtcdServiceError::Etcd(e) => etcd_code(e),
            EtcdServiceError::Stopped { .. } | EtcdServiceError::Discovery { .. } => {
                Code::Unavailable
            }
            EtcdServiceError::Upload { .. } => Code::InvalidArgument,
            EtcdServiceError::Io { .. } | EtcdServiceError::Supervisor(_) => Code::Internal,
        };
        Status::new(code, self.to_string())
    }
}

fn etcd_code(e: &EtcdError) -> Code {
    match e {
        EtcdError::DataExists { .. } => Code::FailedPrecondition,
        EtcdError::MemberNotFound { .. } => Code::NotFound,
        EtcdError::UnhealthyCluster { .. }
        | EtcdError::TooManyLearners { .. }
        | EtcdError::LearnerNotReady { .. } => Code::FailedPrecondition,
        EtcdError::Connect { .. } => Code::Unavailable,
        EtcdError::Rpc { code, .. } => *code,
        _ => Code::Internal,
    }
}

/// The node's etcd control, or FAILED_PRECONDITION on a worker.
fn control(handle: &ApiHandle) -> Result<EtcdControl, Status> {
    handle
        .power
        .etcd()
        .ok_or_else(|| EtcdServiceError::NotControlPlane.into_status())
}

/// `Bootstrap`: a new cluster on this node (from the uploaded snapshot with recover_etcd).
pub async fn bootstrap(
    handle: &ApiHandle,
    req: &m::BootstrapRequest,
) -> Result<m::BootstrapResponse, Status> {
    control(handle)?
        .bootstrap(req.recover_etcd, req.recover_skip_hash_check)
        .await
        .map_err(IntoStatus::into_status)?;
    Ok(m::BootstrapResponse {
        messages: vec![m::Bootstrap {
            metadata: handle.metadata(),
        }],
    })
}

/// `EtcdMemberList`.
pub async fn member_list(
    handle: &ApiHandle,
    _req: &m::EtcdMemberListRequest,
) -> Result<m::EtcdMemberListResponse, Status> {
    let client = client(handle).await?;
    let members = client.member_list().await.map_err(etcd_status)?;
    Ok(m::EtcdMemberListResponse {
        messages: vec![m::EtcdMembers {
            metadata: handle.metadata(),
            legacy_members: members.iter().map(|m| m.name.clone()).collect(),
            members: members
                .into_iter()
                .map(|x| m::EtcdMember {
                    id: x.id,
                    hostname: x.name,
                    peer_urls: x.peer_urls,
                    client_urls: x.client_urls,
                    is_learner: x.is_learner,
                })
                .collect(),
        }],
    })
}

async fn client(handle: &ApiHandle) -> Result<basalt_etcd::client::Client, Status> {
    control(handle)?
        .client()
        .await
        .map_err(IntoStatus::into_status)
}

fn etcd_status(e: EtcdError) -> Status {
    EtcdServiceError::Etcd(e).into_status()
}

/// `EtcdRemoveMemberByID`.
pub async fn remove_member(
    handle: &ApiHandle,
    id: u64,
) -> Result<m::EtcdRemoveMemberByIdResponse, Status> {
    if id == 0 {
        return Err(Status::invalid_argument(
            "member_id 0 is not a member; take the ID from `basaltctl etcd members`",
        ));
    }
    client(handle)
        .await?
        .member_remove(id)
        .await
        .map_err(etcd_status)?;
    Ok(m::EtcdRemoveMemberByIdResponse {
        messages: vec![m::EtcdRemoveMemberById {
            metadata: handle.metadata(),
        }],
    })
}

/// `EtcdLeaveCluster`.
pub async fn leave(handle: &ApiHandle) -> Result<m::EtcdLeaveClusterResponse, Status> {
    control(handle)?
        .leave()
        .await
        .map_err(IntoStatus::into_status)?;
    Ok(m::EtcdLeaveClusterResponse {
        messages: vec![m::EtcdLeaveCluster {
            metadata: handle.metadata(),
        }],
    })
}

/// `EtcdForfeitLeadership`: when this member leads, moves leadership to another voter and
/// names it; otherwise answers with an empty member.
pub async fn forfeit_leadership(
    handle: &ApiHandle,
) -> Result<m::EtcdForfeitLeadershipResponse, Status> {
    let ctl = control(handle)?;
    let client = ctl.client().await.map_err(IntoStatus::into_status)?;
    let status = client
        .status(&ctl.local_endpoint())
        .await
        .map_err(etcd_status)?;
    let mut member = String::new();
    if status.leader == status.member_id {
        let members = client.member_list().await.map_err(etcd_status)?;
        let to = members
            .iter()
            .find(|x| !x.is_learner && x.id != status.member_id)
            .ok_or_else(|| {
                Status::failed_precondition(format!(
                    "node {} leads a cluster with no other voting member; nothing to hand \
                     leadership to",
                    ctl.name()
                ))
            })?;
        client.move_leader(to.id).await.map_err(etcd_status)?;
        member = to.name.clone();
    }
    Ok(m::EtcdForfeitLeadershipResponse {
        messages: vec![m::EtcdForfeitLeadership {
            metadata: handle.metadata(),
            member,
        }],
    })
}

/// `EtcdRecover`: stores the uploaded snapshot (replacing an earlier one).
pub async fn recover_upload(
    handle: &ApiHandle,
    mut stream: tonic::Streaming<Data>,
) -> Result<m::EtcdRecoverResponse, Status> {
    let ctl = control(handle)?;
    let path = ctl.recover_snapshot_path();
    let part = path.with_extension("part");
    let upload = |reason: String| {
        EtcdServiceError::Upload {
            path: path.clone(),
            reason,
        }
        .into_status()
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| EtcdServiceError::io("creating", dir, e).into_status())?;
    }
    let mut file = std::fs::File::create(&part)
        .map_err(|e| EtcdServiceError::io("creating", &part, e).into_status())?;
    let mut size = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(s) => {
                let _ = std::fs::remove_file(&part);
                return Err(upload(format!("the upload stream failed: {}", s.message())));
            }
        };
        file.write_all(&chunk.bytes)
            .map_err(|e| EtcdServiceError::io("writing", &part, e).into_status())?;
        size += chunk.bytes.len();
    }
    if size == 0 {
        let _ = std::fs::remove_file(&part);
        return Err(upload(
            "the upload was empty; send a snapshot taken with `basaltctl etcd snapshot`".into(),
        ));
    }
    file.sync_all()
        .map_err(|e| EtcdServiceError::io("writing", &part, e).into_status())?;
    std::fs::rename(&part, &path)
        .map_err(|e| EtcdServiceError::io("renaming", &part, e).into_status())?;
    Ok(m::EtcdRecoverResponse {
        messages: vec![m::EtcdRecover {
            metadata: handle.metadata(),
        }],
    })
}

/// `EtcdSnapshot`: the local member's snapshot as a stream of chunks.
pub async fn snapshot(handle: &ApiHandle) -> Result<BoxStream<Data>, Status> {
    let client = client(handle).await?;
    let stream = client.snapshot().await.map_err(etcd_status)?;
    Ok(Box::pin(stream.map(|chunk| match chunk {
        Ok(bytes) => Ok(Data {
            metadata: None,
            bytes: bytes.to_vec(),
        }),
        Err(e) => Err(etcd_status(e)),
    })))
}

fn alarms(list: Vec<basalt_etcd::client::Alarm>) -> Vec<m::EtcdMemberAlarm> {
    list.into_iter()
        .map(|a| m::EtcdMemberAlarm {
            member_id: a.member_id,
            alarm: a.kind.as_i32(),
        })
        .collect()
}

/// `EtcdAlarmList`.
pub async fn alarm_list(handle: &ApiHandle) -> Result<m::EtcdAlarmListResponse, Status> {
    let list = client(handle)
        .await?
        .alarm_list()
        .await
        .map_err(etcd_status)?;
    Ok(m::EtcdAlarmListResponse {
        messages: vec![m::EtcdAlarm {
            metadata: handle.metadata(),
            member_alarms: alarms(list),
        }],
    })
}

/// `EtcdAlarmDisarm`: disarms every alarm and reports the disarmed ones.
pub async fn alarm_disarm(handle: &ApiHandle) -> Result<m::EtcdAlarmDisarmResponse, Status> {
    let list = client(handle)
        .await?
        .alarm_disarm()
        .await
        .map_err(etcd_status)?;
    Ok(m::EtcdAlarmDisarmResponse {
        messages: vec![m::EtcdAlarmDisarm {
            metadata: handle.metadata(),
            member_alarms: alarms(list),
        }],
    })
}

/// `EtcdDefragment` of the local member.
pub async fn defragment(handle: &ApiHandle) -> Result<m::EtcdDefragmentResponse, Status> {
    let ctl = control(handle)?;
    let client = ctl.client().await.map_err(IntoStatus::into_status)?;
    client
        .defragment(&ctl.local_endpoint())
        .await
        .map_err(etcd_status)?;
    Ok(m::EtcdDefragmentResponse {
        messages: vec![m::EtcdDefragment {
            metadata: handle.metadata(),
        }],
    })
}

/// `EtcdStatus` of the local member.
pub async fn status(handle: &ApiHandle) -> Result<m::EtcdStatusResponse, Status> {
    let ctl = control(handle)?;
    let client = ctl.client().await.map_err(IntoStatus::into_status)?;
    let s = client
        .status(&ctl.local_endpoint())
        .await
        .map_err(etcd_status)?;
    Ok(m::EtcdStatusResponse {
        messages: vec![m::EtcdStatus {
            metadata: handle.metadata(),
            member_status: Some(m::EtcdMemberStatus {
                member_id: s.member_id,
                protocol_version: s.version,
                db_size: s.db_size,
                db_size_in_use: s.db_size_in_use,
                leader: s.leader,
                raft_index: s.raft_index,
                raft_term: s.raft_term,
                raft_applied_index: s.raft_applied_index,
                errors: s.errors,
                is_learner: s.is_learner,
            }),
        }],
    })
}
