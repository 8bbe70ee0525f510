//! `Logs`: a service's log (or machined's own, as service `machined`) as `common.Data`
//! chunks of `\n`-terminated lines.
//!
//! `tail_lines`: negative sends every kept line, 0 none, N the last N; with `follow` new lines
//! keep coming until the client goes away or the API shuts down. Only system services are
//! served: namespace `""` or `system`, driver CONTAINERD.

use basalt_api::common::{ContainerDriver, Data};
use basalt_api::machine::LogsRequest;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use super::cosi_state::BoxStream;
use super::handle::{ApiHandle, MACHINED_LOG_ID};
use super::status::IntoStatus;
use crate::logs::LogStream;

/// At most this many lines go into one `Data` chunk.
const LINES_PER_CHUNK: usize = 256;

/// The containerd namespace Talos clients name for system services.
const SYSTEM_NAMESPACE: &str = "system";

/// The log stream a request asks for.
pub fn logs(
    handle: &ApiHandle,
    req: &LogsRequest,
    shutdown: CancellationToken,
) -> Result<BoxStream<Data>, Status> {
    if req.driver == ContainerDriver::Cri as i32 {
        return Err(Status::unimplemented(
            "logs of CRI (Kubernetes) containers are not served yet; only system services are \
             (driver CONTAINERD, namespace \"system\")",
        ));
    }
    if !req.namespace.is_empty() && req.namespace != SYSTEM_NAMESPACE {
        return Err(Status::unimplemented(format!(
            "containerd namespace {:?} is not served yet; only system services are (namespace \
             \"system\")",
            req.namespace
        )));
    }
    let tail = usize::try_from(req.tail_lines).ok();
    let lines: LogStream = match (&handle.machined_log, req.id.as_str()) {
        (Some(log), MACHINED_LOG_ID) => log.stream(tail, req.follow),
        _ => handle
            .supervisor
            .logs(&req.id, tail, req.follow)
            .map_err(IntoStatus::into_status)?,
    };
    let metadata = handle.metadata();
    let chunks = lines.ready_chunks(LINES_PER_CHUNK).map(move |batch| {
        let mut bytes = Vec::with_capacity(batch.iter().map(|l| l.len() + 1).sum());
        for line in batch {
            bytes.extend_from_slice(&line);
            bytes.push(b'\n');
        }
        Ok(Data {
            metadata: metadata.clone(),
            bytes,
        })
    });
    Ok(Box::pin(chunks.take_until(shutdown.cancelled_owned())))
}
