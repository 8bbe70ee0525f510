//! apid figures: `Version` latency over mutual TLS through real apid instances.
//!
//! Three nodes run in this process on one tokio runtime. Each is machined's local API
//! (`basalt_machined::api::serve` with a real store, event bus and supervisor) on a unix
//! socket in a temporary folder, fronted by its own apid (`basalt_apid::server::serve` +
//! `proxy::service`) on `127.0.0.1:<port>`, with certificates issued from one Ed25519 OS CA
//! by `basalt_pki` (Talos's default key type). The client is a tonic channel over rustls
//! (TLS 1.3, client certificate with role `os:reader`, TCP_NODELAY). Calls are sequential:
//! each figure is the latency of one call, not throughput.

mod cluster;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use basalt_api::machine::machine_service_client::MachineServiceClient;
use tonic::transport::Channel;

use crate::measure::Row;
use cluster::{connect, Node, Pki};

/// How many calls / connections each figure is built from.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    /// Timed `Version` calls per call figure (after as many untimed warm-up calls, max 100).
    pub calls: usize,
    /// Timed new connections.
    pub connections: usize,
}

/// The counts `cargo xtask bench` uses.
pub const DEFAULT_COUNTS: Counts = Counts {
    calls: 2000,
    connections: 200,
};

/// Tokio worker threads of the one runtime that runs the nodes and the client.
const WORKERS: usize = 2;
/// Bound for anything that should take milliseconds; a hang becomes a failed figure.
const LONG: Duration = Duration::from_secs(30);
/// The call figures, in order: (name part, the metadata sent, for the notes).
const CALLS: [(&str, &str); 3] = [
    ("direct", "none: served by A"),
    ("forwarded A→B", "`node: B` sent to A"),
    ("fan-out A,B,C", "`nodes: A,B,C` sent to A, replies merged"),
];
const CONNECT: &str = "apid new connection + Version";

/// Every apid figure; a failure turns every figure into a failed row with the reason.
pub fn figures(counts: Counts) -> Vec<Row> {
    match measure(counts) {
        Ok(rows) => rows,
        Err(reason) => names()
            .iter()
            .map(|name| Row::failed(name, &reason))
            .collect(),
    }
}

/// The names of every figure (p50 and p99 of each).
fn names() -> Vec<String> {
    let mut out = Vec::new();
    for what in CALLS.iter().map(|(what, _)| format!("apid Version {what}")) {
        out.push(format!("{what} (p50)"));
        out.push(format!("{what} (p99)"));
    }
    out.push(format!("{CONNECT} (p50)"));
    out.push(format!("{CONNECT} (p99)"));
    out
}

fn measure(counts: Counts) -> Result<Vec<Row>, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .map_err(|err| format!("starting the tokio runtime failed: {err}"))?;
    runtime.block_on(async {
        let pki = Pki::new()?;
        let mut nodes = Vec::new();
        for hostname in ["node-a", "node-b", "node-c"] {
            nodes.push(Node::start(&pki, hostname).await?);
        }
        let result = measure_nodes(&pki, &nodes, counts).await;
        for node in &nodes {
            node.stop.cancel();
        }
        result
    })
}

