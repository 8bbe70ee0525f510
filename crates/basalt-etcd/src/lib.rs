//! etcd for Basalt control-plane nodes: per-node certificates from the etcd CA ([`pki`]),
//! etcd 3.4's command line ([`args`]), an mTLS gRPC client ([`client`]), joining as a
//! learner and promotion ([`join`]), and bootstrap checks + snapshot restore ([`bootstrap`]).
//!
//! See `docs/etcd.md`.

pub mod args;
pub mod bootstrap;
pub mod client;
mod error;
mod files;
pub mod join;
pub mod pki;
pub mod proto;

pub use error::EtcdError;
