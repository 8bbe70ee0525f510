//! `cluster destroy`: stop every node and remove what the cluster made (idempotent).

use std::time::Duration;

use basalt_provision::{container, qemu_cluster};
use clap::Args;

use super::progress::Steps;
use super::{StateDir, DEFAULT_NAME};
use crate::global::GlobalArgs;

/// Arguments of `cluster destroy`.
#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Cluster name
    #[arg(long, default_value = DEFAULT_NAME)]
    pub name: String,
    /// How long each node may take to shut down before it is killed (QEMU VMs: after the
    /// `shutdown` call)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::commands::duration::parse)]
    pub timeout: Duration,
    #[command(flatten)]
    pub state: StateDir,
}

/// Runs `cluster destroy`; the client contexts made for the cluster (they trust its CA) are
/// removed from the user's client config too.
pub fn run(global: &GlobalArgs, args: &DestroyArgs) -> anyhow::Result<()> {
    let steps = Steps::new();
    let dir = args.state.path();
    let cluster_ca = cluster_ca(&dir.join(&args.name).join("basaltconfig"));
    let report = if qemu_cluster::is_qemu_cluster(&dir, &args.name) {
        super::qemu::destroy(&dir, &args.name, args.timeout, &steps)?
    } else {
        container::destroy(&dir, &args.name, args.timeout)?
    };
    if report.removed.is_empty() && report.failed.is_empty() {
        println!("cluster {}: nothing to remove", args.name);
        return Ok(());
    }
    for r in &report.removed {
        println!("removed {r}");
    }
    for f in &report.failed {
        eprintln!("NOT removed: {f}");
    }
    if let Some(ca) = cluster_ca {
        match forget_contexts(global, &ca) {
            Ok(names) if !names.is_empty() => {
                println!("removed client context(s) {}", names.join(", "))
            }
            Ok(_) => {}
            Err(e) => eprintln!("warning: client contexts of the cluster are kept: {e:#}"),
        }
    }
    steps.done(&format!("cluster {} destroyed", args.name));
    if !report.failed.is_empty() {
        anyhow::bail!(
            "cluster {}: {} things could not be removed (listed above)",
            args.name,
            report.failed.len()
        );
    }
    Ok(())
}

/// The CA the cluster's own client config trusts (`None` when it cannot be read).
fn cluster_ca(basaltconfig: &std::path::Path) -> Option<basalt_client_config::PemBlob> {
    let file = basalt_client_config::ConfigFile::load_existing(basaltconfig).ok()?;
    let config = file.config();
    let name = config.current_name()?;
    config.context(name).ok()?.ca.clone()
}

/// Removes every context of the user's client config that trusts `ca`; returns their names.
fn forget_contexts(
    global: &GlobalArgs,
    ca: &basalt_client_config::PemBlob,
) -> anyhow::Result<Vec<String>> {
    let mut file = global.load_config()?;
    let names: Vec<String> = file
        .config()
        .contexts()
        .iter()
        .filter(|(_, c)| c.ca.as_ref() == Some(ca))
        .map(|(name, _)| name.clone())
        .collect();
    if names.is_empty() {
        return Ok(names);
    }
    for name in &names {
        file.config_mut().forget(name)?;
    }
    file.save()?;
    Ok(names)
}
