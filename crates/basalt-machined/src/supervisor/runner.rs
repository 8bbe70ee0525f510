//! The task that runs one service through its states:
//! Preparing → Waiting → Starting → Running → Finished | Failed (→ restart after backoff),
//! Stopping on request, Skipped when there is nothing to run.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use basalt_resources::{Resource, Store};
use tokio_util::sync::CancellationToken;

use super::health;
use super::resource::{SERVICES_NAMESPACE, SERVICES_TYPE};
use super::spec::{Dependency, RestartPolicy, ServiceSpec};
use super::status::Reporter;
use crate::events::ServiceState;
use crate::logs::ServiceLog;
use crate::process::wrapper::WrapperArgs;
use crate::process::{self, CommandLine, ExitStatus, Reaper};

/// Pause before retrying a dependency wait that failed.
const DEPENDENCY_RETRY: Duration = Duration::from_secs(1);

/// What one service task needs.
#[derive(Clone, Debug)]
pub(super) struct ServiceTask {
    pub(super) spec: Arc<ServiceSpec>,
    pub(super) reporter: Reporter,
    pub(super) log: ServiceLog,
    pub(super) store: Store,
    pub(super) reaper: Reaper,
    pub(super) wrapper: PathBuf,
}

/// How one run of the process ended.
enum Outcome {
    Exited(ExitStatus),
    NotStarted(String),
}

impl ServiceTask {
    /// Runs the service until it ends for good or `cancel` fires.
    pub(super) async fn run(self, cancel: CancellationToken) {
        let r = &self.reporter;
        r.transition(ServiceState::Preparing, "preparing");
        if self.spec.argv.is_empty() {
            r.transition(ServiceState::Skipped, "no command line given: skipped");
            return;
        }
        if !self.spec.depends_on.is_empty() {
            let what: Vec<String> = self.spec.depends_on.iter().map(|d| d.to_string()).collect();
            r.transition(
                ServiceState::Waiting,
                format!("waiting for {}", what.join(", ")),
            );
            tokio::select! {
                _ = self.wait_dependencies() => {}
                _ = cancel.cancelled() => {
                    r.transition(ServiceState::Finished, "stopped while waiting for dependencies");
                    return;
                }
            }
        }
        let mut failures: u32 = 0;
        loop {
            let started = Instant::now();
            let outcome = match self.run_once(&cancel).await {
                Some(outcome) => outcome,
                None => return, // stopped on request
            };
            let (success, what) = match &outcome {
                Outcome::Exited(status) => (status.success(), status.to_string()),
                Outcome::NotStarted(e) => (false, e.clone()),
            };
            match (success, self.spec.restart) {
                (true, RestartPolicy::Once | RestartPolicy::UntilSuccess) => {
                    r.transition(ServiceState::Finished, what);
                    return;
                }
                (false, RestartPolicy::Once) => {
                    r.transition(
                        ServiceState::Failed,
                        format!("{what}; restart policy is once: not restarting"),
                    );
                    return;
                }
                _ => {}
            }
            if started.elapsed() >= self.spec.backoff.max {
                failures = 0;
            }
            let delay = self.spec.backoff.delay(failures);
            failures = failures.saturating_add(1);
            let state = if success {
                ServiceState::Finished
            } else {
                ServiceState::Failed
            };
            r.transition(
                state,
                format!("{what}; restarting in {} ms", delay.as_millis()),
            );
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = cancel.cancelled() => {
                    r.transition(ServiceState::Finished, "stopped while waiting to restart");
                    return;
                }
            }
        }
    }

    /// Starts the process once and waits for it; `None` when stopped on request.
    async fn run_once(&self, cancel: &CancellationToken) -> Option<Outcome> {
        let r = &self.reporter;
        r.transition(ServiceState::Starting, "starting");
        let mut proc = match process::spawn(
            &self.reaper,
            &command_line(&self.spec, &self.wrapper),
            &self.log,
        ) {
            Ok(proc) => proc,
            Err(e) => return Some(Outcome::NotStarted(e.to_string())),
        };
        r.transition(
            ServiceState::Running,
            format!("started, pid {}", proc.pid()),
        );
        let health_cancel = cancel.child_token();
        if let Some(check) = self.spec.health.clone() {
            tokio::spawn(health::run(check, r.clone(), health_cancel.clone()));
        }
        let exited = tokio::select! {
            status = proc.wait() => Some(status),
            _ = cancel.cancelled() => None,
        };
        health_cancel.cancel();
        match exited {
            Some(Ok(status)) => Some(Outcome::Exited(status)),
            Some(Err(e)) => Some(Outcome::NotStarted(e.to_string())),
            None => {
                let timeout = self.spec.stop_timeout;
                r.transition(
                    ServiceState::Stopping,
                    format!(
                        "stopping: SIGTERM, SIGKILL after {} ms",
                        timeout.as_millis()
                    ),
                );
                let message = match proc.stop(timeout).await {
                    Ok(status) => format!("stopped: {status}"),
                    Err(e) => format!("stop failed: {e}"),
                };
                r.transition(ServiceState::Finished, message);
                None
            }
        }
    }

    async fn wait_dependencies(&self) {
        for dep in &self.spec.depends_on {
            loop {
                let waited = match dep {
                    Dependency::ServiceHealthy(id) => {
                        self.wait(SERVICES_NAMESPACE, SERVICES_TYPE, id, |r| {
                            flag(r, "healthy")
                        })
                        .await
                    }
                    Dependency::ServiceRunning(id) => {
                        self.wait(SERVICES_NAMESPACE, SERVICES_TYPE, id, |r| {
                            flag(r, "running")
                        })
                        .await
                    }
                    Dependency::Resource { ns, type_, id } => {
                        self.wait(ns, type_, id, |_| true).await
                    }
                };
                match waited {
                    Ok(()) => break,
                    Err(e) => {
                        self.reporter
                            .note(format!("cannot wait for {dep}: {e}; retrying"));
                        tokio::time::sleep(DEPENDENCY_RETRY).await;
                    }
                }
            }
        }
    }

    async fn wait(
        &self,
        ns: &str,
        type_: &str,
        id: &str,
        pred: impl Fn(&Resource) -> bool + Send,
    ) -> Result<(), basalt_resources::StoreError> {
        self.store.wait_for(ns, type_, id, pred).await.map(drop)
    }
}

