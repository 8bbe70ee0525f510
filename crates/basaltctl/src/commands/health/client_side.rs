//! The checks run by basaltctl: one line per check with its time, a spinner (with the latest
//! finding) while a check is retried.

use std::time::Duration;

use basalt_health::{ClusterNodes, NodeApi, Progress};
use indicatif::{ProgressBar, ProgressStyle};
use tonic::transport::Channel;

/// Runs the checks through `channel`, printing progress.
pub async fn run(channel: Channel, nodes: &ClusterNodes, wait: Duration) -> anyhow::Result<()> {
    println!(
        "discovered nodes: control plane {}; workers {}",
        list(&nodes.control_plane),
        list(&nodes.workers)
    );
    let api = NodeApi::new(channel);
    let mut spinner: Option<ProgressBar> = None;
    let mut report = |p: Progress| match &p {
        Progress::Start { .. } | Progress::Waiting { .. } => {
            let bar = spinner.get_or_insert_with(new_spinner);
            bar.set_message(p.to_string());
        }
        Progress::Passed { .. } | Progress::Failed { .. } => {
            if let Some(bar) = spinner.take() {
                bar.finish_and_clear();
            }
            println!("{p}");
        }
    };
    let result = basalt_health::run(&api, nodes, wait, &mut report).await;
    Ok(result?)
}

fn list(nodes: &[String]) -> String {
    if nodes.is_empty() {
        "(none)".to_string()
    } else {
        nodes.join(",")
    }
}

fn new_spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("[{elapsed:>5}] {spinner} {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