async fn measure_nodes(pki: &Pki, nodes: &[Node], counts: Counts) -> Result<Vec<Row>, String> {
    let [a, b, c] = nodes else {
        return Err(format!("expected 3 nodes, started {}", nodes.len()));
    };
    let client = Arc::new(pki.client_config(&["os:reader"])?);
    let (channel, _) = within("a TLS connection to apid", connect(a.addr, &client)).await??;
    let mut machine = MachineServiceClient::new(channel);
    let all = format!("{},{},{}", a.addr, b.addr, c.addr);
    let b_addr = b.addr.to_string();
    let metadata: [&[(&'static str, &str)]; 3] = [&[], &[("node", &b_addr)], &[("nodes", &all)]];

    let mut rows = Vec::new();
    for ((what, how), pairs) in CALLS.iter().zip(metadata) {
        let expected = if pairs.first().is_some_and(|(k, _)| *k == "nodes") {
            3
        } else {
            1
        };
        let warm_up = counts.calls.min(100);
        let mut samples = Vec::with_capacity(counts.calls);
        for n in 0..warm_up + counts.calls {
            let started = Instant::now();
            version(&mut machine, pairs, expected).await?;
            if n >= warm_up {
                samples.push(started.elapsed());
            }
        }
        let notes = format!(
            "{} sequential calls (after {warm_up} warm-up) on one mTLS connection to A; \
             metadata {how}; machined API on a unix socket behind each apid; in-process, \
             tokio {WORKERS} workers, 127.0.0.1, release build",
            counts.calls
        );
        rows.extend(percentile_rows(
            &format!("apid Version {what}"),
            &mut samples,
            &notes,
        ));
    }
    rows.extend(new_connections(a.addr, &client, &mut machine, counts.connections).await?);
    Ok(rows)
}

/// Opens `count` connections one after the other, each doing one `Version`, then closed.
async fn new_connections(
    addr: SocketAddr,
    client: &Arc<rustls::ClientConfig>,
    warm: &mut MachineServiceClient<Channel>,
    count: usize,
) -> Result<Vec<Row>, String> {
    // The connection above has warmed the server; one more call makes sure it is idle.
    version(warm, &[], 1).await?;
    let mut totals = Vec::with_capacity(count);
    let mut handshakes = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        let (channel, handshake) = within("a new connection", connect(addr, client)).await??;
        let mut machine = MachineServiceClient::new(channel);
        version(&mut machine, &[], 1).await?;
        totals.push(started.elapsed());
        drop(machine);
        let handshake = handshake
            .lock()
            .map_err(|_| "the handshake timer was poisoned".to_string())?
            .ok_or("the channel connected without calling the connector")?;
        handshakes.push(handshake);
    }
    handshakes.sort_unstable();
    let notes = format!(
        "{count} connections one after the other: TCP connect + TCP_NODELAY + TLS 1.3 handshake \
         (client certificate, Ed25519) + HTTP/2 setup + one Version, to A; TCP + TLS alone: \
         p50 {:.0} µs, p99 {:.0} µs; in-process, tokio {WORKERS} workers, 127.0.0.1, release build",
        micros(percentile(&handshakes, 0.50)),
        micros(percentile(&handshakes, 0.99)),
    );
    Ok(percentile_rows(CONNECT, &mut totals, &notes))
}

/// One `Version` with metadata `pairs`; checks that `expected` replies came back, each
/// without an error.
async fn version(
    client: &mut MachineServiceClient<Channel>,
    pairs: &[(&'static str, &str)],
    expected: usize,
) -> Result<(), String> {
    let mut request = tonic::Request::new(());
    for (key, value) in pairs {
        let value = value
            .parse()
            .map_err(|_| format!("metadata {key}: `{value}` is not valid ASCII"))?;
        request.metadata_mut().insert(*key, value);
    }
    let reply = within("a Version call", client.version(request))
        .await?
        .map_err(|status| format!("Version ({pairs:?}) failed: {status}"))?
        .into_inner();
    let ok = reply
        .messages
        .iter()
        .filter(|m| m.version.is_some() && m.metadata.as_ref().is_none_or(|m| m.error.is_empty()))
        .count();
    if ok != expected {
        return Err(format!(
            "Version ({pairs:?}) returned {ok} good replies of {expected}: {:?}",
            reply.messages
        ));
    }
    Ok(())
}

fn percentile_rows(name: &str, samples: &mut [Duration], notes: &str) -> Vec<Row> {
    samples.sort_unstable();
    [("p50", 0.50), ("p99", 0.99)]
        .into_iter()
        .map(|(label, q)| Row {
            name: format!("{name} ({label})"),
            value: Some(micros(percentile(samples, q))),
            unit: "µs".into(),
            notes: notes.to_string(),
        })
        .collect()
}

/// Nearest-rank percentile `q` of sorted `samples` (zero when empty).
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1))
        .copied()
        .unwrap_or_default()
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// Waits up to [`LONG`] for `fut`.
async fn within<T>(what: &str, fut: impl Future<Output = T>) -> Result<T, String> {
    tokio::time::timeout(LONG, fut)
        .await
        .map_err(|_| format!("timed out after {}s waiting for {what}", LONG.as_secs()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&samples, 0.50), Duration::from_micros(50));
        assert_eq!(percentile(&samples, 0.99), Duration::from_micros(99));
        assert_eq!(percentile(&samples[..1], 0.99), Duration::from_micros(1));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn every_figure_is_measured_through_real_nodes() {
        let rows = figures(Counts {
            calls: 20,
            connections: 5,
        });
        let got: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
        assert_eq!(got, names(), "{rows:?}");
        for pair in rows.chunks(2) {
            let (p50, p99) = (pair[0].value.unwrap(), pair[1].value.unwrap());
            assert!(p50 > 0.0 && p50 <= p99, "{pair:?}");
            assert_eq!(pair[0].unit, "µs");
        }
    }
}
