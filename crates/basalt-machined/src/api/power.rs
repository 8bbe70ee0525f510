//! `Reboot` and `Shutdown`: hand the request to [`PowerControl`](super::PowerControl) and
//! answer as soon as the sequence is accepted; a refusal (another sequence holds the lock) is
//! ABORTED with the sequencer's message.
//!
//! Reboot modes POWERCYCLE and FORCE, and Shutdown's `force`, run the same sequences as the
//! default for now (there is no kexec or drain to skip yet).

use basalt_api::machine as m;
use tonic::Status;

use super::handle::ApiHandle;
use super::status::IntoStatus;

/// Starts the reboot sequence.
pub fn reboot(handle: &ApiHandle, req: &m::RebootRequest) -> Result<m::RebootResponse, Status> {
    if m::reboot_request::Mode::try_from(req.mode).is_err() {
        return Err(Status::invalid_argument(format!(
            "unknown reboot mode {}; use DEFAULT (0), POWERCYCLE (1) or FORCE (2)",
            req.mode
        )));
    }
    handle.power.reboot().map_err(IntoStatus::into_status)?;
    Ok(m::RebootResponse {
        messages: vec![m::Reboot {
            metadata: handle.metadata(),
            actor_id: String::new(),
        }],
    })
}

/// Starts the shutdown sequence.
pub fn shutdown(handle: &ApiHandle) -> Result<m::ShutdownResponse, Status> {
    handle.power.shutdown().map_err(IntoStatus::into_status)?;
    Ok(m::ShutdownResponse {
        messages: vec![m::Shutdown {
            metadata: handle.metadata(),
            actor_id: String::new(),
        }],
    })
}
