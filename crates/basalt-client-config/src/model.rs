//! The client config document ([`ClientConfig`]) and the operations on it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{known_names, Error};
use crate::pem::PemBlob;

/// The whole client config file: the current context and every known context.
///
/// Same layout as Talos's `talosconfig`:
/// ```yaml
/// context: demo
/// contexts:
///     demo:
///         endpoints: [10.5.0.2]
///         nodes: [10.5.0.2]
///         ca: <base64 PEM>
///         crt: <base64 PEM>
///         key: <base64 PEM>
/// ```
/// An empty `context` means "no current context".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    #[serde(default)]
    context: String,
    #[serde(default, deserialize_with = "crate::unique_map::deserialize")]
    contexts: BTreeMap<String, Context>,
}

/// One context: where to connect and with which credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// Addresses the client talks to directly (`host` or `host:port`).
    #[serde(default)]
    pub endpoints: Vec<String>,
    /// Nodes that commands target by default (reached through the endpoints).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// The cluster's OS CA certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<PemBlob>,
    /// The client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crt: Option<PemBlob>,
    /// The client private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PemBlob>,
}

/// A context renamed by [`ClientConfig::merge`] because its name was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// Name in the incoming config.
    pub from: String,
    /// Name it got in the merged config.
    pub to: String,
}

impl std::fmt::Display for Rename {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} -> {:?}", self.from, self.to)
    }
}

/// Whether [`ClientConfig::add_context`] may overwrite an existing context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddMode {
    /// Fail if the name exists.
    New,
    /// If the name exists, replace its credentials and keep its endpoints and nodes.
    Replace,
}

impl ClientConfig {
    /// A config holding one context, which is also the current one.
    pub fn with_context(name: &str, context: Context) -> Result<Self, Error> {
        check_name(name)?;
        let mut config = Self::default();
        config.contexts.insert(name.to_string(), context);
        config.context = name.to_string();
        Ok(config)
    }

    /// Name of the current context, if one is set.
    pub fn current_name(&self) -> Option<&str> {
        if self.context.is_empty() {
            None
        } else {
            Some(&self.context)
        }
    }

    /// All contexts, sorted by name.
    pub fn contexts(&self) -> &BTreeMap<String, Context> {
        &self.contexts
    }

    /// The context called `name`, or an error listing the known names.
    pub fn context(&self, name: &str) -> Result<&Context, Error> {
        self.contexts
            .get(name)
            .ok_or_else(|| self.unknown_context(name))
    }

    /// Makes `name` the current context.
    pub fn set_current(&mut self, name: &str) -> Result<(), Error> {
        self.context(name)?;
        self.context = name.to_string();
        Ok(())
    }

    /// Replaces the endpoints of context `name`; at least one non-empty endpoint is required.
    pub fn set_endpoints(&mut self, name: &str, endpoints: Vec<String>) -> Result<(), Error> {
        let endpoints = clean_addresses("endpoints", endpoints)?;
        if endpoints.is_empty() {
            return Err(Error::InvalidAddresses {
                what: "endpoints",
                reason: "at least one endpoint is required".to_string(),
            });
        }
        self.context_mut(name)?.endpoints = endpoints;
        Ok(())
    }

    /// Replaces the nodes of context `name`; an empty list clears them.
    pub fn set_nodes(&mut self, name: &str, nodes: Vec<String>) -> Result<(), Error> {
        let nodes = clean_addresses("nodes", nodes)?;
        self.context_mut(name)?.nodes = nodes;
        Ok(())
    }

    /// Adds context `name` with the given credentials and no endpoints or nodes.
    ///
    /// With [`AddMode::New`] an existing name is an error; with [`AddMode::Replace`] the
    /// existing context keeps its endpoints and nodes and gets the new credentials.
    pub fn add_context(
        &mut self,
        name: &str,
        ca: PemBlob,
        crt: PemBlob,
        key: PemBlob,
        mode: AddMode,
    ) -> Result<(), Error> {
        check_name(name)?;
        if mode == AddMode::New && self.contexts.contains_key(name) {
            return Err(Error::DuplicateContext {
                name: name.to_string(),
            });
        }
        let context = self.contexts.entry(name.to_string()).or_default();
        context.ca = Some(ca);
        context.crt = Some(crt);
        context.key = Some(key);
        Ok(())
    }

    /// Removes context `name`; the current context cannot be removed.
    pub fn remove(&mut self, name: &str) -> Result<Context, Error> {
        self.context(name)?;
        if self.context == name {
            return Err(Error::RemoveCurrent {
                name: name.to_string(),
            });
        }
        self.contexts
            .remove(name)
            .ok_or_else(|| self.unknown_context(name))
    }

    /// Removes context `name` even when it is the current one (then no context is current):
    /// for contexts whose cluster is gone.
    pub fn forget(&mut self, name: &str) -> Result<Context, Error> {
        let removed = self
            .contexts
            .remove(name)
            .ok_or_else(|| self.unknown_context(name))?;
        if self.context == name {
            self.context.clear();
        }
        Ok(removed)
    }

    /// Merges the contexts of `incoming` into this config, like `talosctl config merge`.
    ///
    /// A name that is already taken gets the first free suffix (`name-1`, `name-2`, …);
    /// each such rename is returned. If `incoming` has a current context, it becomes the
    /// current context here (under its possibly new name).
    pub fn merge(&mut self, incoming: ClientConfig) -> Vec<Rename> {
        let mut renames = Vec::new();
        let mut new_current = None;
        for (name, context) in incoming.contexts {
            let mut merged = name.clone();
            let mut suffix = 1u32;
            while self.contexts.contains_key(&merged) {
                merged = format!("{name}-{suffix}");
                suffix += 1;
            }
            if name == incoming.context {
                new_current = Some(merged.clone());
            }
            if merged != name {
                renames.push(Rename {
                    from: name,
                    to: merged.clone(),
                });
            }
            self.contexts.insert(merged, context);
        }
        if let Some(current) = new_current {
            self.context = current;
        }
        renames
    }

    fn context_mut(&mut self, name: &str) -> Result<&mut Context, Error> {
        let unknown = self.unknown_context(name);
        self.contexts.get_mut(name).ok_or(unknown)
    }

    fn unknown_context(&self, name: &str) -> Error {
        Error::UnknownContext {
            name: name.to_string(),
            known: known_names(self.contexts.keys()),
        }
    }
}

fn check_name(name: &str) -> Result<(), Error> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.trim() != name {
        "it starts or ends with whitespace"
    } else if name.chars().any(char::is_control) {
        "it contains control characters"
    } else {
        return Ok(());
    };
    Err(Error::InvalidName {
        name: name.to_string(),
        reason,
    })
}

fn clean_addresses(what: &'static str, values: Vec<String>) -> Result<Vec<String>, Error> {
    values
        .into_iter()
        .enumerate()
        .map(|(index, value)| {
            let value = value.trim();
            if value.is_empty() || value.contains(char::is_whitespace) {
                Err(Error::InvalidAddresses {
                    what,
                    reason: format!(
                        "entry #{} ({value:?}) must be a non-empty host or host:port without spaces",
                        index + 1
                    ),
                })
            } else {
                Ok(value.to_string())
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
