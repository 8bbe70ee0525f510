//! `basaltctl gen config NAME ENDPOINT`: control-plane and worker configs plus an admin
//! client config, following `talosctl gen config`'s flags.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use basalt_client_config::{ClientConfig, Context as ClientContext, PemBlob};
use basalt_config::generate::{
    generate, GenerateOptions, DEFAULT_INSTALL_DISK, DEFAULT_KUBERNETES_VERSION,
};
use basalt_config::patch::{self, LoadedPatch};
use basalt_config::validate::{validate, Mode};
use basalt_config::MachineConfig;
use basalt_pki::{issue_client_certificate, SecretsBundle, ADMIN_CERT_LIFETIME};
use clap::{Args, ValueEnum};

use super::outputs::write_output;

/// What `gen config` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputType {
    /// controlplane.yaml
    Controlplane,
    /// worker.yaml
    Worker,
    /// the admin client config (`talosconfig` is accepted as an alias)
    #[value(alias = "talosconfig")]
    Basaltconfig,
}

impl OutputType {
    fn file_name(self) -> &'static str {
        match self {
            OutputType::Controlplane => "controlplane.yaml",
            OutputType::Worker => "worker.yaml",
            OutputType::Basaltconfig => "basaltconfig",
        }
    }
}

/// Arguments of `gen config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Cluster name
    pub cluster_name: String,
    /// Kubernetes API endpoint, e.g. https://10.5.0.2:6443
    pub endpoint: String,
    /// Use this secrets bundle (from `gen secrets`) instead of generating new secrets
    #[arg(long, value_name = "FILE")]
    pub with_secrets: Option<PathBuf>,
    /// Patch applied to every generated config (inline YAML/JSON or @file); repeatable
    #[arg(long, value_name = "PATCH")]
    pub config_patch: Vec<String>,
    /// Patch applied to controlplane.yaml only; repeatable
    #[arg(long, value_name = "PATCH")]
    pub config_patch_control_plane: Vec<String>,
    /// Patch applied to worker.yaml only; repeatable
    #[arg(long, value_name = "PATCH")]
    pub config_patch_worker: Vec<String>,
    /// Which files to write
    #[arg(
        short = 't',
        long,
        value_enum,
        value_delimiter = ',',
        default_values_t = [OutputType::Controlplane, OutputType::Worker, OutputType::Basaltconfig]
    )]
    pub output_types: Vec<OutputType>,
    /// Output directory; with a single output type, a file path or `-` for stdout
    #[arg(short = 'o', long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Extra SANs (IPs or DNS names) for node and API server certificates
    #[arg(long, value_delimiter = ',', value_name = "SAN")]
    pub additional_sans: Vec<String>,
    /// Kubernetes version of the generated cluster
    #[arg(long, default_value = DEFAULT_KUBERNETES_VERSION)]
    pub kubernetes_version: String,
    /// Disk to install to (metal mode)
    #[arg(long, default_value = DEFAULT_INSTALL_DISK)]
    pub install_disk: String,
    /// Overwrite existing files
    #[arg(long)]
    pub force: bool,
}

/// Generates, patches, validates and writes the requested files.
pub fn run(args: &ConfigArgs) -> anyhow::Result<()> {
    let secrets = match &args.with_secrets {
        Some(path) => SecretsBundle::from_file(path)?,
        None => SecretsBundle::generate().context("cannot generate the secrets bundle")?,
    };
    let options = GenerateOptions {
        additional_sans: args.additional_sans.clone(),
        kubernetes_version: args.kubernetes_version.clone(),
        install_disk: args.install_disk.clone(),
        ..GenerateOptions::new(&args.cluster_name, &args.endpoint)
    };
    let configs = generate(&secrets, &options)?;
    let common = load_patches(&args.config_patch)?;
    let targets = output_targets(args)?;
    let mut outputs = Vec::new();
    for (kind, path) in targets {
        let bytes = match kind {
            OutputType::Controlplane => {
                let extra = load_patches(&args.config_patch_control_plane)?;
                patch_and_check(&configs.controlplane, &common, &extra, kind)?
            }
            OutputType::Worker => {
                let extra = load_patches(&args.config_patch_worker)?;
                patch_and_check(&configs.worker, &common, &extra, kind)?
            }
            OutputType::Basaltconfig => {
                client_config(&secrets, &args.cluster_name, &args.endpoint)?
            }
        };
        outputs.push((path, bytes));
    }
    // Everything is generated before anything is written: a bad patch writes nothing.
    if !args.force {
        if let Some((path, _)) = outputs
            .iter()
            .find(|(p, _)| p != Path::new("-") && p.exists())
        {
            bail!(
                "{} already exists; use --force to overwrite it",
                path.display()
            );
        }
    }
    for (path, bytes) in &outputs {
        write_output(path, bytes, args.force)?;
        if path != Path::new("-") {
            eprintln!("generated {}", path.display());
        }
    }
    Ok(())
}

