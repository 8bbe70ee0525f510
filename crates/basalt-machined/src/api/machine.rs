//! The `machine.MachineService` implementation: each RPC delegates to its group's module.

use basalt_api::common::Data;
use basalt_api::machine::{self as m, machine_service_server::MachineService};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::cosi_state::BoxStream;
use super::handle::ApiHandle;
use super::handle::Caller;
use super::{apply, client_config, dmesg, etcd, events, logs, power, reset, services, version};

/// The machine service.
#[derive(Clone, Debug)]
pub struct Machine {
    handle: ApiHandle,
    shutdown: CancellationToken,
}

impl Machine {
    /// A machine service serving `handle`; open streams end when `shutdown` fires.
    pub fn new(handle: ApiHandle, shutdown: CancellationToken) -> Self {
        Machine { handle, shutdown }
    }
}

#[tonic::async_trait]
impl MachineService for Machine {
    type DmesgStream = BoxStream<Data>;
    type EventsStream = BoxStream<m::Event>;
    type LogsStream = BoxStream<Data>;
    type EtcdSnapshotStream = BoxStream<Data>;

    async fn apply_configuration(
        &self,
        request: Request<m::ApplyConfigurationRequest>,
    ) -> Result<Response<m::ApplyConfigurationResponse>, Status> {
        let caller = Caller::of(&request);
        apply::apply(&self.handle, &caller, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn generate_client_configuration(
        &self,
        request: Request<m::GenerateClientConfigurationRequest>,
    ) -> Result<Response<m::GenerateClientConfigurationResponse>, Status> {
        let caller = Caller::of(&request);
        client_config::generate(&self.handle, &caller, request.get_ref()).map(Response::new)
    }

    async fn dmesg(
        &self,
        request: Request<m::DmesgRequest>,
    ) -> Result<Response<Self::DmesgStream>, Status> {
        dmesg::dmesg(&self.handle, request.get_ref(), self.shutdown.clone()).map(Response::new)
    }

    async fn events(
        &self,
        request: Request<m::EventsRequest>,
    ) -> Result<Response<Self::EventsStream>, Status> {
        events::events(&self.handle, request.get_ref(), self.shutdown.clone()).map(Response::new)
    }

    async fn hostname(&self, _: Request<()>) -> Result<Response<m::HostnameResponse>, Status> {
        Ok(Response::new(version::hostname(&self.handle)))
    }

    async fn logs(
        &self,
        request: Request<m::LogsRequest>,
    ) -> Result<Response<Self::LogsStream>, Status> {
        logs::logs(&self.handle, request.get_ref(), self.shutdown.clone()).map(Response::new)
    }

    async fn reboot(
        &self,
        request: Request<m::RebootRequest>,
    ) -> Result<Response<m::RebootResponse>, Status> {
        power::reboot(&self.handle, request.get_ref()).map(Response::new)
    }

    async fn reset(
        &self,
        request: Request<m::ResetRequest>,
    ) -> Result<Response<m::ResetResponse>, Status> {
        reset::reset(&self.handle, request.get_ref()).map(Response::new)
    }

    async fn service_list(
        &self,
        _: Request<()>,
    ) -> Result<Response<m::ServiceListResponse>, Status> {
        Ok(Response::new(services::list(&self.handle)))
    }

    async fn service_restart(
        &self,
        request: Request<m::ServiceRestartRequest>,
    ) -> Result<Response<m::ServiceRestartResponse>, Status> {
        services::restart(&self.handle, &request.get_ref().id)
            .await
            .map(Response::new)
    }

    async fn service_start(
        &self,
        request: Request<m::ServiceStartRequest>,
    ) -> Result<Response<m::ServiceStartResponse>, Status> {
        services::start(&self.handle, &request.get_ref().id)
            .await
            .map(Response::new)
    }

    async fn service_stop(
        &self,
        request: Request<m::ServiceStopRequest>,
    ) -> Result<Response<m::ServiceStopResponse>, Status> {
        services::stop(&self.handle, &request.get_ref().id)
            .await
            .map(Response::new)
    }

    async fn shutdown(
        &self,
        _: Request<m::ShutdownRequest>,
    ) -> Result<Response<m::ShutdownResponse>, Status> {
        power::shutdown(&self.handle).map(Response::new)
    }

    async fn version(&self, _: Request<()>) -> Result<Response<m::VersionResponse>, Status> {
        Ok(Response::new(version::version(&self.handle)))
    }

    async fn bootstrap(
        &self,
        request: Request<m::BootstrapRequest>,
    ) -> Result<Response<m::BootstrapResponse>, Status> {
        etcd::bootstrap(&self.handle, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn etcd_member_list(
        &self,
        request: Request<m::EtcdMemberListRequest>,
    ) -> Result<Response<m::EtcdMemberListResponse>, Status> {
        etcd::member_list(&self.handle, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn etcd_remove_member_by_id(
        &self,
        request: Request<m::EtcdRemoveMemberByIdRequest>,
    ) -> Result<Response<m::EtcdRemoveMemberByIdResponse>, Status> {
        etcd::remove_member(&self.handle, request.get_ref().member_id)
            .await
            .map(Response::new)
    }

    async fn etcd_leave_cluster(
        &self,
        _: Request<m::EtcdLeaveClusterRequest>,
    ) -> Result<Response<m::EtcdLeaveClusterResponse>, Status> {
        etcd::leave(&self.handle).await.map(Response::new)
    }

    async fn etcd_forfeit_leadership(
        &self,
        _: Request<m::EtcdForfeitLeadershipRequest>,
    ) -> Result<Response<m::EtcdForfeitLeadershipResponse>, Status> {
        etcd::forfeit_leadership(&self.handle)
            .await
            .map(Response::new)
    }

    async fn etcd_recover(
        &self,
        request: Request<tonic::Streaming<Data>>,
    ) -> Result<Response<m::EtcdRecoverResponse>, Status> {
        etcd::recover_upload(&self.handle, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn etcd_snapshot(
        &self,
        _: Request<m::EtcdSnapshotRequest>,
    ) -> Result<Response<Self::EtcdSnapshotStream>, Status> {
        etcd::snapshot(&self.handle).await.map(Response::new)
    }

    async fn etcd_alarm_list(
        &self,
        _: Request<()>,
    ) -> Result<Response<m::EtcdAlarmListResponse>, Status> {
        etcd::alarm_list(&self.handle).await.map(Response::new)
    }

    async fn etcd_alarm_disarm(
        &self,
        _: Request<()>,
    ) -> Result<Response<m::EtcdAlarmDisarmResponse>, Status> {
        etcd::alarm_disarm(&self.handle).await.map(Response::new)
    }

    async fn etcd_defragment(
        &self,
        _: Request<()>,
    ) -> Result<Response<m::EtcdDefragmentResponse>, Status> {
        etcd::defragment(&self.handle).await.map(Response::new)
    }

    async fn etcd_status(&self, _: Request<()>) -> Result<Response<m::EtcdStatusResponse>, Status> {
        etcd::status(&self.handle).await.map(Response::new)
    }
}
