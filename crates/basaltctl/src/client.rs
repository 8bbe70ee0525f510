//! The connection to the Basalt API — machined's local unix socket (`--socket PATH`)
//! or apid over the network (mutual TLS, see [`network`]) — and the one place where
//! gRPC failures become user-facing errors.
//!
//! Commands are synchronous functions; each runs its async body with [`block_on`] on a
//! single-threaded runtime (every call is short, streams are read one message at a time).

mod connector;
pub mod endpoint;
pub mod explain;
mod network;
pub mod replies;
pub mod tls;
#[cfg(test)]
mod tls_tests;

use std::future::Future;
use std::path::PathBuf;

use anyhow::{anyhow, Context as _};
use basalt_api::common;
use basalt_api::cosi::resource::state_client::StateClient;
use basalt_api::machine::machine_service_client::MachineServiceClient;
use basalt_api::transport::connect_unix;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use tonic::transport::Channel;

use crate::global::GlobalArgs;
use endpoint::Endpoint;
pub use network::Plan;

/// Runs `body` to completion on a fresh single-threaded runtime.
pub fn block_on<T>(body: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(body)
}

/// The channel every client uses: each call carries the target metadata.
pub type Targeted = InterceptedService<Channel, Targets>;

/// Clients of the two services of the API.
#[derive(Debug, Clone)]
pub struct Client {
    /// `machine.MachineService`.
    pub machine: MachineServiceClient<Targeted>,
    /// `cosi.resource.State` (resources: get, list, watch).
    pub state: StateClient<Targeted>,
    channel: Channel,
    origin: Origin,
    targets: Targets,
}

/// Where the client is connected.
#[derive(Debug, Clone)]
enum Origin {
    /// machined's local socket.
    Socket(PathBuf),
    /// apid at this endpoint, asked to reach these nodes.
    Network {
        endpoint: Endpoint,
        nodes: Vec<String>,
    },
}

/// The gRPC metadata naming the target nodes: `nodes: a,b,c` (fan-out), `node: a`
/// (exactly one), or nothing (the endpoint answers itself).
#[derive(Debug, Clone, Default)]
pub struct Targets(Option<(&'static str, MetadataValue<Ascii>)>);

impl Targets {
    fn new(key: &'static str, nodes: &[String]) -> anyhow::Result<Self> {
        if nodes.is_empty() {
            return Ok(Self(None));
        }
        let joined = nodes.join(",");
        let value = joined
            .parse::<MetadataValue<Ascii>>()
            .map_err(|_| anyhow!("invalid node list {joined:?}: node names must be ASCII"))?;
        Ok(Self(Some((key, value))))
    }
}

impl Interceptor for Targets {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some((key, value)) = &self.0 {
            request.metadata_mut().insert(*key, value.clone());
        }
        Ok(request)
    }
}

impl Client {
    /// Connects to `--socket` (or `$BASALT_SOCKET`) when given, else over the network
    /// to the endpoints of `-e` or the context (see [`Plan::from_global`]).
    pub async fn connect(global: &GlobalArgs) -> anyhow::Result<Self> {
        if let Some(socket) = &global.socket {
            let channel = connect_unix(socket)
                .await
                .with_context(|| "cannot reach machined".to_string())?;
            return Ok(Self::build(
                channel,
                Origin::Socket(socket.clone()),
                Targets::default(),
            ));
        }
        let plan = Plan::from_global(global).context("cannot reach the Basalt API")?;
        let (channel, endpoint) = plan.open().await?;
        let targets = Targets::new("nodes", &plan.nodes)?;
        let origin = Origin::Network {
            endpoint,
            nodes: plan.nodes,
        };
        Ok(Self::build(channel, origin, targets))
    }

    fn build(channel: Channel, origin: Origin, targets: Targets) -> Self {
        Self {
            machine: MachineServiceClient::with_interceptor(channel.clone(), targets.clone()),
            state: StateClient::with_interceptor(channel.clone(), targets.clone()),
            channel,
            origin,
            targets,
        }
    }

    /// The nodes asked for with `-n` or the context (empty: the endpoint or socket itself).
    pub fn nodes(&self) -> &[String] {
        match &self.origin {
            Origin::Socket(_) => &[],
            Origin::Network { nodes, .. } => nodes,
        }
    }

    /// A client on the same connection whose calls go to exactly `node` (metadata
    /// `node`), for one-to-one APIs such as COSI resources.
    pub fn for_node(&self, node: &str) -> anyhow::Result<Self> {
        let targets = Targets::new("node", &[node.to_string()])?;
        Ok(Self::build(
            self.channel.clone(),
            self.origin.clone(),
            targets,
        ))
    }

    /// What a call is aimed at, for error messages: the `-n` nodes, else [`Self::node_name`].
    pub async fn target_label(&mut self) -> String {
        match self.nodes() {
            [] => self.node_name(None).await,
            nodes => nodes.join(","),
        }
    }

    /// The name shown in NODE columns: the hostname a reply's metadata carries, else
    /// the one node targeted, else the endpoint; on the socket, the node's hostname
    /// (asked with the Hostname RPC), else the socket path.
    pub async fn node_name(&mut self, metadata: Option<&common::Metadata>) -> String {
        if let Some(hostname) = metadata
            .map(|m| m.hostname.as_str())
            .filter(|h| !h.is_empty())
        {
            return hostname.to_string();
        }
        let socket = match &self.origin {
            Origin::Network { endpoint, nodes } => {
                return match (&self.targets.0, nodes.as_slice()) {
                    (Some(("node", value)), _) => value.to_str().unwrap_or_default().to_string(),
                    (_, [one]) => one.clone(),
                    _ => endpoint.host.clone(),
                };
            }
            Origin::Socket(socket) => socket.display().to_string(),
        };
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
            _ => socket,
        }
    }
}

/// One line for a failed call: `<what>: <server message> (<status code>)`, plus what
/// to do when the call was refused for the caller's role.
pub fn status_error(what: &str, status: &tonic::Status) -> anyhow::Error {
    let message = match status.message() {
        "" => "the server gave no reason",
        message => message,
    };
    let hint = match status.code() {
        tonic::Code::PermissionDenied if !message.contains("basaltctl config new") => {
            "; ask an admin for a certificate with a role that allows it \
             (`basaltctl config new --roles ROLE`); `basaltctl config info` shows your roles"
        }
        tonic::Code::Unauthenticated => {
            "; check the client certificate of the context (`basaltctl config info`)"
        }
        _ => "",
    };
    anyhow!("{what}: {message} ({:?}){hint}", status.code())
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
        let denied = tonic::Status::permission_denied("role os:reader may not call Reboot");
        let err = status_error("cannot reboot n1", &denied).to_string();
        assert!(
            err.starts_with("cannot reboot n1: role os:reader may not call Reboot (PermissionDenied); ask an admin"),
            "{err}"
        );
        assert!(err.contains("basaltctl config new --roles"), "{err}");
    }
}
