//! The machine config, read from machined over its unix socket (COSI `State`):
//! `MachineConfigs.config.basalt.dev`, namespace `config`, id `v1alpha1`, whose
//! spec is the `v1alpha1` document. apid never reads STATE itself.

use std::path::{Path, PathBuf};
use std::time::Duration;

use basalt_api::cosi::resource::state_client::StateClient;
use basalt_api::cosi::resource::{GetRequest, Resource, WatchRequest};
use basalt_config::v1alpha1::Config;
use futures::StreamExt;

use crate::console;

/// The resource type of the machine config.
pub const MACHINE_CONFIG_TYPE: &str = "MachineConfigs.config.basalt.dev";
/// Its namespace.
pub const MACHINE_CONFIG_NAMESPACE: &str = "config";
/// Its id.
pub const MACHINE_CONFIG_ID: &str = "v1alpha1";

/// Pause between attempts while machined does not answer.
const RETRY_PAUSE: Duration = Duration::from_secs(1);
/// Log a still-failing attempt only every this many tries.
const LOG_EVERY: u32 = 30;

/// Errors reading the machine config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigSourceError {
    /// machined could not be reached or answered with an error.
    #[error("cannot read the machine config from machined on {socket}: {reason}")]
    Unreachable {
        /// The socket.
        socket: PathBuf,
        /// Why.
        reason: String,
    },
    /// machined has no config (the node is in maintenance mode).
    #[error("machined on {socket} has no machine config yet; apid must run with --maintenance until one is applied")]
    NoConfig {
        /// The socket.
        socket: PathBuf,
    },
    /// The resource's spec is not a `v1alpha1` document.
    #[error("the machine config from machined on {socket} cannot be decoded: {reason}; apid and machined may be of different versions")]
    Decode {
        /// The socket.
        socket: PathBuf,
        /// Why.
        reason: String,
    },
}

impl ConfigSourceError {
    /// Whether trying again later may help.
    fn is_transient(&self) -> bool {
        matches!(
            self,
            ConfigSourceError::Unreachable { .. } | ConfigSourceError::NoConfig { .. }
        )
    }
}

/// Reads the machine config once.
pub async fn get(socket: &Path) -> Result<Config, ConfigSourceError> {
    let unreachable = |reason: String| ConfigSourceError::Unreachable {
        socket: socket.to_path_buf(),
        reason,
    };
    let channel = basalt_api::transport::connect_unix(socket)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let reply = StateClient::new(channel)
        .get(GetRequest {
            namespace: MACHINE_CONFIG_NAMESPACE.to_string(),
            r#type: MACHINE_CONFIG_TYPE.to_string(),
            id: MACHINE_CONFIG_ID.to_string(),
            options: None,
        })
        .await;
    match reply {
        Ok(reply) => decode(socket, reply.into_inner().resource.as_ref()),
        Err(status) if status.code() == tonic::Code::NotFound => Err(ConfigSourceError::NoConfig {
            socket: socket.to_path_buf(),
        }),
        Err(status) => Err(unreachable(format!(
            "{:?}: {}",
            status.code(),
            status.message()
        ))),
    }
}

/// Reads the machine config, retrying every second while machined does not
/// answer or has no config yet. Fails only if the config cannot be decoded.
pub async fn fetch(socket: &Path) -> Result<Config, ConfigSourceError> {
    let mut attempt: u32 = 0;
    loop {
        match get(socket).await {
            Ok(config) => return Ok(config),
            Err(err) if err.is_transient() => {
                if attempt % LOG_EVERY == 0 {
                    console::log(format_args!("{err}; retrying"));
                }
                attempt = attempt.wrapping_add(1);
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            Err(err) => return Err(err),
        }
    }
}

/// Calls `on_change` with every new version of the machine config, forever
/// (reconnecting after errors). The first event is the current config.
pub async fn watch(socket: PathBuf, mut on_change: impl FnMut(Config) + Send) {
    loop {
        if let Err(reason) = watch_once(&socket, &mut on_change).await {
            console::log(format_args!(
                "watching the machine config on {} failed: {reason}; reconnecting",
                socket.display()
            ));
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

async fn watch_once(
    socket: &Path,
    on_change: &mut (impl FnMut(Config) + Send),
) -> Result<(), String> {
    let channel = basalt_api::transport::connect_unix(socket)
        .await
        .map_err(|e| e.to_string())?;
    let mut stream = StateClient::new(channel)
        .watch(WatchRequest {
            namespace: MACHINE_CONFIG_NAMESPACE.to_string(),
            r#type: MACHINE_CONFIG_TYPE.to_string(),
            id: Some(MACHINE_CONFIG_ID.to_string()),
            options: None,
            api_version: 1,
        })
        .await
        .map_err(|s| s.message().to_string())?
        .into_inner();
    while let Some(reply) = stream.next().await {
        let reply = reply.map_err(|s| s.message().to_string())?;
        for event in reply.event {
            match decode(socket, event.resource.as_ref()) {
                Ok(config) => on_change(config),
                Err(ConfigSourceError::NoConfig { .. }) => {}
                Err(err) => console::log(err),
            }
        }
    }
    Err("machined closed the watch".to_string())
}

/// Decodes the resource's spec (YAML/JSON of the `v1alpha1` document).
pub fn decode(socket: &Path, resource: Option<&Resource>) -> Result<Config, ConfigSourceError> {
    let no_config = || ConfigSourceError::NoConfig {
        socket: socket.to_path_buf(),
    };
    let spec = resource
        .and_then(|r| r.spec.as_ref())
        .map(|s| s.yaml_spec.trim())
        .filter(|s| !s.is_empty() && *s != "null" && *s != "~")
        .ok_or_else(no_config)?;
    serde_yaml::from_str::<Config>(spec).map_err(|e| ConfigSourceError::Decode {
        socket: socket.to_path_buf(),
        reason: e.to_string(),
    })
}
