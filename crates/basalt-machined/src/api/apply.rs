//! `ApplyConfiguration`: checks the caller and the request, then hands it to the machine's
//! [`ConfigApplier`](crate::machine::config_apply::ConfigApplier).
//!
//! Admin only, except in maintenance mode (no config yet), where whoever reaches machined may
//! push the first config (apid decides who reaches it: anyone, or holders of a certificate
//! from the pinned maintenance CA).

use std::time::Duration;

use basalt_api::machine as m;
use m::apply_configuration_request::Mode as WireMode;
use tonic::Status;

use super::handle::{ApiHandle, Caller};
use super::status::IntoStatus;
use crate::machine::config_apply::{ApplyMode, ApplyRequest};

/// Applies the config of `req`.
pub async fn apply(
    handle: &ApiHandle,
    caller: &Caller,
    req: m::ApplyConfigurationRequest,
) -> Result<m::ApplyConfigurationResponse, Status> {
    let Some(applier) = handle.power.config_applier() else {
        return Err(Status::unimplemented(
            "this machine cannot apply configs (no config applier is attached)",
        ));
    };
    if applier.has_config() && !caller.is_admin() {
        return Err(Status::permission_denied(format!(
            "ApplyConfiguration needs role os:admin; the caller has {}; use a client certificate with os:admin",
            roles(caller)
        )));
    }
    let mode = match WireMode::try_from(req.mode) {
        Ok(mode) => from_wire(mode),
        Err(_) => {
            return Err(Status::invalid_argument(format!(
            "unknown apply mode {}; use REBOOT (0), AUTO (1), NO_REBOOT (2), STAGED (3) or TRY (4)",
            req.mode
        )))
        }
    };
    let try_timeout = match req.try_mode_timeout {
        None => None,
        Some(d) if d.seconds == 0 && d.nanos == 0 => None,
        Some(d) => Some(Duration::try_from(d).map_err(|e| {
            Status::invalid_argument(format!("try_mode_timeout must be a positive duration: {e}"))
        })?),
    };
    let applied = applier
        .apply(ApplyRequest {
            data: req.data,
            mode,
            dry_run: req.dry_run,
            try_timeout,
        })
        .await
        .map_err(IntoStatus::into_status)?;
    Ok(m::ApplyConfigurationResponse {
        messages: vec![m::ApplyConfiguration {
            metadata: handle.metadata(),
            warnings: applied.warnings,
            mode: to_wire(applied.mode) as i32,
            mode_details: applied.details,
        }],
    })
}

/// The caller's roles as printed in messages.
pub(super) fn roles(caller: &Caller) -> String {
    if caller.roles.is_empty() {
        return "no role".to_string();
    }
    let names: Vec<&str> = caller.roles.iter().map(|r| r.name()).collect();
    names.join(", ")
}

fn from_wire(mode: WireMode) -> ApplyMode {
    match mode {
        WireMode::Reboot => ApplyMode::Reboot,
        WireMode::Auto => ApplyMode::Auto,
        WireMode::NoReboot => ApplyMode::NoReboot,
        WireMode::Staged => ApplyMode::Staged,
        WireMode::Try => ApplyMode::Try,
    }
}

fn to_wire(mode: ApplyMode) -> WireMode {
    match mode {
        ApplyMode::Reboot => WireMode::Reboot,
        ApplyMode::Auto => WireMode::Auto,
        ApplyMode::NoReboot => WireMode::NoReboot,
        ApplyMode::Staged => WireMode::Staged,
        ApplyMode::Try => WireMode::Try,
    }
}
