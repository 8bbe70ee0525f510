//! `initialize`: pseudo file systems, loopback, config, hostname, identity resources.

use anyhow::Context as _;
use basalt_resources::{Resource, Spec as _};
use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;

use super::set_stage;
use crate::config_source::{Acquired, ConfigSource};
use crate::logs::LogStream;
use crate::machine::apid_service::{self, ApidMode, APID_ID};
use crate::machine::identity;
use crate::machine::resources::{self, HostnameSpec, MemberSpec, HOSTNAME_ID};
use crate::pid1::console;
use crate::platform::{self, Mode, Paths};
use crate::sequencer::Context;

/// Mounts `/proc`, `/sys` (and in metal mode `/dev`, `/run`).
pub async fn mount_pseudo(ctx: Context) -> anyhow::Result<()> {
    platform::mount_pseudo(ctx.sys.as_ref(), ctx.mode, &ctx.paths)?;
    Ok(())
}

/// Brings `lo` up (a fresh network namespace has it down; health checks use 127.0.0.1).
pub async fn loopback_up(ctx: Context) -> anyhow::Result<()> {
    ctx.sys.link_up(1)?;
    Ok(())
}

/// Acquires the machine config (STATE, then `basalt.config=`, else maintenance mode) and
/// publishes it. In maintenance mode apid runs with `--maintenance` until a config arrives.
pub async fn load_config(ctx: Context) -> anyhow::Result<()> {
    let source = ConfigSource {
        root: ctx.paths.root.clone(),
        state_dir: Paths::STATE.into(),
        argument: config_argument(&ctx),
        mode: ctx.mode,
    };
    let acquired = source.acquire(&mut |line| console::log(format_args!("{line}")));
    let config = match acquired {
        Acquired::Config { config, origin } => {
            console::log(format_args!("machine config loaded from {origin}"));
            *config
        }
        Acquired::Maintenance(reason) => {
            set_stage(&ctx, "maintenance", false)?;
            let echo = ctx.cancel.child_token();
            start_maintenance_apid(&ctx, echo.clone()).await;
            let waited = ctx
                .maintenance
                .wait_for_config(&reason, ctx.machine.inbox(), ctx.cancel.clone())
                .await;
            echo.cancel();
            // stopped before boot loads apid in normal mode (a reboot stops it anyway)
            if let Err(e) = ctx.supervisor.stop(APID_ID).await {
                console::log(format_args!("warning: cannot stop maintenance apid: {e}"));
            }
            waited.with_context(|| format!("maintenance mode ended without a config ({reason})"))?
        }
    };
    resources::publish_config(&ctx.store, &config)?;
    ctx.machine.set_config(Some(config));
    Ok(())
}

/// Starts apid in maintenance mode (with the pinned maintenance CA, if any); a failure is
/// logged (the console and the local socket still work). apid's `maintenance mode: …` lines
/// (its certificate fingerprint) are echoed on machined's console until `echo` is cancelled.
async fn start_maintenance_apid(ctx: &Context, echo: CancellationToken) {
    if !apid_service::binary_present(&ctx.paths, &ctx.exe) {
        console::log(format_args!(
            "apid not started: {} is missing in the node; apply a config over the local socket",
            ctx.exe.display()
        ));
        return;
    }
    let ca = maintenance_ca(ctx);
    let spec = apid_service::spec(&ctx.exe, &ApidMode::Maintenance { ca });
    let started = match ctx.supervisor.load(spec) {
        Ok(()) => {
            if let Ok(lines) = ctx.supervisor.logs(APID_ID, Some(0), true) {
                tokio::spawn(echo_maintenance_lines(lines, echo));
            }
            ctx.supervisor.start(APID_ID).await
        }
        Err(e) => Err(e),
    };
    if let Err(e) = started {
        console::log(format_args!("cannot start apid in maintenance mode: {e}"));
    }
}

/// Copies the lines of apid's log that announce maintenance mode (the certificate
/// fingerprint operators pin with `--cert-fingerprint`) to the console until cancelled.
async fn echo_maintenance_lines(mut lines: LogStream, cancel: CancellationToken) {
    loop {
        let line = tokio::select! {
            line = lines.next() => line,
            _ = cancel.cancelled() => None,
        };
        let Some(line) = line else { return };
        let text = String::from_utf8_lossy(&line);
        let text = text.strip_prefix("[apid] ").unwrap_or(&text);
        if text.starts_with("maintenance mode") {
            console::log(format_args!("{text}"));
        }
    }
}

/// The `basalt.maintenance-ca=` value: machined's arguments, else (metal) the kernel
/// command line.
fn maintenance_ca(ctx: &Context) -> Option<std::path::PathBuf> {
    let given = ctx.machine.maintenance_ca();
    if given.is_some() || ctx.mode != Mode::Metal {
        return given;
    }
    let cmdline = std::fs::read_to_string(ctx.paths.host("/proc/cmdline")).ok()?;
    crate::config_source::maintenance_ca_argument(cmdline.split_whitespace())
}

/// The `basalt.config=` value: machined's arguments, else (metal) the kernel command line.
fn config_argument(ctx: &Context) -> Option<std::path::PathBuf> {
    if ctx.config_argument.is_some() || ctx.mode != Mode::Metal {
        return ctx.config_argument.clone();
    }
    let cmdline = std::fs::read_to_string(ctx.paths.host("/proc/cmdline")).ok()?;
    crate::config_source::config_argument(cmdline.split_whitespace())
}

/// Sets the hostname from `machine.network.hostname` (keeps the current one when unset) and
/// publishes it.
pub async fn set_hostname(ctx: Context) -> anyhow::Result<()> {
    let configured = ctx.machine.config().and_then(|c| {
        c.v1alpha1()
            .and_then(|d| d.machine.network.as_ref()?.hostname.clone())
    });
    let full = match configured {
        Some(h) => h,
        None => nix::unistd::gethostname()
            .context("cannot read the current hostname")?
            .to_string_lossy()
            .into_owned(),
    };
    let (short, domain) = full.split_once('.').unwrap_or((full.as_str(), ""));
    ctx.sys.sethostname(short)?;
    let spec = HostnameSpec {
        hostname: short.to_string(),
        domainname: domain.to_string(),
    };
    ctx.store
        .apply(resources::OWNER, Resource::from_spec(HOSTNAME_ID, &spec)?)?;
    Ok(())
}

/// Publishes this node as a `Members` resource (id = node identity from STATE).
pub async fn publish_identity(ctx: Context) -> anyhow::Result<()> {
    let node_id = identity::load_or_create(&ctx.paths.state())?;
    let hostname: HostnameSpec = ctx
        .store
        .get(HostnameSpec::NAMESPACE, HostnameSpec::TYPE, HOSTNAME_ID)?
        .spec_as()?;
    let machine_type = ctx
        .machine
        .config()
        .map(|c| resources::machine_type(&c))
        .unwrap_or_else(|| "unknown".into());
    let spec = MemberSpec {
        node_id: node_id.clone(),
        addresses: identity::addresses(),
        hostname: hostname.hostname,
        machine_type,
    };
    ctx.store
        .apply(resources::OWNER, Resource::from_spec(node_id, &spec)?)?;
    Ok(())
}
