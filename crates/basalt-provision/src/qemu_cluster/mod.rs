//! `basaltctl cluster create --provisioner qemu`: a local cluster of QEMU virtual machines
//! booting the built image in metal mode, one host tap per VM on a bridge.
//!
//! It fits the container provisioner's model: the same [`ClusterPlan`] (names, addresses,
//! bridge; the plan's host link names `bv<tag>-<i>` become the tap names), the same
//! clusters directory and the same per-node configs (static address on `eth0` + hostname).
//! Layout: `CLUSTERS/<name>/` holds `state.json` ([`QemuClusterState`], with
//! `"provisioner": "qemu"`), `image/{vmlinuz,initramfs.img,cmdline}` (a copy, so a rebuild
//! does not touch a running cluster) and per node `nodes/<hostname>/` with `data.raw` (the
//! sparse system disk, `vda`: STATE + EPHEMERAL are created on first boot), `config.raw` (the
//! raw config disk, `vdb`, read-only: the YAML padded with NUL bytes, read through
//! `basalt.config=/dev/vdb`), `config.yaml` and `console.log` (the serial console; QEMU's own
//! errors in `console.log.qemu-stderr`).
//!
//! Network (iproute2 on the host): the bridge holds the first address of the CIDR; per VM a
//! persistent tap (`ip tuntap add … mode tap`) on the bridge, opened by QEMU with
//! `-netdev tap,ifname=…,script=no,downscript=no`; the guest NIC's MAC is
//! `52:54:00:<last three bytes of the node's IPv4 address>` ([`mac_for`]).
//!
//! [`create`] checks everything before touching anything ([`preflight`]) and removes what it
//! made when a later step fails; [`destroy`] (SIGTERM to QEMU, SIGKILL after a grace period,
//! taps, bridge, directory) is idempotent. A graceful `shutdown` over the machine API is the
//! caller's part (`basaltctl cluster destroy` sends it first, then [`wait_vms_exit`]).

mod create;
mod destroy;
mod error;
mod net;
mod state;

pub use create::{create, preflight, QemuCreateRequest, DATA_DISK_BYTES, IMAGE_FILES};
pub use destroy::{destroy, destroy_state, wait_vms_exit};
pub use error::QemuClusterError;
pub use net::mac_for;
pub use state::{is_qemu_cluster, load, QemuClusterState, VmState, PROVISIONER};

pub use crate::container::{ClusterPlan, DestroyReport, NodePlan, Role};
