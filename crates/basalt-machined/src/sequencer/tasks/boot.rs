//! `boot`: EPHEMERAL, services, readiness.

use std::time::Duration;

use anyhow::{bail, Context as _};
use tokio::time::Instant;

use super::set_stage;
use crate::events::ServiceState;
use crate::machine::apid_service::{self, ApidMode};
use crate::machine::image_services;
use crate::machine::trustd_service;
use crate::pid1::console;
use crate::platform::{Mode, Paths};
use crate::sequencer::Context;
use crate::supervisor::{ServiceInfo, ServiceSpec};

/// Makes EPHEMERAL usable: in metal mode mounts the EPHEMERAL partition (or tmpfs) on `/var`;
/// in container mode `/var` is already bound by the launcher. Then ensures `/var/log` and `/var/lib` exist and sends service logs to `/var/log`.
pub async fn mount_ephemeral(ctx: Context) -> anyhow::Result<()> {
    if ctx.mode == Mode::Metal {
        super::disks::mount_ephemeral_metal(&ctx)?;
    }
    let var = ctx.paths.ephemeral();
    if !var.is_dir() {
        bail!(
            "EPHEMERAL {} is missing: the launcher binds it (basalt launch --ephemeral DIR)",
            var.display()
        );
    }
    for dir in ["log", "lib"] {
        let path = var.join(dir);
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
    }
    ctx.supervisor.set_log_dir(var.join("log"));
    Ok(())
}

/// Loads the built-in services (apid; trustd on control-plane nodes) and the image's
/// services; a bad service file or a spec the supervisor refuses is logged and skipped.
pub async fn load_services(ctx: Context) -> anyhow::Result<()> {
    let dir = ctx.paths.host(Paths::IMAGE_SERVICES);
    let (mut specs, errors) = image_services::load_dir(&dir);
    match ctx.machine.config() {
        Some(config) if apid_service::binary_present(&ctx.paths, &ctx.exe) => {
            let mode = ApidMode::for_config(&config);
            let apid = apid_service::spec(&ctx.exe, &mode);
            let mut builtin = vec![apid];
            if matches!(
                mode,
                ApidMode::Normal {
                    control_plane: true
                }
            ) {
                builtin.push(trustd_service::spec(&ctx.exe));
            }
            for (at, service) in builtin.into_iter().enumerate() {
                if specs.iter().any(|s| s.id == service.id) {
                    console::log(format_args!(
                        "image service {:?} skipped: the id belongs to the built-in {}",
                        service.id, service.id
                    ));
                    specs.retain(|s| s.id != service.id);
                }
                specs.insert(at, service);
            }
        }
        Some(_) => console::log(format_args!(
            "apid not loaded: {} is missing in the node",
            ctx.exe.display()
        )),
        None => {}
    }
    match ctx.machine.config() {
        Some(config) => crate::etcd::start_for_boot(
            &config,
            &ctx.paths,
            &node_hostname(&ctx),
            &ctx.supervisor,
            ctx.machine.etcd(),
        ),
        None => ctx.machine.etcd().set(None),
    }
    for e in &errors {
        console::log(format_args!("{e}"));
    }
    let mut loaded: Vec<ServiceSpec> = Vec::new();
    for spec in specs {
        match ctx.supervisor.load(spec.clone()) {
            Ok(()) => loaded.push(spec),
            Err(e) => console::log(format_args!("service {:?} skipped: {e}", spec.id)),
        }
    }
    let names: Vec<&str> = loaded.iter().map(|s| s.id.as_str()).collect();
    console::log(format_args!("services loaded: [{}]", names.join(", ")));
    ctx.machine.set_services(loaded);
    Ok(())
}

/// The node's hostname: the hostname resource when set, else the kernel's.
fn node_hostname(ctx: &Context) -> String {
    use crate::machine::resources::{HostnameSpec, HOSTNAME_ID};
    use basalt_resources::Spec as _;
    ctx.store
        .get(HostnameSpec::NAMESPACE, HostnameSpec::TYPE, HOSTNAME_ID)
        .ok()
        .and_then(|r| r.spec_as::<HostnameSpec>().ok())
        .map(|s| s.hostname)
        .filter(|h| !h.is_empty())
        .or_else(|| {
            nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
        })
        .unwrap_or_default()
}

/// Starts every loaded service (each waits for its own dependencies).
pub async fn start_services(ctx: Context) -> anyhow::Result<()> {
    ctx.supervisor.start_all().await;
    Ok(())
}

/// Waits (at most `ctx.ready_timeout`) until every loaded service is ready, then publishes
/// stage `running` with `ready` telling whether they all made it.
pub async fn wait_for_services(ctx: Context) -> anyhow::Result<()> {
    let specs = ctx.machine.services();
    let deadline = Instant::now() + ctx.ready_timeout;
    // Re-check whenever a service changes state (subscribed before the first check, so no
    // change is missed); a slow tick is only a safety net.
    let mut changes = ctx.bus.subscribe(None);
    let not_ready = loop {
        let infos = ctx.supervisor.list();
        let not_ready: Vec<String> = specs
            .iter()
            .filter(|s| !is_ready(s, infos.iter().find(|i| i.id == s.id)))
            .map(|s| s.id.clone())
            .collect();
        if not_ready.is_empty() || Instant::now() >= deadline {
            break not_ready;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), changes.next()).await;
    };
    if !not_ready.is_empty() {
        console::log(format_args!(
            "services not ready after {:?}: [{}]; the machine runs but is not ready",
            ctx.ready_timeout,
            not_ready.join(", ")
        ));
    }
    set_stage(&ctx, "running", not_ready.is_empty())
}

/// Running and healthy (or without a health check), or done on purpose.
fn is_ready(spec: &ServiceSpec, info: Option<&ServiceInfo>) -> bool {
    let Some(info) = info else { return false };
    match info.state {
        ServiceState::Running => spec.health.is_none() || info.health.healthy,
        ServiceState::Finished | ServiceState::Skipped => true,
        _ => false,
    }
}
