//! The connection to machined's local API (`--socket PATH`), and the one place where
//! gRPC failures become user-facing errors.
//!
//! Commands are synchronous functions; each runs its async body with [`block_on`] on a
//! single-threaded runtime (every call is short, streams are read one message at a time).

use std::future::Future;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _};
use basalt_api::common;
use basalt_api::cosi::resource::state_client::StateClient;
use basalt_api::machine::machine_service_client::MachineServiceClient;
use basalt_api::transport::connect_unix;
use tonic::transport::Channel;

use crate::global::GlobalArgs;

/// Why a command that needs the API cannot run without `--socket`.
pub const NO_SOCKET: &str = "no --socket given; network (mTLS) access arrives with apid";

/// Runs `body` to completion on a fresh single-threaded runtime.
pub fn block_on<T>(body: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(body)
}

/// Clients of the two services machined serves on its local socket.
#[derive(Debug, Clone)]
pub struct Client {
    /// `machine.MachineService`.
    pub machine: MachineServiceClient<Channel>,
    /// `cosi.resource.State` (resources: get, list, watch).
    pub state: StateClient<Channel>,
    socket: PathBuf,
}

impl Client {
    /// Connects to the socket named by `--socket` (or `$BASALT_SOCKET`).
    pub async fn connect(global: &GlobalArgs) -> anyhow::Result<Self> {
        let socket = socket_path(global)?;
        let channel = connect_unix(socket)
            .await
            .with_context(|| "cannot reach machined".to_string())?;
        Ok(Self {
            machine: MachineServiceClient::new(channel.clone()),
            state: StateClient::new(channel),
            socket: socket.to_path_buf(),
        })
    }

    /// The name shown in NODE columns: the hostname a reply's metadata carries, else
    /// the node's hostname (asked with the Hostname RPC), else the socket path.
    pub async fn node_name(&mut self, metadata: Option<&common::Metadata>) -> String {
        if let Some(hostname) = metadata
            .map(|m| m.hostname.as_str())
            .filter(|h| !h.is_empty())
        {
            return hostname.to_string();
        }
        let asked = self.machine.hostname(()).await.ok().and_then(|reply| {
            reply
                .into_inner()
                .messages
                .into_iter()
                .next()
                .map(|m| m.hostname)
        });
        match asked {
            Some(hostname) if !hostname.is_empty() => hostname,
            _ => self.socket.display().to_string(),
        }
    }
}

/// The socket path from `--socket`/`$BASALT_SOCKET`, or the error saying how to give one.
pub fn socket_path(global: &GlobalArgs) -> anyhow::Result<&Path> {
    global.socket.as_deref().ok_or_else(|| {
        anyhow!(
            "{NO_SOCKET}; pass --socket PATH (or set BASALT_SOCKET) to use machined's \
             local socket, e.g. /system/run/machined/machine.sock"
        )
    })
}

/// One line for a failed call: `<what>: <server message> (<status code>)`.
pub fn status_error(what: &str, status: &tonic::Status) -> anyhow::Error {
    let message = match status.message() {
        "" => "the server gave no reason",
        message => message,
    };
    anyhow!("{what}: {message} ({:?})", status.code())
}

/// Fails with the node's error when a reply's metadata says the request failed there.
pub fn check_metadata(what: &str, metadata: Option<&common::Metadata>) -> anyhow::Result<()> {
    match metadata {
        Some(m) if !m.error.is_empty() => {
            let code = m
                .status
                .as_ref()
                .map(|s| format!(" ({:?})", tonic::Code::from_i32(s.code)))
                .unwrap_or_default();
            Err(anyhow!("{what}: {}{code}", m.error))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn status_error_is_one_line_with_message_and_code() {
        let status = tonic::Status::not_found("service \"nope\" is not defined");
        let err = status_error("cannot restart service \"nope\"", &status);
        assert_eq!(
            err.to_string(),
            "cannot restart service \"nope\": service \"nope\" is not defined (NotFound)"
        );
        let err = status_error("cannot list services", &tonic::Status::unavailable(""));
        assert_eq!(
            err.to_string(),
            "cannot list services: the server gave no reason (Unavailable)"
        );
    }

    #[test]
    fn metadata_error_fails_and_empty_metadata_passes() {
        assert!(check_metadata("x", None).is_ok());
        assert!(check_metadata("x", Some(&common::Metadata::default())).is_ok());
        let failed = common::Metadata {
            error: "disk full".into(),
            status: Some(basalt_api::google::rpc::Status {
                code: 13,
                ..Default::default()
            }),
            ..Default::default()
        };
        let err = check_metadata("cannot reboot", Some(&failed)).unwrap_err();
        assert_eq!(err.to_string(), "cannot reboot: disk full (Internal)");
    }
}
