//! The one error type of this crate. Every message says what failed, where (endpoint,
//! file, member, flag) and, where there is one, what to do about it.

use std::path::PathBuf;

/// Everything that can go wrong while preparing, joining or talking to etcd.
#[derive(Debug, thiserror::Error)]
pub enum EtcdError {
    /// The etcd CA or a leaf certificate could not be read or issued.
    #[error("etcd PKI: {what}: {source}")]
    Pki {
        /// What was being done (e.g. "issuing the peer certificate for node cp-1").
        what: String,
        /// The PKI error.
        #[source]
        source: basalt_pki::PkiError,
    },
    /// A file or directory could not be read, written or inspected.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("writing", "reading", "creating directory"...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `cluster.etcd.extraArgs` tries to set a flag Basalt owns.
    #[error(
        "cluster.etcd.extraArgs: `{flag}` cannot be overridden: Basalt sets it to keep etcd's \
         certificate authentication and addresses consistent; remove it from extraArgs"
    )]
    ReservedFlag {
        /// The flag as given (without leading dashes).
        flag: String,
    },
    /// An argument is malformed (empty flag name, bad URL...).
    #[error("invalid etcd argument {field}: {reason}")]
    InvalidArgument {
        /// Which argument.
        field: String,
        /// Why it is refused.
        reason: String,
    },
    /// TLS material for the client could not be used.
    #[error("etcd client TLS: {0}")]
    Tls(String),
    /// No endpoint was given to the client.
    #[error("no etcd endpoint given: pass at least one https://HOST:2379 URL")]
    NoEndpoints,
    /// The endpoint is not an `https://HOST:PORT` URL.
    #[error("invalid etcd endpoint {endpoint:?}: {reason}")]
    BadEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// Why it is refused.
        reason: String,
    },
    /// Connecting (TCP or TLS) to an endpoint failed.
    #[error("cannot connect to etcd at {endpoint}: {reason}")]
    Connect {
        /// The endpoint.
        endpoint: String,
        /// What failed.
        reason: String,
    },
    /// etcd refuses to add a member until every voter has been connected for a while
    /// (its "unhealthy cluster" check); retry later.
    #[error(
        "etcd at {endpoint} refused the member change because the cluster is not healthy yet \
         (a voter connected less than ~5 s ago or is down): {message}"
    )]
    UnhealthyCluster {
        /// The endpoint that answered.
        endpoint: String,
        /// etcd's message.
        message: String,
    },
    /// etcd refuses a second learner (3.4 allows one learner at a time); retry later.
    #[error(
        "etcd at {endpoint} refused to add a learner: there are too many learners already \
         (etcd 3.4 allows one at a time; wait for the other to be promoted): {message}"
    )]
    TooManyLearners {
        /// The endpoint that answered.
        endpoint: String,
        /// etcd's message.
        message: String,
    },
    /// etcd refuses to promote a learner that has not caught up with the leader yet.
    #[error("etcd at {endpoint} will not promote member {member_id:x} yet: {message}")]
    LearnerNotReady {
        /// The endpoint that answered.
        endpoint: String,
        /// The learner.
        member_id: u64,
        /// etcd's message.
        message: String,
    },
    /// The member does not exist (removed or never added).
    #[error("etcd at {endpoint}: member {member_id:x} not found: {message}")]
    MemberNotFound {
        /// The endpoint that answered.
        endpoint: String,
        /// The member ID.
        member_id: u64,
        /// etcd's message.
        message: String,
    },
    /// Any other gRPC error returned by etcd.
    #[error("etcd {call} at {endpoint} failed: {code:?}: {message}")]
    Rpc {
        /// The RPC (e.g. "MemberList").
        call: &'static str,
        /// The endpoint that answered (or the last one tried).
        endpoint: String,
        /// The gRPC status code.
        code: tonic::Code,
        /// etcd's message.
        message: String,
    },
    /// The reply lacks something etcd always sends.
    #[error("etcd {call} at {endpoint} returned an incomplete reply: {what}")]
    BadReply {
        /// The RPC.
        call: &'static str,
        /// The endpoint.
        endpoint: String,
        /// What is missing.
        what: String,
    },
    /// Bootstrap or restore found an etcd data directory that is already in use.
    #[error(
        "etcd data directory {path} already holds data ({found}); bootstrap only starts a new \
         cluster on an empty directory: if this node already bootstrapped, there is nothing to \
         do; to start over, reset the node (wiping EPHEMERAL)"
    )]
    DataExists {
        /// The data directory.
        path: PathBuf,
        /// What was found there (e.g. "member/").
        found: String,
    },
    /// An external command (etcdctl) failed or could not be started.
    #[error("{command} failed: {reason}")]
    Command {
        /// The command line, shortened.
        command: String,
        /// Exit status and stderr, or the spawn error.
        reason: String,
    },
    /// Waiting was cancelled (the service is stopping).
    #[error("cancelled while {0}")]
    Cancelled(String),
}

impl EtcdError {
    /// True for errors worth retrying later (cluster not healthy, too many learners,
    /// learner behind, endpoints unreachable or unavailable).
    pub fn is_retryable(&self) -> bool {
        match self {
            EtcdError::UnhealthyCluster { .. }
            | EtcdError::TooManyLearners { .. }
            | EtcdError::LearnerNotReady { .. }
            | EtcdError::Connect { .. } => true,
            EtcdError::Rpc { code, .. } => matches!(
                code,
                tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Unknown
            ),
            _ => false,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        EtcdError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
