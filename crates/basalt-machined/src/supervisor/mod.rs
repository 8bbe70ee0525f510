//! The service supervisor: one task per service, Talos's service states, restart policies with
//! backoff, health checks, dependencies expressed as resources, logs and graceful stop.
//!
//! Every transition is published as a [`MachineEvent::ServiceState`](crate::events::MachineEvent)
//! on the event bus, recorded in the service's bounded history, and applied to the
//! `Services.v1alpha1.basalt.dev` resource (namespace `runtime`, owner `supervisor`).

mod error;
pub mod health;
mod order;
mod resource;
mod runner;
mod spec;
mod status;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use basalt_resources::Store;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use crate::events::{HealthStatus, ServiceState};
pub use crate::logs::LogStream;
pub use crate::process::wrapper::RlimitResource;
pub use error::SupervisorError;
pub use resource::{
    services_definition, ServiceResourceSpec, SERVICES_NAMESPACE, SERVICES_TYPE, SUPERVISOR_OWNER,
};
pub use spec::{
    Backoff, Dependency, HealthCheck, InProcessCheck, Probe, RestartPolicy, ServiceSpec,
};
pub use status::{ServiceEventRecord, HISTORY_LEN};

use crate::events::EventBus;
use crate::logs::{LogLimits, LogStore};
use crate::process::Reaper;
use runner::ServiceTask;
use status::Reporter;

/// How the supervisor is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupervisorConfig {
    /// Where `<svc>.log` files go (set once `/var` is mounted; see [`Supervisor::set_log_dir`]).
    pub log_dir: Option<PathBuf>,
    /// The `basalt` binary, run as `basalt runner ...` for services with rlimits, an OOM score
    /// or dropped capabilities.
    pub wrapper: PathBuf,
}

/// A snapshot of one service.
#[derive(Clone, Debug)]
pub struct ServiceInfo {
    /// Service id.
    pub id: String,
    /// Current state.
    pub state: ServiceState,
    /// Current health.
    pub health: HealthStatus,
    /// The last [`HISTORY_LEN`] transitions, oldest first.
    pub events: Vec<ServiceEventRecord>,
}

/// The supervisor. Cheap to clone; clones manage the same services.
#[derive(Clone, Debug)]
pub struct Supervisor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    reaper: Reaper,
    bus: EventBus,
    wrapper: PathBuf,
    logs: LogStore,
    services: Mutex<BTreeMap<String, Entry>>,
}

#[derive(Debug)]
struct Entry {
    spec: Arc<ServiceSpec>,
    reporter: Reporter,
    run: Option<Run>,
}

/// A running service task: cancel it, and wait for it to end (the sender drops then).
#[derive(Clone, Debug)]
struct Run {
    cancel: CancellationToken,
    done: watch::Receiver<()>,
}

impl Run {
    fn active(&self) -> bool {
        self.done.has_changed().is_ok()
    }

    async fn finished(mut self) {
        while self.done.changed().await.is_ok() {}
    }
}

impl Supervisor {
    /// A supervisor writing service resources to `store` and events to `bus`. Registers the
    /// `Services.v1alpha1.basalt.dev` definition (a failure shows up later in each service log,
    /// when its resource cannot be written).
    pub fn new(store: Store, bus: EventBus, reaper: Reaper, config: SupervisorConfig) -> Self {
        let _reported_per_service_later = store.register(services_definition());
        let supervisor = Supervisor {
            inner: Arc::new(Inner {
                store,
                reaper,
                bus,
                wrapper: config.wrapper,
                logs: LogStore::new(LogLimits::default()),
                services: Mutex::new(BTreeMap::new()),
            }),
        };
        if let Some(dir) = config.log_dir {
            supervisor.set_log_dir(dir);
        }
        supervisor
    }

    fn services(&self) -> MutexGuard<'_, BTreeMap<String, Entry>> {
        self.inner
            .services
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn not_found(&self, services: &BTreeMap<String, Entry>, id: &str) -> SupervisorError {
        SupervisorError::NotFound {
            id: id.to_string(),
            known: services.keys().cloned().collect(),
        }
    }

    /// Loads (or replaces, when stopped) a service; it is Initialized until started.
    pub fn load(&self, spec: ServiceSpec) -> Result<(), SupervisorError> {
        if !valid_id(&spec.id) {
            return Err(SupervisorError::InvalidId(spec.id));
        }
        let mut services = self.services();
        if let Some(entry) = services.get(&spec.id) {
            if entry.run.as_ref().is_some_and(Run::active) {
                return Err(SupervisorError::Busy(spec.id));
            }
        }
        let mut graph = dependency_graph(&services);
        graph.insert(spec.id.clone(), service_deps(&spec));
        if let Some(cycle) = order::find_cycle(&graph) {
            return Err(SupervisorError::DependencyCycle(cycle));
        }
        let log = self.log_of(&spec.id);
        let reporter = Reporter::new(
            &spec.id,
            spec.health.is_some(),
            self.inner.store.clone(),
            self.inner.bus.clone(),
            log,
        );
        reporter.transition(ServiceState::Initialized, "loaded");
        services.insert(
            spec.id.clone(),
            Entry {
                spec: Arc::new(spec),
                reporter,
                run: None,
            },
        );
        Ok(())
    }

    fn log_of(&self, id: &str) -> crate::logs::ServiceLog {
        self.inner.logs.log(id)
    }

