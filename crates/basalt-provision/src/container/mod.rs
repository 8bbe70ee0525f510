//! The container provisioner: a local cluster of nodes running the built image in
//! container mode (`basalt launch`), one network namespace per node on a host bridge.
//!
//! Layout: `CLUSTERS/<name>/` (`~/.basalt/clusters/<name>` for `basaltctl`) holds
//! `state.json` ([`ClusterState`]), `image/rootfs.sqsh` (a copy of the image, so a rebuild
//! does not touch a running cluster), `launcher/usr/bin/basalt` (the image's static binary,
//! extracted with `unsquashfs`, which runs `basalt launch` on the host) and per node
//! `nodes/<hostname>/{state,ephemeral,sockets,root,config.yaml,console.log}`.
//!
//! Network (iproute2 on the host): a bridge ([`plan::bridge_name`], ≤ 15 bytes) holding the
//! first address of the CIDR; per node a named network namespace `basalt-<hostname>` and a
//! veth pair `bv<tag>-<i>` (host, on the bridge) ↔ `eth0` (in the namespace). The launcher
//! joins that namespace (`--netns`) and mounts the image as the node's root (`--root-image`);
//! machined puts the address and the default route (both from the node's config) on `eth0`.
//!
//! [`create`] checks everything before touching anything ([`preflight`]) and removes what it
//! made when a later step fails; [`destroy`] is idempotent.

mod create;
mod destroy;
mod error;
pub(crate) mod ip;
pub mod plan;
pub(crate) mod process;
mod state;

pub use create::{
    cluster_dir, create, preflight, restart_node, tail, CreateRequest, ROOTFS, START_TIMEOUT,
};
pub use destroy::{destroy, destroy_state, DestroyReport};
pub use error::ContainerError;
pub use plan::{ClusterPlan, NodePlan, Role};
pub use process::is_alive;
pub use state::{ClusterState, NodeState, STATE_FILE};

/// Loads the state of cluster `name`.
pub fn load(clusters_dir: &std::path::Path, name: &str) -> Result<ClusterState, ContainerError> {
    let dir = cluster_dir(clusters_dir, name);
    if !dir.join(STATE_FILE).is_file() {
        return Err(ContainerError::NotFound {
            name: name.to_string(),
            dir: clusters_dir.to_path_buf(),
        });
    }
    ClusterState::load(&dir)
}

/// Names of the clusters under `clusters_dir` (sorted).
pub fn list(clusters_dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(clusters_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join(STATE_FILE).is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}