/// The command line of `spec`: its argv, behind `<wrapper> runner ... --` when it asks for
/// rlimits, an OOM score or dropped capabilities.
fn command_line(spec: &ServiceSpec, wrapper: &Path) -> CommandLine {
    let argv = if spec.needs_wrapper() {
        let args = WrapperArgs {
            rlimits: spec.rlimits.clone(),
            oom_score_adj: spec.oom_score_adj,
            drop_capabilities: spec.drop_capabilities.clone(),
            argv: spec.argv.clone(),
        };
        let mut argv = vec![wrapper.display().to_string(), "runner".to_string()];
        argv.extend(args.to_args());
        argv
    } else {
        spec.argv.clone()
    };
    CommandLine {
        argv,
        env: spec.env.clone(),
        cwd: spec.cwd.clone(),
    }
}

fn flag(resource: &Resource, name: &str) -> bool {
    resource.spec.get(name).and_then(|v| v.as_bool()) == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::wrapper::RlimitResource;

    #[test]
    fn wrapper_is_used_only_when_needed() {
        let wrapper = Path::new("/usr/bin/basalt");
        let mut spec = ServiceSpec::new("svc", vec!["/bin/prog".into(), "-v".into()]);
        assert_eq!(command_line(&spec, wrapper).argv, vec!["/bin/prog", "-v"]);
        spec.rlimits = vec![(RlimitResource::Nofile, 64, 64)];
        spec.drop_capabilities = vec!["CAP_NET_RAW".into()];
        assert_eq!(
            command_line(&spec, wrapper).argv,
            vec![
                "/usr/bin/basalt",
                "runner",
                "--rlimit",
                "nofile=64:64",
                "--drop-cap",
                "CAP_NET_RAW",
                "--",
                "/bin/prog",
                "-v",
            ]
        );
    }
}
