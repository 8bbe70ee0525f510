//! The machine configs of a local cluster: one secrets bundle, the generated control-plane
//! and worker configs, the user's patches, then a per-node patch (hostname, static address
//! and default route on `eth0`, certificate SANs); and the admin client context.

use anyhow::{bail, Context as _};
use basalt_client_config::{ClientConfig, Context as ClientContext, PemBlob};
use basalt_config::generate::{generate, GenerateOptions};
use basalt_config::patch::{self, LoadedPatch};
use basalt_config::validate::{validate, Mode};
use basalt_config::MachineConfig;
use basalt_pki::{issue_client_certificate, SecretsBundle, ADMIN_CERT_LIFETIME};
use basalt_provision::container::{ClusterPlan, NodePlan, Role};

/// User patches: for every node, control-plane nodes only, workers only.
#[derive(Debug, Default)]
pub struct Patches {
    /// `--config-patch`.
    pub all: Vec<LoadedPatch>,
    /// `--config-patch-control-plane`.
    pub controlplane: Vec<LoadedPatch>,
    /// `--config-patch-worker`.
    pub worker: Vec<LoadedPatch>,
}

impl Patches {
    /// Loads the patch arguments (`@file` or inline).
    pub fn load(all: &[String], cp: &[String], worker: &[String]) -> anyhow::Result<Self> {
        let load = |args: &[String]| -> anyhow::Result<Vec<LoadedPatch>> {
            args.iter().map(|a| Ok(patch::load_patch_arg(a)?)).collect()
        };
        Ok(Self {
            all: load(all)?,
            controlplane: load(cp)?,
            worker: load(worker)?,
        })
    }
}

/// `https://<first control-plane IP>:6443`.
pub fn endpoint(plan: &ClusterPlan) -> anyhow::Result<String> {
    let first = plan
        .controlplanes()
        .next()
        .context("the cluster has no control-plane node")?;
    Ok(format!("https://{}:6443", first.ip))
}

/// One config per node (plan order), patched and validated for `mode` (container nodes:
/// container; QEMU VMs: metal).
pub fn node_configs(
    plan: &ClusterPlan,
    secrets: &SecretsBundle,
    patches: &Patches,
    mode: Mode,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let options = GenerateOptions {
        additional_sans: plan.controlplanes().map(|n| n.ip.to_string()).collect(),
        ..GenerateOptions::new(&plan.name, endpoint(plan)?)
    };
    let generated = generate(secrets, &options)?;
    plan.nodes
        .iter()
        .map(|node| {
            let (base, role_patches) = match node.role {
                Role::Controlplane => (&generated.controlplane, &patches.controlplane),
                Role::Worker => (&generated.worker, &patches.worker),
            };
            node_config(plan, node, base, &patches.all, role_patches, mode)
        })
        .collect()
}

fn node_config(
    plan: &ClusterPlan,
    node: &NodePlan,
    base: &MachineConfig,
    common: &[LoadedPatch],
    role: &[LoadedPatch],
    mode: Mode,
) -> anyhow::Result<Vec<u8>> {
    let name = &node.name;
    let text = base
        .to_yaml()
        .with_context(|| format!("cannot encode the config of {name}"))?;
    let own = patch::parse_patch(&node_patch(plan, node), "node patch")
        .with_context(|| format!("cannot build the node patch of {name}"))?;
    let all: Vec<LoadedPatch> = common.iter().chain(role).cloned().chain([own]).collect();
    let text = patch::apply_all(&text, &all)
        .with_context(|| format!("cannot patch the config of {name}"))?;
    let decoded = MachineConfig::from_yaml(&text)
        .with_context(|| format!("the patched config of {name} is not a valid config"))?;
    let report = validate(&decoded, mode);
    if !report.errors.is_empty() {
        let lines: Vec<String> = report.errors.iter().map(|f| format!("  {f}")).collect();
        bail!(
            "the patched config of {name} is not valid (check --config-patch):\n{}",
            lines.join("\n")
        );
    }
    Ok(text.into_bytes())
}

/// The strategic merge patch that makes a generated config this node's.
fn node_patch(plan: &ClusterPlan, node: &NodePlan) -> String {
    let prefix = plan.cidr.prefix_len();
    format!(
        "machine:\n  certSANs:\n    - {ip}\n  network:\n    hostname: {host}\n    interfaces:\n      - interface: eth0\n        addresses:\n          - {ip}/{prefix}\n        routes:\n          - network: 0.0.0.0/0\n            gateway: {gw}\n",
        ip = node.ip,
        host = node.name,
        gw = plan.gateway,
    )
}

/// The admin client config with one context named after the cluster: endpoints = the
/// control-plane IPs, nodes = every IP.
pub fn client_config(plan: &ClusterPlan, secrets: &SecretsBundle) -> anyhow::Result<ClientConfig> {
    let os_ca = secrets
        .os_ca()
        .context("the OS CA in the secrets bundle is unusable")?;
    let admin = issue_client_certificate(&os_ca, &["os:admin"], ADMIN_CERT_LIFETIME)
        .context("cannot issue the admin client certificate")?;
    let context = ClientContext {
        endpoints: plan.controlplanes().map(|n| n.ip.to_string()).collect(),
        nodes: plan.nodes.iter().map(|n| n.ip.to_string()).collect(),
        ca: Some(PemBlob::from_pem(secrets.certs.os.crt.as_bytes())?),
        crt: Some(PemBlob::from_pem(admin.cert_pem.as_bytes())?),
        key: Some(PemBlob::from_pem(admin.key_pem.as_bytes())?),
    };
    Ok(ClientConfig::with_context(&plan.name, context)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_node_gets_its_name_address_and_route() {
        let plan = ClusterPlan::new("t", "10.9.0.0/24", 2, 1).unwrap();
        let secrets = SecretsBundle::generate().unwrap();
        let configs = node_configs(&plan, &secrets, &Patches::default(), Mode::Container).unwrap();
        assert_eq!(configs.len(), 3);
        let w = String::from_utf8(configs[2].clone()).unwrap();
        assert!(w.contains("hostname: t-worker-1"), "{w}");
        assert!(w.contains("10.9.0.4/24"), "{w}");
        assert!(w.contains("gateway: 10.9.0.1"), "{w}");
        assert!(w.contains("https://10.9.0.2:6443"), "{w}");
        let cp = String::from_utf8(configs[0].clone()).unwrap();
        assert!(cp.contains("type: controlplane"), "{cp}");
        let client = client_config(&plan, &secrets).unwrap();
        let ctx = client.context("t").unwrap();
        assert_eq!(ctx.endpoints, ["10.9.0.2", "10.9.0.3"]);
        assert_eq!(ctx.nodes.len(), 3);
    }
}
