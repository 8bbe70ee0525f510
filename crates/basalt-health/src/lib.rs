//! Cluster health checks, the same code for `basaltctl health` (client side) and
//! `cluster.ClusterService/HealthCheck` (run by a control-plane node's machined).
//!
//! The checks talk to one apid over a gRPC [`Channel`](tonic::transport::Channel) and reach
//! every node through it with the `node` metadata (apid forwards), in this order:
//!
//! 1. `etcd to be healthy` — `EtcdStatus` answers on every control-plane node and names a leader;
//! 2. `etcd members to be control plane nodes` — `EtcdMemberList` holds exactly the
//!    control-plane nodes, all voters;
//! 3. `apid to be ready` — `Version` answers on every node;
//! 4. `all nodes to finish boot sequence` — `MachineStatuses` is `running` and ready everywhere.
//!
//! Each check is retried every second until it passes or the wait timeout is over; progress
//! goes to a callback ([`Progress`]), and a failure names what is wrong where.

mod checks;
mod connect;
mod error;
mod nodes;

pub use checks::{run, Progress, CHECKS};
pub use connect::connect_with_os_ca;
pub use error::HealthError;
pub use nodes::{classify, ClusterNodes, NodeApi};
