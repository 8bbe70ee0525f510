//! `ServiceList`, `ServiceStart`, `ServiceStop`, `ServiceRestart` over the supervisor.
//!
//! Start returns once the service task is launched (watch `Events` or `ServiceList` for it to
//! reach Running); Stop returns once the process is gone; Restart does both. An unknown id is
//! NOT_FOUND with the list of known services.

use std::time::SystemTime;

use basalt_api::machine as m;
use tonic::Status;

use super::handle::ApiHandle;
use super::status::IntoStatus;
use crate::events::HealthStatus;
use crate::supervisor::ServiceInfo;

/// Every service with its state, recent transitions and health.
pub fn list(handle: &ApiHandle) -> m::ServiceListResponse {
    m::ServiceListResponse {
        messages: vec![m::ServiceList {
            metadata: handle.metadata(),
            services: handle.supervisor.list().iter().map(service_info).collect(),
        }],
    }
}

fn service_info(info: &ServiceInfo) -> m::ServiceInfo {
    m::ServiceInfo {
        id: info.id.clone(),
        state: info.state.as_str().to_string(),
        events: Some(m::ServiceEvents {
            events: info
                .events
                .iter()
                .map(|e| m::ServiceEvent {
                    msg: e.message.clone(),
                    state: e.state.as_str().to_string(),
                    ts: Some(e.ts.into()),
                })
                .collect(),
        }),
        health: Some(health(&info.health)),
    }
}

/// A health status on the wire.
pub fn health(h: &HealthStatus) -> m::ServiceHealth {
    m::ServiceHealth {
        unknown: h.unknown,
        healthy: h.healthy,
        last_message: h.last_message.clone(),
        last_change: h.last_change.map(SystemTime::into),
    }
}

fn require_id(id: &str) -> Result<(), Status> {
    if id.is_empty() {
        return Err(Status::invalid_argument(
            "no service id given; name one of the services ServiceList shows",
        ));
    }
    Ok(())
}

/// Starts service `id`.
pub async fn start(handle: &ApiHandle, id: &str) -> Result<m::ServiceStartResponse, Status> {
    require_id(id)?;
    handle
        .supervisor
        .start(id)
        .await
        .map_err(IntoStatus::into_status)?;
    Ok(m::ServiceStartResponse {
        messages: vec![m::ServiceStart {
            metadata: handle.metadata(),
            resp: format!("Service {id:?} started"),
        }],
    })
}

/// Stops service `id`.
pub async fn stop(handle: &ApiHandle, id: &str) -> Result<m::ServiceStopResponse, Status> {
    require_id(id)?;
    handle
        .supervisor
        .stop(id)
        .await
        .map_err(IntoStatus::into_status)?;
    Ok(m::ServiceStopResponse {
        messages: vec![m::ServiceStop {
            metadata: handle.metadata(),
            resp: format!("Service {id:?} stopped"),
        }],
    })
}

/// Restarts service `id`.
pub async fn restart(handle: &ApiHandle, id: &str) -> Result<m::ServiceRestartResponse, Status> {
    require_id(id)?;
    handle
        .supervisor
        .restart(id)
        .await
        .map_err(IntoStatus::into_status)?;
    Ok(m::ServiceRestartResponse {
        messages: vec![m::ServiceRestart {
            metadata: handle.metadata(),
            resp: format!("Service {id:?} restarted"),
        }],
    })
}
