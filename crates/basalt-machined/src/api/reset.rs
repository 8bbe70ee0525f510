//! `Reset`: checks the request, hands it to [`PowerControl::reset`](super::PowerControl::reset)
//! and answers as soon as the sequence is accepted. A bad request (unknown label, user disks,
//! wipe mode USER_DISKS) is INVALID_ARGUMENT; a refusal (another sequence holds the lock) is
//! ABORTED with the sequencer's message.

use basalt_api::machine as m;
use tonic::Status;

use super::handle::ApiHandle;
use super::status::IntoStatus;
use crate::sequencer::ResetOptions;

/// The options a `ResetRequest` asks for.
pub fn options(req: &m::ResetRequest) -> Result<ResetOptions, Status> {
    match m::reset_request::WipeMode::try_from(req.mode) {
        Ok(m::reset_request::WipeMode::All | m::reset_request::WipeMode::SystemDisk) => {}
        Ok(m::reset_request::WipeMode::UserDisks) => {
            return Err(Status::invalid_argument(
                "reset: wipe mode USER_DISKS is not supported: Basalt manages only its system \
                 partitions; use ALL or SYSTEM_DISK",
            ))
        }
        Err(_) => {
            return Err(Status::invalid_argument(format!(
                "reset: unknown wipe mode {}; use ALL (0) or SYSTEM_DISK (1)",
                req.mode
            )))
        }
    }
    let labels: Vec<String> = req
        .system_partitions_to_wipe
        .iter()
        .map(|p| p.label.clone())
        .collect();
    ResetOptions::new(req.graceful, req.reboot, &labels, &req.user_disks_to_wipe)
        .map_err(|e| Status::invalid_argument(e.to_string()))
}

/// Starts the reset sequence.
pub fn reset(handle: &ApiHandle, req: &m::ResetRequest) -> Result<m::ResetResponse, Status> {
    let options = options(req)?;
    crate::pid1::console::log(format_args!("reset requested over the API: {options}"));
    handle
        .power
        .reset(options)
        .map_err(IntoStatus::into_status)?;
    Ok(m::ResetResponse {
        messages: vec![m::Reset {
            metadata: handle.metadata(),
            actor_id: String::new(),
        }],
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::sequencer::SystemLabel;

    fn spec(label: &str) -> m::ResetPartitionSpec {
        m::ResetPartitionSpec {
            label: label.to_string(),
            wipe: true,
        }
    }

    #[test]
    fn request_fields_become_options() {
        let o = options(&m::ResetRequest {
            graceful: true,
            reboot: true,
            system_partitions_to_wipe: vec![spec("EPHEMERAL")],
            ..Default::default()
        })
        .unwrap();
        assert!(o.graceful && o.reboot);
        assert_eq!(o.wipe, vec![SystemLabel::Ephemeral]);
        let o = options(&m::ResetRequest::default()).unwrap();
        assert_eq!(o.wipe, SystemLabel::ALL.to_vec());
    }

    #[test]
    fn unsupported_requests_are_invalid_arguments() {
        let bad = [
            m::ResetRequest {
                system_partitions_to_wipe: vec![spec("META")],
                ..Default::default()
            },
            m::ResetRequest {
                user_disks_to_wipe: vec!["/dev/sdb".into()],
                ..Default::default()
            },
            m::ResetRequest {
                mode: m::reset_request::WipeMode::UserDisks.into(),
                ..Default::default()
            },
            m::ResetRequest {
                mode: 9,
                ..Default::default()
            },
        ];
        for req in bad {
            let status = options(&req).unwrap_err();
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{req:?}");
        }
    }
}
