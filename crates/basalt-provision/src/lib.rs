//! Provisioning helpers for Basalt.
//!
//! Today: [`qemu`], a small typed wrapper around `qemu-system-x86_64` used by the boot tests
//! and, later, by `basaltctl cluster create --provisioner qemu`.

pub mod qemu;
