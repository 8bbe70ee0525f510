//! `machine.registries`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::pki_fields::{Base64Pem, CertAndKey};

/// `machine.registries`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegistriesConfig {
    /// Mirrors per registry host (`docker.io`, `*` …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirrors: Option<BTreeMap<String, RegistryMirror>>,
    /// TLS and auth per registry endpoint host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<BTreeMap<String, RegistryHostConfig>>,
}

/// `machine.registries.mirrors.<host>`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegistryMirror {
    /// Mirror endpoint URLs.
    #[serde(default)]
    pub endpoints: Vec<String>,
    /// Use the endpoint path as is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_path: Option<bool>,
    /// Do not fall back to the upstream registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_fallback: Option<bool>,
}

/// `machine.registries.config.<host>`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegistryHostConfig {
    /// TLS settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<RegistryTls>,
    /// Credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<RegistryAuth>,
}

/// `machine.registries.config.<host>.tls`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegistryTls {
    /// Client certificate and key for mutual TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_identity: Option<CertAndKey>,
    /// CA that signs the registry's certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<Base64Pem>,
    /// Skip server certificate checks (not recommended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
}

/// `machine.registries.config.<host>.auth`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegistryAuth {
    /// User name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Base64 `user:password`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// Identity token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_token: Option<String>,
}
