//! Plain types the client returns (no generated code leaks into callers).

use crate::proto::etcdserverpb as pb;

/// One etcd cluster member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Member ID.
    pub id: u64,
    /// Name (empty until the member has started once).
    pub name: String,
    /// Peer URLs.
    pub peer_urls: Vec<String>,
    /// Client URLs (empty until the member has started once).
    pub client_urls: Vec<String>,
    /// True while the member is a non-voting learner.
    pub is_learner: bool,
}

impl From<pb::Member> for Member {
    fn from(m: pb::Member) -> Self {
        Member {
            id: m.id,
            name: m.name,
            peer_urls: m.peer_ur_ls,
            client_urls: m.client_ur_ls,
            is_learner: m.is_learner,
        }
    }
}

/// The reply of a learner add: the new member and the membership after the add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberAdded {
    /// The new member (no name yet).
    pub member: Member,
    /// Every member, the new one included.
    pub members: Vec<Member>,
}

/// One member's status (`Maintenance.Status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The endpoint that answered.
    pub endpoint: String,
    /// The answering member's ID.
    pub member_id: u64,
    /// The cluster ID.
    pub cluster_id: u64,
    /// etcd version.
    pub version: String,
    /// Backend size, bytes.
    pub db_size: i64,
    /// Backend bytes in use.
    pub db_size_in_use: i64,
    /// Leader's member ID (0: none known).
    pub leader: u64,
    /// Raft committed index.
    pub raft_index: u64,
    /// Raft term.
    pub raft_term: u64,
    /// Raft applied index.
    pub raft_applied_index: u64,
    /// Alarm and health errors.
    pub errors: Vec<String>,
    /// True when the answering member is a learner.
    pub is_learner: bool,
}

/// The kind of an etcd alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmKind {
    /// No alarm (only in queries).
    None,
    /// Space quota exhausted.
    NoSpace,
    /// Data corruption detected.
    Corrupt,
    /// A value this client does not know.
    Unknown(i32),
}

impl From<i32> for AlarmKind {
    fn from(v: i32) -> Self {
        match pb::AlarmType::try_from(v) {
            Ok(pb::AlarmType::None) => AlarmKind::None,
            Ok(pb::AlarmType::Nospace) => AlarmKind::NoSpace,
            Ok(pb::AlarmType::Corrupt) => AlarmKind::Corrupt,
            Err(_) => AlarmKind::Unknown(v),
        }
    }
}

impl AlarmKind {
    /// The protobuf value.
    pub fn as_i32(self) -> i32 {
        match self {
            AlarmKind::None => pb::AlarmType::None as i32,
            AlarmKind::NoSpace => pb::AlarmType::Nospace as i32,
            AlarmKind::Corrupt => pb::AlarmType::Corrupt as i32,
            AlarmKind::Unknown(v) => v,
        }
    }
}

/// A raised alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alarm {
    /// The member that raised it.
    pub member_id: u64,
    /// What it is.
    pub kind: AlarmKind,
}
