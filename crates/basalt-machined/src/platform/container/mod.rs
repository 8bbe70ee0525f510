//! Container mode: the launcher that makes a node out of fresh namespaces.
//!
//! `basalt launch --root DIR [--root-image FILE] [--netns PATH] --state DIR --ephemeral DIR
//! [--hostname H] [--config FILE] [--socket-dir DIR] [--exe PATH]`, as root:
//!
//! 1. block SIGTERM, SIGINT and SIGCHLD (taken with `sigwait` later; the child inherits
//!    the mask and machined clears it first thing, see `pid1::reset_signal_mask`);
//! 2. with `--netns PATH` join that network namespace (`setns`; the provisioner made it with
//!    `ip netns add` and moved the node's `eth0` into it before the launch, so the link is
//!    there when machined configures it); `unshare` mount, pid, uts and ipc namespaces (and
//!    net, without `--netns`); make every mount private; with `--root-image FILE` attach the
//!    SquashFS read-only to a loop device and mount it (read-only) on DIR, which is then only
//!    a mount point (the loop device is detached at once and vanishes with the namespace);
//! 3. build the root ([`rootfs`]): DIR bound on itself and made read-only, tmpfs on `/run`,
//!    `/tmp`, `/system`; STATE bound on `/system/state`, EPHEMERAL on `/var`, the socket dir on
//!    `/system/run/machined`; a tmpfs `/dev` holding only null, zero, full, random, urandom
//!    and tty (bound from the host), `/dev/shm` and the `/proc/self/fd` links;
//! 4. `pivot_root` into it (the `pivot_root(".", ".")` way, so the read-only root needs no
//!    spare directory), detach the old root, set the hostname;
//! 5. spawn `EXE machined --platform container [basalt.config=/run/basalt/config.yaml]`:
//!    it is PID 1 of the new pid namespace. EXE (default `/usr/bin/basalt`) must exist in
//!    DIR: the launcher copies nothing into the image. `--config FILE` is a host file; the
//!    launcher copies it to `/run/basalt/config.yaml` (tmpfs) inside the node.
//! 6. print `machined pid <host pid>` on stdout, forward SIGTERM/SIGINT to the child, and
//!    exit with its status (128 + signal when it was killed).
//!
//! DIR must already contain the mount points `proc sys dev run tmp system var` (an image
//! has them; the launcher never writes into DIR).

mod args;
mod launch;
pub mod rootfs;

pub use args::LaunchOptions;
pub use launch::{launch, main, LaunchError};
