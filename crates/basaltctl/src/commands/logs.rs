//! `basaltctl logs ID [-f] [--tail N]`: a service's log, streamed to stdout as it arrives.

use basalt_api::common::ContainerDriver;
use basalt_api::machine::LogsRequest;
use clap::Args;

use crate::client::replies::{self, error_line, node_of, prefix_lines};
use crate::client::{self, status_error, Client};
use crate::commands::stream::{emit, Flow};
use crate::global::GlobalArgs;

/// Arguments of `logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The service id
    pub id: String,

    /// Keep streaming new lines until interrupted
    #[arg(short, long)]
    pub follow: bool,

    /// Start with the last N lines (-1: the whole log)
    #[arg(long, value_name = "N", default_value_t = -1, allow_negative_numbers = true)]
    pub tail: i32,
}

/// The request `logs` sends.
pub fn request(args: &LogsArgs) -> LogsRequest {
    LogsRequest {
        namespace: String::new(),
        id: args.id.clone(),
        driver: ContainerDriver::Containerd.into(),
        follow: args.follow,
        tail_lines: args.tail,
    }
}

/// Runs `logs`: writes each chunk to stdout as it arrives (each line prefixed with its
/// node when several nodes are asked); a node's error goes to stderr as it arrives.
pub fn run(global: &GlobalArgs, args: &LogsArgs) -> anyhow::Result<()> {
    client::block_on(async {
        let mut client = Client::connect(global).await?;
        let what = format!("cannot read the logs of service {:?}", args.id);
        let mut stream = client
            .machine
            .logs(request(args))
            .await
            .map_err(|s| status_error(&what, &s))?
            .into_inner();
        let several = client.nodes().len() > 1;
        let fallback = client.node_name(None).await;
        let mut failed = 0;
        while let Some(chunk) = stream
            .message()
            .await
            .map_err(|s| status_error(&what, &s))?
        {
            let node = chunk
                .metadata
                .as_ref()
                .map(|m| node_of(m, &fallback))
                .unwrap_or_else(|| fallback.clone());
            if let Some(m) = chunk.metadata.as_ref().filter(|m| !m.error.is_empty()) {
                eprintln!("{}", error_line(&node, &format!("{what}: {}", m.error)));
                failed += 1;
                continue;
            }
            let bytes = if several {
                prefix_lines(&node, &chunk.bytes)
            } else {
                chunk.bytes
            };
            if emit(&bytes)? == Flow::Stop {
                break;
            }
        }
        replies::fail_if_any(failed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_tail_asks_for_the_whole_log() {
        let args = LogsArgs {
            id: "web".into(),
            follow: true,
            tail: -1,
        };
        let req = request(&args);
        assert_eq!(req.id, "web");
        assert_eq!(req.tail_lines, -1);
        assert!(req.follow);
        assert!(req.namespace.is_empty());
    }
}
