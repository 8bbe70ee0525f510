//! Generated from `api/etcd/` (a subset of etcd 3.4's gRPC API, etcd's names and numbers).

/// etcd's key-value message (`mvccpb`).
#[allow(clippy::all, missing_docs)]
pub mod mvccpb {
    tonic::include_proto!("mvccpb");
}

/// etcd's server API (`etcdserverpb`): KV, Cluster and Maintenance clients.
#[allow(clippy::all, missing_docs)]
pub mod etcdserverpb {
    tonic::include_proto!("etcdserverpb");
}
