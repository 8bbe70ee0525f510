//! `basaltctl` over the network against a real apid (in-process, on 127.0.0.1) in
//! front of a real machined API on a unix socket: maintenance mode with `--insecure`
//! and fingerprint pinning, and normal mode with the context's mTLS credentials.
#![allow(clippy::unwrap_used)]

mod socket_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use basalt_apid::args::Args;
use socket_support::{Node, LONG};

/// Starts apid in maintenance mode for `node`; returns its address once it listens.
async fn maintenance_apid(node: &Node) -> SocketAddr {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = free.local_addr().unwrap();
    drop(free);
    let args = Args {
        socket: node.socket.clone(),
        listen,
        maintenance: true,
        maintenance_ca: None,
        cert_lifetime: Duration::from_secs(3600),
    };
    tokio::spawn(basalt_apid::entry::run(args));
    let start = Instant::now();
    while tokio::net::TcpStream::connect(listen).await.is_err() {
        assert!(start.elapsed() < LONG, "apid did not listen on {listen}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    listen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_version_and_fingerprint_pinning() {
    let node = Node::start(vec![]).await;
    let addr = maintenance_apid(&node).await;
    let target = addr.to_string();

    let out = node
        .run_network(&["--insecure", "-n", &target, "version", "--short"])
        .await;
    let text = out.ok();
    assert!(text.contains("Server:\n\t"), "{text}");
    assert!(text.contains(": basalt v"), "{text}");

    // A wrong pin is refused and the message shows the real fingerprint...
    let wrong = format!("sha256:{}", "00".repeat(32));
    let out = node
        .run_network(&[
            "--insecure",
            "--cert-fingerprint",
            &wrong,
            "-n",
            &target,
            "version",
        ])
        .await;
    let line = out.fails().to_string();
    assert!(
        line.contains(&format!(
            "endpoint {target}: the server's certificate fingerprint is sha256:"
        )),
        "{line}"
    );
    let actual = line
        .split("fingerprint is sha256:")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    // ...and pinning that one connects.
    let pin = format!("sha256:{actual}");
    let out = node
        .run_network(&[
            "--insecure",
            "--cert-fingerprint",
            &pin,
            "-n",
            &target,
            "version",
            "--short",
        ])
        .await;
    assert!(out.ok().contains(": basalt v"), "{out:#?}");

    // Without --insecure and without a context, the error says what is missing.
    let out = node.run_network(&["-e", &target, "version"]).await;
    let line = out.fails().to_string();
    assert!(
        line.contains("cannot reach the Basalt API: no context set"),
        "{line}"
    );
    node.stop().await;
}

/// apid in normal mode (config from `basaltctl gen config --additional-sans 127.0.0.1`):
/// the context's credentials connect; a name the certificate lacks is explained.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_version_and_a_clear_name_mismatch() {
    let node = Node::start(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out_dir_text = out_dir.to_str().unwrap();
    node.run_network(&[
        "gen",
        "config",
        "demo",
        "https://10.5.0.2:6443",
        "--additional-sans",
        "127.0.0.1",
        "-o",
        out_dir_text,
    ])
    .await
    .ok();
    let text = std::fs::read_to_string(out_dir.join("controlplane.yaml")).unwrap();
    let config = basalt_config::MachineConfig::from_yaml(&text).unwrap();
    basalt_machined::machine::resources::register(&node.store).unwrap();
    basalt_machined::machine::resources::publish_config(&node.store, &config).unwrap();

    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = free.local_addr().unwrap();
    drop(free);
    let args = Args {
        socket: node.socket.clone(),
        listen,
        maintenance: false,
        maintenance_ca: None,
        cert_lifetime: Duration::from_secs(3600),
    };
    tokio::spawn(basalt_apid::entry::run(args));
    let start = Instant::now();
    while tokio::net::TcpStream::connect(listen).await.is_err() {
        assert!(start.elapsed() < LONG, "apid did not listen on {listen}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let target = listen.to_string();
    let basaltconfig = out_dir.join("basaltconfig");
    let cfg = basaltconfig.to_str().unwrap();
    let out = node
        .run_network(&["--basaltconfig", cfg, "-e", &target, "version", "--short"])
        .await;
    let text = out.ok();
    assert!(
        text.contains("Server:\n\t") && text.contains(": basalt v"),
        "{text}"
    );

    let by_name = format!("localhost:{}", listen.port());
    let out = node
        .run_network(&["--basaltconfig", cfg, "-e", &by_name, "version"])
        .await;
    let line = out.fails().to_string();
    assert!(
        line.contains(&format!(
            "endpoint {by_name}: the server's certificate is not valid for \"localhost\" (it names: "
        )),
        "{line}"
    );
    assert!(
        line.contains("127.0.0.1") && line.contains("machine.certSANs"),
        "{line}"
    );
    node.stop().await;
}
