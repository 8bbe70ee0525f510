//! `basaltctl bootstrap [--recover-from SNAPSHOT] [--recover-skip-hash-check]`: starts a new
//! etcd cluster on one control-plane node; with `--recover-from`, first uploads the snapshot
//! (EtcdRecover) and recovers etcd from it.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use basalt_api::common::Data;
use basalt_api::machine::BootstrapRequest;
use clap::Args;

use crate::client::replies::{self, split};
use crate::client::{self, status_error, Client};
use crate::global::GlobalArgs;
use crate::output;

/// Upload chunk size of the snapshot.
const CHUNK: usize = 1024 * 1024;

/// Arguments of `bootstrap`.
#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// Recover etcd from this snapshot (taken with `basaltctl etcd snapshot`)
    #[arg(long, value_name = "SNAPSHOT")]
    pub recover_from: Option<PathBuf>,

    /// Skip the snapshot's hash check (for a db file copied out of a data directory)
    #[arg(long, requires = "recover_from")]
    pub recover_skip_hash_check: bool,
}

/// Runs `bootstrap`.
pub fn run(global: &GlobalArgs, args: &BootstrapArgs) -> anyhow::Result<()> {
    client::block_on(async {
        let mut client = Client::connect(global).await?;
        if client.nodes().len() > 1 {
            bail!("bootstrap starts etcd on ONE control-plane node; give exactly one with -n");
        }
        if let Some(path) = &args.recover_from {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read the snapshot {}", path.display()))?;
            if bytes.is_empty() {
                bail!("the snapshot {} is empty", path.display());
            }
            let chunks: Vec<Data> = bytes
                .chunks(CHUNK)
                .map(|c| Data {
                    bytes: c.to_vec(),
                    metadata: None,
                })
                .collect();
            client
                .machine
                .etcd_recover(tonic::codegen::tokio_stream::iter(chunks))
                .await
                .map_err(|s| status_error("cannot upload the etcd snapshot", &s))?;
        }
        let reply = client
            .machine
            .bootstrap(BootstrapRequest {
                recover_etcd: args.recover_from.is_some(),
                recover_skip_hash_check: args.recover_skip_hash_check,
            })
            .await
            .map_err(|s| status_error("cannot bootstrap etcd", &s))?
            .into_inner();
        let fallback = client.node_name(None).await;
        let nodes = split(&fallback, reply.messages, |m| m.metadata.as_ref());
        let text: String = nodes
            .ok
            .iter()
            .map(|(n, _)| format!("{n}: etcd bootstrap started\n"))
            .collect();
        output::print(&text)?;
        replies::finish(&nodes.failed)
    })
}
