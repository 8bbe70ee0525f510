//! The network path: which endpoints, nodes and credentials to use (flags over the
//! context), and opening a gRPC channel to the first endpoint that accepts us.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use basalt_client_config::{ConfigFile, Context};
use rustls::ClientConfig;
use tonic::transport::Channel;

use super::connector::{self, ApiStream, Connector};
use super::endpoint::Endpoint;
use super::explain::{explain, Facts};
use super::tls::{self, Identity, ServerTrust};
use crate::global::GlobalArgs;

/// How long each step of a connection (TCP, TLS, first bytes) may take.
pub const CONNECT_LIMIT: Duration = Duration::from_secs(10);

/// Everything needed to connect over the network.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Tried in order; the first that connects wins.
    pub endpoints: Vec<Endpoint>,
    /// Targets sent as gRPC metadata `nodes` (empty: the endpoint itself answers).
    pub nodes: Vec<String>,
    /// How the server's certificate is checked.
    pub trust: ServerTrust,
    /// Our client certificate, if any.
    pub identity: Option<Identity>,
    /// The context the credentials come from.
    pub context: Option<String>,
    /// `--insecure` was given.
    pub insecure: bool,
}

impl Plan {
    /// Resolves flags and the client config into a plan.
    ///
    /// Normal mode needs a context with `ca`, `crt` and `key`. With `--insecure` no
    /// context is needed: the endpoints are `-e`, else the `-n` nodes (a node in
    /// maintenance mode is reached directly and forwards nothing), else the context's;
    /// the context's certificate is still offered if the server asks for one (a node
    /// that pins a maintenance CA).
    pub fn from_global(global: &GlobalArgs) -> anyhow::Result<Self> {
        let file = global.load_config()?;
        if global.insecure {
            return Self::insecure(global, &file);
        }
        if !global.cert_fingerprint.is_empty() {
            bail!("--cert-fingerprint only applies with --insecure (a node in maintenance mode)");
        }
        let (name, context) = file.selected(global.context.as_deref())?;
        let field = |field: &str| {
            anyhow!(
                "context \"{name}\" in {} has no `{field}`; re-create it with `basaltctl gen \
                 config` or `basaltctl config add`, or use --insecure for a node in \
                 maintenance mode",
                file.path().display()
            )
        };
        let ca = context.ca.as_ref().ok_or_else(|| field("ca"))?;
        let crt = context.crt.as_ref().ok_or_else(|| field("crt"))?;
        let key = context.key.as_ref().ok_or_else(|| field("key"))?;
        let endpoints = pick(&global.endpoints, &context.endpoints);
        if endpoints.is_empty() {
            bail!(
                "context \"{name}\" in {} has no endpoints; pass -e ENDPOINT or run \
                 `basaltctl config endpoint ADDRESS`",
                file.path().display()
            );
        }
        Ok(Self {
            endpoints: parse_endpoints(&endpoints)?,
            nodes: pick(&global.nodes, &context.nodes),
            trust: ServerTrust::Ca(ca.as_bytes().to_vec()),
            identity: Some(Identity {
                cert_pem: crt.as_bytes().to_vec(),
                key_pem: key.as_bytes().to_vec(),
            }),
            context: Some(name),
            insecure: false,
        })
    }