    /// Starts a service (its task goes through Preparing, Waiting, Starting, Running). A service
    /// already active is left alone (noted in its history).
    pub async fn start(&self, id: &str) -> Result<(), SupervisorError> {
        let mut services = self.services();
        let known = self.not_found(&services, id);
        let entry = services.get_mut(id).ok_or(known)?;
        if entry.run.as_ref().is_some_and(Run::active) {
            entry
                .reporter
                .note("start requested, but the service is already active");
            return Ok(());
        }
        let task = ServiceTask {
            spec: entry.spec.clone(),
            reporter: entry.reporter.clone(),
            log: self.log_of(id),
            store: self.inner.store.clone(),
            reaper: self.inner.reaper.clone(),
            wrapper: self.inner.wrapper.clone(),
        };
        let cancel = CancellationToken::new();
        let (done_tx, done) = watch::channel(());
        let token = cancel.clone();
        tokio::spawn(async move {
            task.run(token).await;
            drop(done_tx);
        });
        entry.run = Some(Run { cancel, done });
        Ok(())
    }

    /// Stops a service: SIGTERM to its process group, SIGKILL after its stop timeout; returns
    /// once the reaper confirmed the exit. Stopping a stopped service is a no-op (noted).
    pub async fn stop(&self, id: &str) -> Result<(), SupervisorError> {
        let run = {
            let mut services = self.services();
            let known = self.not_found(&services, id);
            let entry = services.get_mut(id).ok_or(known)?;
            match entry.run.take() {
                Some(run) if run.active() => run,
                _ => {
                    entry
                        .reporter
                        .note("stop requested, but the service is not active");
                    return Ok(());
                }
            }
        };
        run.cancel.cancel();
        run.finished().await;
        Ok(())
    }

    /// Stops (if active) and starts a service.
    pub async fn restart(&self, id: &str) -> Result<(), SupervisorError> {
        self.stop(id).await?;
        self.start(id).await
    }

    /// Starts every loaded service that is not active; dependencies order them by themselves.
    pub async fn start_all(&self) {
        let ids: Vec<String> = self.services().keys().cloned().collect();
        for id in ids {
            let _only_unknown_ids_fail = self.start(&id).await;
        }
    }

    /// Stops every service, dependents before their dependencies, and waits until every
    /// process is confirmed gone.
    pub async fn stop_all(&self) {
        let (graph, ids) = {
            let services = self.services();
            (
                dependency_graph(&services),
                services.keys().cloned().collect::<Vec<_>>(),
            )
        };
        for wave in order::stop_waves(&graph, &ids) {
            futures::future::join_all(wave.iter().map(|id| self.stop(id))).await;
        }
    }

    /// The reaper the supervisor waits through (for one-shot helper processes of machined).
    pub fn reaper(&self) -> &Reaper {
        &self.inner.reaper
    }

    /// Every service, sorted by id.
    pub fn list(&self) -> Vec<ServiceInfo> {
        self.services()
            .iter()
            .map(|(id, entry)| {
                let status = entry.reporter.lock();
                ServiceInfo {
                    id: id.clone(),
                    state: status.state,
                    health: status.health.clone(),
                    events: status.events.iter().cloned().collect(),
                }
            })
            .collect()
    }

    /// One service.
    pub fn info(&self, id: &str) -> Result<ServiceInfo, SupervisorError> {
        let services = self.services();
        let known = self.not_found(&services, id);
        drop(services);
        self.list().into_iter().find(|s| s.id == id).ok_or(known)
    }

    /// The current state of a service.
    pub fn state(&self, id: &str) -> Result<ServiceState, SupervisorError> {
        let services = self.services();
        match services.get(id) {
            Some(entry) => Ok(entry.reporter.state()),
            None => Err(self.not_found(&services, id)),
        }
    }

    /// The service's output: the last `tail` lines (all kept lines with `None`), then with
    /// `follow` every new line. Lines come without their `\n`.
    pub fn logs(
        &self,
        id: &str,
        tail: Option<usize>,
        follow: bool,
    ) -> Result<LogStream, SupervisorError> {
        let services = self.services();
        if !services.contains_key(id) {
            return Err(self.not_found(&services, id));
        }
        drop(services);
        Ok(self.log_of(id).stream(tail, follow))
    }

    /// A log kept next to the services' logs (same limits, same `/var/log` file once the log
    /// directory is set) for something that is not a supervised service, e.g. machined itself.
    pub fn extra_log(&self, name: &str) -> crate::logs::ServiceLog {
        self.inner.logs.log(name)
    }

    /// Stops writing service logs to files (they stay in memory), so EPHEMERAL can be
    /// unmounted.
    pub fn clear_log_dir(&self) {
        self.inner.logs.clear_log_dir();
    }

    /// From now on, service logs are also appended to `<dir>/<svc>.log` (with rotation).
    pub fn set_log_dir(&self, dir: PathBuf) {
        if let Err(e) = self.inner.logs.set_log_dir(dir) {
            for id in self.services().keys() {
                if let Some(log) = self.inner.logs.get(id) {
                    log.push(format!("[basalt] {e}").as_bytes());
                }
            }
        }
    }
}

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    id.len() <= 63
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn service_deps(spec: &ServiceSpec) -> Vec<String> {
    spec.depends_on
        .iter()
        .filter_map(|d| d.service().map(str::to_string))
        .collect()
}

fn dependency_graph(services: &BTreeMap<String, Entry>) -> BTreeMap<String, Vec<String>> {
    services
        .iter()
        .map(|(id, e)| (id.clone(), service_deps(&e.spec)))
        .collect()
}
