//! `initialize`: pseudo file systems, loopback, config, hostname, identity resources.

use anyhow::Context as _;
use basalt_resources::{Resource, Spec as _};
use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;

use super::set_stage;
use crate::config_source::{Acquired, ConfigSource, FetchPolicy, DEVICE_WAIT};
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

/// Acquires the machine config (STATE, then `basalt.config=` — an http URL, a raw config disk
/// or a file — else maintenance mode) and publishes it. In maintenance mode apid runs with
/// `--maintenance` until a config arrives.
pub async fn load_config(ctx: Context) -> anyhow::Result<()> {
    let source = ConfigSource {
        root: ctx.paths.root.clone(),
        state_dir: Paths::STATE.into(),
        argument: config_argument(&ctx),
        mode: ctx.mode,
        fetch: FetchPolicy::default(),
        device_wait: DEVICE_WAIT,
    };
    let acquired = source
        .acquire(&ctx.cancel, &mut |line| {
            console::log(format_args!("{line}"))
        })
        .await;
    let config = match acquired {
        Acquired::Config {
            config,
            origin,
            bytes,
            elapsed,
        } => {
            console::log(format_args!(
                "machine config loaded from {origin} ({bytes} bytes, {:.1} s)",
                elapsed.as_secs_f64()
            ));
            *config
        }
        Acquired::Cancelled => anyhow::bail!("config acquisition cancelled (reboot or shutdown)"),
        Acquired::Maintenance(reason) => {
            set_stage(&ctx, "maintenance", false)?;
            name_unnamed_machine(&ctx);
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
    if ctx.machine.skip_config_argument() {
        console::log(format_args!(
            "basalt.config= ignored: a reset wiped STATE; apply a config to leave maintenance mode"
        ));
        return None;
    }
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
    let current = nix::unistd::gethostname()
        .context("cannot read the current hostname")?
        .to_string_lossy()
        .into_owned();
    let full = match configured {
        Some(h) => h,
        // a real machine starts without a name ("(none)"); Talos-like default from the MAC
        None if ctx.mode == Mode::Metal && unnamed(&current) => {
            default_hostname(&ctx.paths.host("/sys/class/net"))
        }
        None => current,
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

/// In metal mode, gives a machine without a hostname its default one right away, so that
/// maintenance-mode replies name the node (`setHostname` publishes the final one later).
fn name_unnamed_machine(ctx: &Context) {
    let current = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    if ctx.mode == Mode::Metal && unnamed(&current) {
        let name = default_hostname(&ctx.paths.host("/sys/class/net"));
        if let Err(e) = ctx.sys.sethostname(&name) {
            console::log(format_args!("warning: {e}"));
        }
    }
}

/// Whether the kernel's hostname is unset (`(none)` or empty).
fn unnamed(hostname: &str) -> bool {
    hostname.is_empty() || hostname == "(none)" || hostname == "localhost"
}

/// `basalt-<MAC without colons>` of the first link with a hardware address under
/// `sys_class_net` (sorted by name, `lo` and all-zero addresses skipped); `basalt` when none.
pub fn default_hostname(sys_class_net: &std::path::Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(sys_class_net)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
        .iter()
        .filter(|name| name.as_str() != "lo")
        .filter_map(|name| std::fs::read_to_string(sys_class_net.join(name).join("address")).ok())
        .map(|mac| mac.trim().replace(':', ""))
        .find(|mac| !mac.is_empty() && mac.chars().any(|c| c != '0'))
        .map(|mac| format!("basalt-{mac}"))
        .unwrap_or_else(|| "basalt".to_string())
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn default_hostname_uses_the_first_real_mac() {
        let dir = tempfile::tempdir().unwrap();
        let link = |name: &str, mac: &str| {
            std::fs::create_dir_all(dir.path().join(name)).unwrap();
            std::fs::write(dir.path().join(name).join("address"), format!("{mac}\n")).unwrap();
        };
        assert_eq!(default_hostname(dir.path()), "basalt");
        link("lo", "00:00:00:00:00:00");
        link("sit0", "00:00:00:00");
        assert_eq!(default_hostname(dir.path()), "basalt");
        link("eth1", "52:54:00:aa:bb:02");
        link("eth0", "52:54:00:12:34:56");
        assert_eq!(default_hostname(dir.path()), "basalt-525400123456");
        assert!(unnamed("(none)") && unnamed("") && !unnamed("cp-1"));
    }
}
