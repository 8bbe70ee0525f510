//! trustd: the certificate signer of a Basalt cluster, on `:50001` of control-plane
//! nodes only.
//!
//! A worker has `machine.ca.crt` but not its key, so it cannot issue apid's server
//! certificate itself. It sends a certificate signing request to trustd
//! (`securityapi.SecurityService/Certificate`, Talos's wire format) with the cluster's
//! `machine.token` as gRPC metadata `token`. trustd checks the token in constant time
//! ([`token`]), and the OS CA signs under a fixed profile ([`signing`]): ServerAuth
//! only, no Organization (so the certificate can never act as a client, whatever roles
//! it asks for), DNS/IP SANs from the request. Every refusal is logged with the peer's
//! address, never with the token.
//!
//! trustd speaks TLS 1.3 with a server certificate issued from `machine.ca` for the
//! node's names and asks for no client certificate (workers have none yet). It reuses
//! apid's TLS accept loop, certificate helpers and machine-config reader
//! (`basalt_apid::{server, certs, config_source}`); the client that workers use lives
//! in `basalt_apid::trustd_client` and is re-exported here as [`client`].

pub mod args;
pub mod entry;
pub mod service;
pub mod signing;
pub mod token;

/// The client side (used by apid on workers): [`client::request_certificate`].
pub use basalt_apid::trustd_client as client;
pub use entry::main;