    fn insecure(global: &GlobalArgs, file: &ConfigFile) -> anyhow::Result<Self> {
        let selected = match file.selected(global.context.as_deref()) {
            Ok((name, context)) => Some((name, context.clone())),
            Err(err) if global.context.is_some() => return Err(err.into()),
            Err(_) => None,
        };
        let configured = selected.as_ref().map(|(_, c)| c.endpoints.clone());
        let endpoints = if !global.endpoints.is_empty() {
            global.endpoints.clone()
        } else if !global.nodes.is_empty() {
            global.nodes.clone()
        } else {
            configured.unwrap_or_default()
        };
        if endpoints.is_empty() {
            bail!("--insecure needs the node to connect to: pass -n ADDRESS (or -e ADDRESS)");
        }
        let pins = global
            .cert_fingerprint
            .iter()
            .map(|text| tls::parse_fingerprint(text).map_err(|e| anyhow!(e)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let identity = selected.as_ref().and_then(|(_, c)| identity_of(c));
        Ok(Self {
            endpoints: parse_endpoints(&endpoints)?,
            nodes: Vec::new(),
            trust: ServerTrust::Insecure(pins),
            identity,
            context: selected.map(|(name, _)| name),
            insecure: true,
        })
    }

    /// Connects to the first endpoint that completes TCP, TLS and the server's first
    /// bytes; the error explains every endpoint's failure.
    pub async fn open(&self) -> anyhow::Result<(Channel, Endpoint)> {
        let mut failures = Vec::new();
        for endpoint in &self.endpoints {
            match self.open_one(endpoint).await {
                Ok(channel) => return Ok((channel, endpoint.clone())),
                Err(message) => failures.push(message),
            }
        }
        match failures.as_slice() {
            [one] => Err(anyhow!("{one}")),
            _ => Err(anyhow!(
                "cannot connect to any endpoint:\n  {}",
                failures.join("\n  ")
            )),
        }
    }

    async fn open_one(&self, endpoint: &Endpoint) -> Result<Channel, String> {
        let (stream, config) = self.handshake(endpoint).await?;
        let connector = Connector::new(endpoint.clone(), config, CONNECT_LIMIT, stream);
        tonic::transport::Endpoint::from_shared(format!("http://{endpoint}"))
            .map_err(|e| format!("endpoint {endpoint}: not usable as a URI: {e}"))?
            .connect_with_connector(connector)
            .await
            .map_err(|e| format!("endpoint {endpoint}: cannot start HTTP/2 over TLS: {e}"))
    }

    /// TCP, TLS and the server's first bytes; a failure comes back explained.
    pub async fn handshake(
        &self,
        endpoint: &Endpoint,
    ) -> Result<(ApiStream, Arc<ClientConfig>), String> {
        let (config, seen) =
            tls::client_config(&self.trust, self.identity.as_ref()).map_err(|e| {
                match &self.context {
                    Some(name) => format!("context \"{name}\": {e}"),
                    None => e,
                }
            })?;
        match connector::connect(endpoint, config.clone(), CONNECT_LIMIT).await {
            Ok(stream) => Ok((stream, config)),
            Err(error) => {
                let pins = match &self.trust {
                    ServerTrust::Insecure(pins) => pins.iter().map(|p| hex(p)).collect(),
                    ServerTrust::Ca(_) => Vec::new(),
                };
                let server_cert = seen
                    .lock()
                    .ok()
                    .and_then(|slot| slot.as_ref().map(|c| c.as_ref().to_vec()));
                let facts = Facts {
                    context: self.context.clone(),
                    client_cert: self.identity.as_ref().map(|i| i.cert_pem.clone()),
                    insecure: self.insecure,
                    pins,
                    server_cert,
                };
                Err(explain(endpoint, &error, &facts))
            }
        }
    }
}

/// The flag's values if given, else the configured ones.
fn pick(flag: &[String], configured: &[String]) -> Vec<String> {
    if flag.is_empty() { configured } else { flag }.to_vec()
}

fn parse_endpoints(texts: &[String]) -> anyhow::Result<Vec<Endpoint>> {
    texts
        .iter()
        .map(|text| Endpoint::parse(text).map_err(|e| anyhow!(e)))
        .collect::<anyhow::Result<Vec<_>>>()
        .context("check -e/--endpoints or the context's endpoints")
}

fn identity_of(context: &Context) -> Option<Identity> {
    Some(Identity {
        cert_pem: context.crt.as_ref()?.as_bytes().to_vec(),
        key_pem: context.key.as_ref()?.as_bytes().to_vec(),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
