//! apid's TLS: the server configuration and the rotating server certificate.

pub mod client;
pub mod resolver;
pub mod server;
pub mod verifier;
