//! `cluster create`: plan, check, generate configs, start the nodes, wait for apid,
//! bootstrap etcd, wait for every control-plane voter, merge the client context.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use basalt_client_config::ConfigFile;
use basalt_config::validate::Mode;
use basalt_pki::SecretsBundle;
use basalt_provision::container::{self, ClusterPlan, CreateRequest};
use basalt_provision::qemu::Accel;
use clap::{Args, ValueEnum};

use super::configs::{self, Patches};
use super::progress::Steps;
use super::{wait, StateDir, DEFAULT_NAME};
use crate::client;
use crate::global::GlobalArgs;

/// Where the nodes run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Provisioner {
    /// Namespaces on this host, the image mounted as each node's root
    Container,
    /// QEMU virtual machines booting the image (metal mode), one tap per VM on a bridge
    Qemu,
}

/// Arguments of `cluster create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Cluster name (also the client context's name)
    #[arg(long, default_value = DEFAULT_NAME)]
    pub name: String,
    /// Number of control-plane nodes
    #[arg(long, default_value_t = 3)]
    pub controlplanes: usize,
    /// Number of worker nodes
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Where the nodes run
    #[arg(long, value_enum, default_value_t = Provisioner::Container)]
    pub provisioner: Provisioner,
    /// The cluster network (the bridge gets the first address, nodes the next ones)
    #[arg(long, default_value = "10.5.0.0/24")]
    pub cidr: String,
    /// QEMU accelerator (qemu provisioner): auto (KVM when usable, else TCG), tcg or kvm
    #[arg(long, value_name = "ACCEL", default_value = "auto", value_parser = super::qemu::parse_accel)]
    pub accel: Accel,
    /// Image directory holding rootfs.sqsh (container) or vmlinuz, initramfs.img, cmdline
    /// (qemu) [default: target/image of this checkout]
    #[arg(long, value_name = "DIR")]
    pub image: Option<PathBuf>,
    /// Patch applied to every node's config (inline YAML/JSON or @file); repeatable
    #[arg(long, value_name = "PATCH")]
    pub config_patch: Vec<String>,
    /// Patch applied to control-plane configs only; repeatable
    #[arg(long, value_name = "PATCH")]
    pub config_patch_control_plane: Vec<String>,
    /// Patch applied to worker configs only; repeatable
    #[arg(long, value_name = "PATCH")]
    pub config_patch_worker: Vec<String>,
    /// Start the nodes and wait for apid only: no Bootstrap, no etcd wait
    #[arg(long)]
    pub skip_bootstrap: bool,
    /// How long to wait for each of apid, bootstrap and etcd membership
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = crate::commands::duration::parse)]
    pub wait_timeout: Duration,
    /// Do not merge a context into the client config
    #[arg(long)]
    pub skip_context: bool,
    #[command(flatten)]
    pub state: StateDir,
}

/// The image directory of the checkout basaltctl was built from.
fn default_image_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/image")
        .components()
        .collect()
}

/// Runs `cluster create`.
pub fn run(global: &GlobalArgs, args: &CreateArgs) -> anyhow::Result<()> {
    let steps = Steps::new();
    let clusters_dir = args.state.path();
    let image_dir = args.image.clone().unwrap_or_else(default_image_dir);
    let plan = ClusterPlan::new(&args.name, &args.cidr, args.controlplanes, args.workers)?;
    let qemu = args.provisioner == Provisioner::Qemu;
    if qemu {
        super::qemu::preflight(&plan, &clusters_dir, &image_dir)?;
    } else {
        container::preflight(&plan, &clusters_dir, &image_dir)?;
    }
    let patches = Patches::load(
        &args.config_patch,
        &args.config_patch_control_plane,
        &args.config_patch_worker,
    )?;
    let secrets = SecretsBundle::generate().context("cannot generate the secrets bundle")?;
    let mode = if qemu { Mode::Metal } else { Mode::Container };
    let node_configs = configs::node_configs(&plan, &secrets, &patches, mode)?;
    let client_config = configs::client_config(&plan, &secrets)?;
    steps.done(&format!(
        "generated secrets and {} configs (endpoint {})",
        node_configs.len(),
        configs::endpoint(&plan)?
    ));

    let dir = if qemu {
        super::qemu::create(
            &plan,
            clusters_dir.clone(),
            image_dir,
            node_configs,
            args.accel,
            &steps,
        )?
    } else {
        let request = CreateRequest {
            plan: plan.clone(),
            clusters_dir: clusters_dir.clone(),
            image_dir,
            configs: node_configs,
        };
        container::create(&request, &mut |line| steps.done(line))?.dir
    };
    let basaltconfig = dir.join("basaltconfig");
    ConfigFile::new(&basaltconfig, client_config.clone())
        .save()
        .context("cannot write the cluster's client config")?;
    let secrets_path = dir.join("secrets.yaml");
    basalt_client_config::write_private_file(&secrets_path, secrets.to_yaml()?.as_bytes())
        .with_context(|| format!("cannot write {}", secrets_path.display()))?;

    let left_running = |e: anyhow::Error| {
        e.context(format!(
            "the cluster is left running for inspection (console logs under {}); remove it with `basaltctl cluster destroy --name {}`",
            dir.join("nodes").display(),
            plan.name
        ))
    };
    client::block_on(async {
        wait::apid_ready(&plan, &basaltconfig, &steps, args.wait_timeout).await?;
        if !args.skip_bootstrap {
            wait::bootstrap(&plan, &basaltconfig, &steps, args.wait_timeout).await?;
            wait::etcd_voters(&plan, &basaltconfig, &steps, args.wait_timeout).await?;
        }
        Ok(())
    })
    .map_err(left_running)?;

    let context = if args.skip_context {
        format!(
            "(not merged; use --basaltconfig {})",
            basaltconfig.display()
        )
    } else {
        merge_context(global, client_config)?
    };
    print_summary(&plan, &dir, &context, &steps);
    Ok(())
}

/// Merges the cluster's context into the user's client config and makes it current.
fn merge_context(
    global: &GlobalArgs,
    incoming: basalt_client_config::ClientConfig,
) -> anyhow::Result<String> {
    let mut file = global.load_config()?;
    let renames = file.config_mut().merge(incoming);
    file.save()
        .with_context(|| format!("cannot save {}", file.path().display()))?;
    let name = file.config().current_name().unwrap_or_default().to_string();
    let mut text = format!("{name} (in {})", file.path().display());
    for r in renames {
        text.push_str(&format!(
            "; context {} existed, the new one is {}",
            r.from, r.to
        ));
    }
    Ok(text)
}

fn print_summary(plan: &ClusterPlan, dir: &std::path::Path, context: &str, steps: &Steps) {
    println!(
        "\ncluster {} is up after {:.1}s",
        plan.name,
        steps.elapsed().as_secs_f64()
    );
    println!("  directory: {}", dir.display());
    println!(
        "  bridge:    {} ({}/{})",
        plan.bridge,
        plan.gateway,
        plan.cidr.prefix_len()
    );
    println!("  context:   {context}");
    println!("  nodes:");
    for n in &plan.nodes {
        println!("    {:<32} {:<13} {}", n.name, n.role.to_string(), n.ip);
    }
    println!(
        "\nnext: basaltctl --context {0} etcd members | basaltctl cluster show --name {0} | basaltctl cluster destroy --name {0}",
        plan.name
    );
}