/// Decides where each requested output goes.
fn output_targets(args: &ConfigArgs) -> anyhow::Result<Vec<(OutputType, PathBuf)>> {
    let mut types = args.output_types.clone();
    types.dedup();
    if types.len() == 1 {
        let kind = types[0];
        let path = match &args.output {
            None => PathBuf::from(kind.file_name()),
            Some(p) if p.is_dir() => p.join(kind.file_name()),
            Some(p) => p.clone(),
        };
        return Ok(vec![(kind, path)]);
    }
    let dir = args.output.clone().unwrap_or_else(|| PathBuf::from("."));
    if dir == Path::new("-") {
        bail!("-o - (stdout) needs exactly one output type; add e.g. -t controlplane");
    }
    if dir.exists() && !dir.is_dir() {
        bail!(
            "{} is not a directory; with several output types -o names a directory",
            dir.display()
        );
    }
    Ok(types
        .into_iter()
        .map(|t| (t, dir.join(t.file_name())))
        .collect())
}

fn load_patches(args: &[String]) -> anyhow::Result<Vec<LoadedPatch>> {
    args.iter()
        .map(|arg| Ok(patch::load_patch_arg(arg)?))
        .collect()
}

/// Applies the common and role patches, then checks the result strictly and semantically
/// (metal mode: the generated configs are meant to install).
fn patch_and_check(
    config: &MachineConfig,
    common: &[LoadedPatch],
    extra: &[LoadedPatch],
    kind: OutputType,
) -> anyhow::Result<Vec<u8>> {
    let name = kind.file_name();
    let text = config
        .to_yaml()
        .with_context(|| format!("cannot encode {name}"))?;
    let all: Vec<LoadedPatch> = common.iter().chain(extra).cloned().collect();
    let text = if all.is_empty() {
        text
    } else {
        patch::apply_all(&text, &all).with_context(|| format!("cannot patch {name}"))?
    };
    let decoded = MachineConfig::from_yaml(&text)
        .with_context(|| format!("the patched {name} is not a valid config"))?;
    let report = validate(&decoded, Mode::Metal);
    if !report.errors.is_empty() {
        let lines: Vec<String> = report.errors.iter().map(|f| format!("  {f}")).collect();
        bail!("the patched {name} is not valid:\n{}", lines.join("\n"));
    }
    Ok(text.into_bytes())
}

/// The admin client config: the OS CA, and a client certificate with `os:admin` valid 1 year.
fn client_config(
    secrets: &SecretsBundle,
    cluster_name: &str,
    endpoint: &str,
) -> anyhow::Result<Vec<u8>> {
    let os_ca = secrets
        .os_ca()
        .context("the OS CA in the secrets bundle is unusable")?;
    let admin = issue_client_certificate(&os_ca, &["os:admin"], ADMIN_CERT_LIFETIME)
        .context("cannot issue the admin client certificate")?;
    let host = url::Url::parse(endpoint)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
        })
        .unwrap_or_default();
    let context = ClientContext {
        endpoints: vec![host],
        nodes: Vec::new(),
        ca: Some(PemBlob::from_pem(secrets.certs.os.crt.as_bytes())?),
        crt: Some(PemBlob::from_pem(admin.cert_pem.as_bytes())?),
        key: Some(PemBlob::from_pem(admin.key_pem.as_bytes())?),
    };
    let config = ClientConfig::with_context(cluster_name, context)?;
    Ok(config.to_yaml()?.into_bytes())
}
