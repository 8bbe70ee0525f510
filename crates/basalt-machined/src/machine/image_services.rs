//! Services provided by the image: every `*.yaml` in `/usr/lib/basalt/services/`, one
//! small strict document per service (the way Talos system extensions add services):
//!
//! ```yaml
//! name: web                       # service id
//! command: [/usr/bin/web, --port, "8080"]
//! env: {MODE: demo}               # optional; PATH defaults to /usr/bin:/usr/sbin:/bin:/sbin
//! dependsOn:                      # optional
//!   - {service: db, condition: healthy}   # or: running
//! restart: forever                # optional: forever (default) | once | untilSuccess
//! health:                         # optional: exactly one of tcp / http
//!   tcp: "127.0.0.1:8080"         # or http: "http://127.0.0.1:8080/healthz"
//!   period: 1s                    # optional (default 1s); also timeout (1s), initialDelay (0s)
//! stopTimeout: 10s                # optional (default 10s); units ms, s, m
//! ```
//!
//! A bad file is reported (naming the file and field) and skipped; it never stops boot.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::supervisor::{Dependency, HealthCheck, Probe, RestartPolicy, ServiceSpec};

/// Default `PATH` of image services.
pub const DEFAULT_PATH: &str = "/usr/bin:/usr/sbin:/bin:/sbin";

/// A rejected service file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("image service file {}: {field}: {message}; the file is skipped, fix it in the image", file.display())]
pub struct ImageServiceError {
    /// The file.
    pub file: PathBuf,
    /// The field (`-` when the whole document is at fault).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct File {
    name: String,
    command: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    depends_on: Vec<DependsOn>,
    #[serde(default)]
    restart: Option<Restart>,
    #[serde(default)]
    health: Option<Health>,
    #[serde(default)]
    stop_timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DependsOn {
    service: String,
    condition: Condition,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Condition {
    Healthy,
    Running,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Restart {
    Forever,
    Once,
    UntilSuccess,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Health {
    tcp: Option<String>,
    http: Option<String>,
    period: Option<String>,
    timeout: Option<String>,
    initial_delay: Option<String>,
}

/// Parses one service file's text.
pub fn parse(file: &Path, text: &str) -> Result<ServiceSpec, ImageServiceError> {
    let err = |field: &str, message: String| ImageServiceError {
        file: file.to_path_buf(),
        field: field.to_string(),
        message,
    };
    let doc: File = serde_yaml::from_str(text).map_err(|e| err("-", e.to_string()))?;
    if doc.command.is_empty() || doc.command[0].is_empty() {
        return Err(err("command", "needs at least the program path".into()));
    }
    let mut spec = ServiceSpec::new(doc.name, doc.command);
    let mut env = doc.env;
    env.entry("PATH".into())
        .or_insert_with(|| DEFAULT_PATH.into());
    spec.env = env.into_iter().collect();
    spec.depends_on = doc
        .depends_on
        .into_iter()
        .map(|d| match d.condition {
            Condition::Healthy => Dependency::ServiceHealthy(d.service),
            Condition::Running => Dependency::ServiceRunning(d.service),
        })
        .collect();
    spec.restart = match doc.restart.unwrap_or(Restart::Forever) {
        Restart::Forever => RestartPolicy::Forever,
        Restart::Once => RestartPolicy::Once,
        Restart::UntilSuccess => RestartPolicy::UntilSuccess,
    };
    if let Some(t) = doc.stop_timeout {
        spec.stop_timeout = duration(&t).map_err(|m| err("stopTimeout", m))?;
    }
    if let Some(h) = doc.health {
        spec.health = Some(health(h).map_err(|(f, m)| err(&f, m))?);
    }
    Ok(spec)
}

fn health(h: Health) -> Result<HealthCheck, (String, String)> {
    let probe = match (h.tcp, h.http) {
        (Some(addr), None) => Probe::Tcp(addr.parse::<SocketAddr>().map_err(|e| {
            (
                "health.tcp".to_string(),
                format!("{addr:?} is not IP:PORT ({e})"),
            )
        })?),
        (None, Some(url)) if url.starts_with("http://") => Probe::Http(url),
        (None, Some(url)) => {
            return Err((
                "health.http".into(),
                format!("{url:?} must start with http://"),
            ))
        }
        _ => return Err(("health".into(), "give exactly one of tcp or http".into())),
    };
    let field = |name: &str, value: Option<String>, default: Duration| match value {
        None => Ok(default),
        Some(v) => duration(&v).map_err(|m| (format!("health.{name}"), m)),
    };
    Ok(HealthCheck {
        probe,
        period: field("period", h.period, Duration::from_secs(1))?,
        timeout: field("timeout", h.timeout, Duration::from_secs(1))?,
        initial_delay: field("initialDelay", h.initial_delay, Duration::ZERO)?,
    })
}

/// Parses `500ms`, `10s`, `2m`.
pub fn duration(text: &str) -> Result<Duration, String> {
    basalt_config::duration::parse_go_duration(text)
        .ok_or_else(|| format!("{text:?} is not a duration like 500ms, 10s or 2m"))
}

/// Loads every `*.yaml` of `dir` in name order. A missing directory means no services.
/// Returns the good specs and the errors of the skipped files (also duplicate names).
pub fn load_dir(dir: &Path) -> (Vec<ServiceSpec>, Vec<ImageServiceError>) {
    let mut specs: Vec<ServiceSpec> = Vec::new();
    let mut errors = Vec::new();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (specs, errors),
        Err(e) => {
            errors.push(ImageServiceError {
                file: dir.to_path_buf(),
                field: "-".into(),
                message: format!("cannot list the directory: {e}"),
            });
            return (specs, errors);
        }
    };
    files.sort();
    for file in files {
        let parsed = std::fs::read_to_string(&file)
            .map_err(|e| ImageServiceError {
                file: file.clone(),
                field: "-".into(),
                message: format!("cannot read: {e}"),
            })
            .and_then(|text| parse(&file, &text));
        match parsed {
            Ok(spec) if specs.iter().any(|s| s.id == spec.id) => errors.push(ImageServiceError {
                message: format!(
                    "service {:?} is already defined by an earlier file",
                    spec.id
                ),
                file,
                field: "name".into(),
            }),
            Ok(spec) => specs.push(spec),
            Err(e) => errors.push(e),
        }
    }
    (specs, errors)
}

#[cfg(test)]
#[path = "image_services_tests.rs"]
mod tests;
