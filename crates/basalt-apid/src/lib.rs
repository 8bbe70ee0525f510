//! apid: the mutual-TLS gateway in front of machined.
//!
//! apid listens on `:50000` with TLS 1.3 only. Clients authenticate with a
//! certificate from the OS CA (`machine.ca`) or an accepted CA; their roles come
//! from the certificate's Organization ([`identity`]) and every call is checked
//! against the one [`policy`] table. The server certificate is issued locally
//! from `machine.ca` and rotated at half-life ([`tls::resolver`]). Without a
//! config (maintenance mode) apid serves with a self-signed certificate whose
//! fingerprint it prints. apid reads the machine config from machined's socket
//! ([`config_source`]); it never reads STATE.

pub mod args;
pub mod certs;
pub mod config_source;
pub mod console;
pub mod entry;
pub mod identity;
pub mod node_pki;
pub mod policy;
pub mod proxy;
pub mod server;
pub mod tls;
pub mod trustd_client;
pub mod worker;

pub use entry::main;
