//! Provisioning helpers for Basalt.
//!
//! [`qemu`], a small typed wrapper around `qemu-system-x86_64` used by the boot tests;
//! [`container`], local clusters of container-mode nodes behind `basaltctl cluster create`;
//! [`qemu_cluster`], local clusters of QEMU VMs on a bridge with taps
//! (`basaltctl cluster create --provisioner qemu`).

pub mod container;
pub mod qemu;
pub mod qemu_cluster;
