//! A tiny MachineService for transport tests: Version and Logs work, the rest
//! answer UNIMPLEMENTED.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use basalt_api::common::Data;
use basalt_api::machine::machine_service_server::{MachineService, MachineServiceServer};
use basalt_api::machine::{self as m, Event};
use futures::{stream, Stream, StreamExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::{Request, Response, Status};

/// The log of the only service the test server knows.
pub const LOG_LINES: [&str; 3] = ["line one\n", "line two\n", "line three\n"];
/// The only service the test server knows.
pub const SERVICE: &str = "apid";

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// The test implementation.
#[derive(Debug, Default)]
pub struct TestMachine;

fn data(bytes: &str) -> Data {
    Data {
        metadata: None,
        bytes: bytes.as_bytes().to_vec(),
    }
}

#[tonic::async_trait]
impl MachineService for TestMachine {
    type DmesgStream = BoxStream<Data>;
    type EventsStream = BoxStream<Event>;
    type LogsStream = BoxStream<Data>;
    type EtcdSnapshotStream = BoxStream<Data>;

    async fn apply_configuration(
        &self,
        _: Request<m::ApplyConfigurationRequest>,
    ) -> Result<Response<m::ApplyConfigurationResponse>, Status> {
        Err(Status::unimplemented("apply_configuration"))
    }

    async fn generate_client_configuration(
        &self,
        _: Request<m::GenerateClientConfigurationRequest>,
    ) -> Result<Response<m::GenerateClientConfigurationResponse>, Status> {
        Err(Status::unimplemented("generate_client_configuration"))
    }

    async fn version(&self, _: Request<()>) -> Result<Response<m::VersionResponse>, Status> {
        Ok(Response::new(m::VersionResponse {
            messages: vec![m::Version {
                metadata: None,
                version: Some(m::VersionInfo {
                    tag: "v0.1.0".into(),
                    os: "linux".into(),
                    arch: "amd64".into(),
                    ..Default::default()
                }),
                platform: Some(m::PlatformInfo {
                    name: "container".into(),
                    mode: "container".into(),
                }),
                features: Some(m::FeaturesInfo { rbac: true }),
            }],
        }))
    }

    async fn logs(
        &self,
        req: Request<m::LogsRequest>,
    ) -> Result<Response<Self::LogsStream>, Status> {
        let req = req.into_inner();
        if req.id != SERVICE {
            return Err(Status::not_found(format!(
                "service {:?} is not known",
                req.id
            )));
        }
        let skip = match usize::try_from(req.tail_lines) {
            Ok(n) => LOG_LINES.len().saturating_sub(n),
            Err(_) => 0, // negative: everything
        };
        let existing = stream::iter(LOG_LINES.into_iter().skip(skip).map(|l| Ok(data(l))));
        if req.follow {
            // One more line later, then nothing more, ever: a followed log.
            let later = stream::once(async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(data("line four\n"))
            });
            Ok(Response::new(Box::pin(
                existing.chain(later).chain(stream::pending()),
            )))
        } else {
            Ok(Response::new(Box::pin(existing)))
        }
    }

    async fn dmesg(
        &self,
        _: Request<m::DmesgRequest>,
    ) -> Result<Response<Self::DmesgStream>, Status> {
        Err(Status::unimplemented("dmesg"))
    }
    async fn events(
        &self,
        _: Request<m::EventsRequest>,
    ) -> Result<Response<Self::EventsStream>, Status> {
        Err(Status::unimplemented("events"))
    }
    async fn hostname(&self, _: Request<()>) -> Result<Response<m::HostnameResponse>, Status> {
        Err(Status::unimplemented("hostname"))
    }
    async fn reboot(
        &self,
        _: Request<m::RebootRequest>,
    ) -> Result<Response<m::RebootResponse>, Status> {
        Err(Status::unimplemented("reboot"))
    }
    async fn service_list(
        &self,
        _: Request<()>,
    ) -> Result<Response<m::ServiceListResponse>, Status> {
        Err(Status::unimplemented("service list"))
    }
    async fn service_restart(
        &self,
        _: Request<m::ServiceRestartRequest>,
    ) -> Result<Response<m::ServiceRestartResponse>, Status> {
        Err(Status::unimplemented("service restart"))
    }
    async fn service_start(
        &self,
        _: Request<m::ServiceStartRequest>,
    ) -> Result<Response<m::ServiceStartResponse>, Status> {
        Err(Status::unimplemented("service start"))
    }
    async fn service_stop(
        &self,
        _: Request<m::ServiceStopRequest>,
    ) -> Result<Response<m::ServiceStopResponse>, Status> {
        Err(Status::unimplemented("service stop"))
    }
    async fn shutdown(
        &self,
        _: Request<m::ShutdownRequest>,
    ) -> Result<Response<m::ShutdownResponse>, Status> {
        Err(Status::unimplemented("shutdown"))
    }
    async fn reset(
        &self,
        _: Request<m::ResetRequest>,
    ) -> Result<Response<m::ResetResponse>, Status> {
        Err(Status::unimplemented("reset"))
    }
    async fn bootstrap(
        &self,
        _: Request<m::BootstrapRequest>,
    ) -> Result<Response<m::BootstrapResponse>, Status> {
        Err(Status::unimplemented("bootstrap"))
    }
    async fn etcd_member_list(
        &self,
        _: Request<m::EtcdMemberListRequest>,
    ) -> Result<Response<m::EtcdMemberListResponse>, Status> {
        Err(Status::unimplemented("etcd member list"))
    }
    async fn etcd_remove_member_by_id(
        &self,
        _: Request<m::EtcdRemoveMemberByIdRequest>,
    ) -> Result<Response<m::EtcdRemoveMemberByIdResponse>, Status> {
        Err(Status::unimplemented("etcd remove member"))
    }
    async fn etcd_leave_cluster(
        &self,
        _: Request<m::EtcdLeaveClusterRequest>,
    ) -> Result<Response<m::EtcdLeaveClusterResponse>, Status> {
        Err(Status::unimplemented("etcd leave"))
    }
    async fn etcd_forfeit_leadership(
        &self,
        _: Request<m::EtcdForfeitLeadershipRequest>,
    ) -> Result<Response<m::EtcdForfeitLeadershipResponse>, Status> {
        Err(Status::unimplemented("etcd forfeit leadership"))
    }
    async fn etcd_recover(
        &self,
        _: Request<tonic::Streaming<Data>>,
    ) -> Result<Response<m::EtcdRecoverResponse>, Status> {
        Err(Status::unimplemented("etcd recover"))
    }
    async fn etcd_snapshot(
        &self,
        _: Request<m::EtcdSnapshotRequest>,
    ) -> Result<Response<Self::EtcdSnapshotStream>, Status> {
        Err(Status::unimplemented("etcd snapshot"))
    }
    async fn etcd_alarm_list(
        &self,
        _: Request<()>,
    ) -> Result<Response<m::EtcdAlarmListResponse>, Status> {
        Err(Status::unimplemented("etcd alarm list"))
    }
    async fn etcd_alarm_disarm(
        &self,
        _: Request<()>,
    ) -> Result<Response<m::EtcdAlarmDisarmResponse>, Status> {
        Err(Status::unimplemented("etcd alarm disarm"))
    }
    async fn etcd_defragment(
        &self,
        _: Request<()>,
    ) -> Result<Response<m::EtcdDefragmentResponse>, Status> {
        Err(Status::unimplemented("etcd defragment"))
    }
    async fn etcd_status(&self, _: Request<()>) -> Result<Response<m::EtcdStatusResponse>, Status> {
        Err(Status::unimplemented("etcd status"))
    }
}

/// A running test server: stop it with `stop`, then await `task`.
pub struct Running {
    pub stop: oneshot::Sender<()>,
    pub task: JoinHandle<Result<(), basalt_api::transport::TransportError>>,
}

/// Starts the test server on `path` with the given shutdown grace and waits
/// until it listens.
pub async fn start(path: &Path, grace: Duration) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let router =
        tonic::transport::Server::builder().add_service(MachineServiceServer::new(TestMachine));
    let owned = path.to_path_buf();
    let task = tokio::spawn(async move {
        let signal = async {
            let _ = stopped.await;
        };
        basalt_api::transport::serve_unix_with_grace(&owned, router, signal, grace).await
    });
    // Ready once something accepts connections there (a stale file does not).
    for _ in 0..500 {
        if tokio::net::UnixStream::connect(path).await.is_ok() {
            return Running { stop, task };
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the server did not listen on {}", path.display());
}

/// Collects the bytes of a Data stream into a string.
pub async fn collect(mut stream: tonic::Streaming<Data>) -> String {
    let mut out = String::new();
    while let Some(item) = stream.next().await {
        out.push_str(std::str::from_utf8(&item.unwrap().bytes).unwrap());
    }
    out
}
