//! machined's local API: `machine.MachineService` and COSI `cosi.resource.State` served on a
//! unix socket (normally [`SOCKET_PATH`]), wire-compatible with Talos.
//!
//! - [`serve`] builds the tonic router with both services and runs it until shutdown.
//! - [`ApiHandle`] is what the server serves from; [`PowerControl`] starts reboot/shutdown.
//! - Every request carries a [`Caller`]: the roles of the `x-basalt-roles` header that apid
//!   sets on every call it passes on ([`ROLES_HEADER`]); without the header the caller is
//!   a local administrator (the socket is root-only).
//! - Errors become statuses in one place, [`status`]; every reply carries
//!   `common.Metadata { hostname }`.
//! - Requests larger than [`MAX_REQUEST_BYTES`] are refused with OUT_OF_RANGE (tonic's code for it).

mod apply;
mod client_config;
mod cluster;
mod cosi_convert;
mod cosi_state;
mod cosi_watch;
mod dmesg;
mod etcd;
mod events;
mod handle;
mod logs;
mod machine;
mod power;
mod reset;
mod services;
pub mod status;
mod version;

use std::path::Path;

use basalt_api::cluster::cluster_service_server::ClusterServiceServer;
use basalt_api::cosi::resource::state_server::StateServer;
use basalt_api::machine::machine_service_server::MachineServiceServer;
use basalt_api::transport::{serve_unix, TransportError};
use tokio_util::sync::CancellationToken;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::Router;

pub use cosi_convert::{all_aliases, display_type, resource_to_proto};
pub use cosi_state::CosiState;
pub use cosi_watch::{bookmark, decode_bookmark};
pub use dmesg::format_record;
pub use events::{event_id, payload};
pub use handle::{ApiHandle, Caller, NodeInfo, PowerControl, Role, KMSG_PATH, MACHINED_LOG_ID};
pub use machine::Machine;
pub use version::version_info;

/// The gRPC metadata carrying the original caller's roles (set by apid).
pub const ROLES_HEADER: &str = "x-basalt-roles";

/// Where machined serves its local API.
pub const SOCKET_PATH: &str = "/system/run/machined/machine.sock";

/// Largest request message accepted (4 MiB).
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The router serving both services for `handle`; streams end when `shutdown` fires. Every
/// request gets its [`Caller`] from [`ROLES_HEADER`] (absent: [`Caller::local_admin`]).
pub fn router(handle: ApiHandle, shutdown: CancellationToken) -> Router {
    let machine = MachineServiceServer::new(Machine::new(handle.clone(), shutdown.clone()))
        .max_decoding_message_size(MAX_REQUEST_BYTES);
    let cluster = ClusterServiceServer::new(cluster::Cluster::new(handle.clone()))
        .max_decoding_message_size(MAX_REQUEST_BYTES);
    let state = StateServer::new(CosiState::new(handle, shutdown))
        .max_decoding_message_size(MAX_REQUEST_BYTES);
    tonic::transport::Server::builder()
        .add_service(InterceptedService::new(machine, local_caller))
        .add_service(InterceptedService::new(state, local_caller))
        .add_service(InterceptedService::new(cluster, local_caller))
}

/// Attaches the request's [`Caller`]: the roles of [`ROLES_HEADER`] when present (only root
/// and apid reach the socket), else a local administrator.
fn local_caller(mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
    let caller = match request.metadata().get(ROLES_HEADER) {
        Some(value) => Caller::from_roles_header(value.to_str().unwrap_or_default()),
        None => Caller::local_admin(),
    };
    request.extensions_mut().insert(caller);
    Ok(request)
}

/// Serves the API on the unix socket `socket` (parent directories created mode 0700, socket
/// mode 0600, a stale socket replaced) until `shutdown` is cancelled; open streams (followed
/// logs, watches, events) end then too.
pub async fn serve(
    handle: ApiHandle,
    socket: &Path,
    shutdown: CancellationToken,
) -> Result<(), TransportError> {
    let router = router(handle, shutdown.clone());
    serve_unix(socket, router, shutdown.cancelled_owned()).await
}
