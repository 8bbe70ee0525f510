//! Issue 6's etcd scenarios on real container clusters made by `basaltctl cluster create`
//! (real namespaces, the real image from `target/image`, real etcd; root needed):
//!
//! - fault: while a client writes keys continuously, the etcd leader's node loses its PID 1
//!   (SIGKILL to machined, which takes every process of the node's pid namespace with it);
//!   writes resume after the election, the other nodes' APIs keep answering, the node is
//!   started again and rejoins, and every acknowledged key is still there;
//! - recovery: `etcd snapshot` → `cluster destroy` → `cluster create` + `bootstrap
//!   --recover-from` → the keys are back.
//!
//! The test client talks to etcd directly with a client certificate issued from the etcd CA
//! in the cluster's `secrets.yaml`, as an operator with those secrets could.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use basalt_etcd::client::Client;
use basalt_etcd::pki::{issue_node_certs, ClientTls, NodeNames};
use basalt_pki::SecretsBundle;
use basalt_provision::container::{self, ClusterState};

/// One test cluster (destroyed when dropped).
struct Cluster {
    _tmp: tempfile::TempDir,
    clusters: PathBuf,
    home: PathBuf,
    name: String,
    prefix: String,
}

impl Cluster {
    /// `cluster create` with `controlplanes` nodes on `10.<net>.0/24`, no workers.
    fn create(name: &str, net: &str, controlplanes: u32, extra: &[&str]) -> Cluster {
        let image = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/image");
        assert!(
            image.join("rootfs.sqsh").is_file(),
            "{} has no rootfs.sqsh: run `cargo xtask image` first",
            image.display()
        );
        let tmp = tempfile::tempdir().unwrap();
        let cluster = Cluster {
            clusters: tmp.path().join("clusters"),
            home: tmp.path().join("home"),
            _tmp: tmp,
            name: name.to_string(),
            prefix: format!("10.{net}"),
        };
        std::fs::create_dir_all(&cluster.home).unwrap();
        cluster.start(controlplanes, &image, extra);
        cluster
    }

    fn start(&self, controlplanes: u32, image: &Path, extra: &[&str]) {
        let cps = controlplanes.to_string();
        let cidr = format!("{}.0/24", self.prefix);
        let mut args = vec![
            "cluster",
            "create",
            "--name",
            &self.name,
            "--controlplanes",
            &cps,
            "--workers",
            "0",
            "--cidr",
            &cidr,
            "--skip-context",
            "--wait-timeout",
            "3m",
            "--image",
            image.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let started = Instant::now();
        let out = self.ctl_state(&args);
        println!(
            "cluster create {} ({controlplanes} control planes): {:.1} s\n{}",
            self.name,
            started.elapsed().as_secs_f64(),
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(out.status.success(), "{}", self.console(&out));
    }

    fn dir(&self) -> PathBuf {
        self.clusters.join(&self.name)
    }

    fn ip(&self, i: u32) -> String {
        format!("{}.{}", self.prefix, i + 1)
    }

    /// `basaltctl ARGS --state …` (cluster subcommands).
    fn ctl_state(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_basaltctl"))
            .args(args)
            .arg("--state")
            .arg(&self.clusters)
            .env("HOME", &self.home)
            .env_remove("BASALTCONFIG")
            .output()
            .unwrap()
    }

    /// `basaltctl --basaltconfig <cluster's> -e IP -n IP ARGS`.
    fn ctl(&self, ip: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_basaltctl"))
            .arg("--basaltconfig")
            .arg(self.dir().join("basaltconfig"))
            .args(["-e", ip, "-n", ip])
            .args(args)
            .env("HOME", &self.home)
            .output()
            .unwrap()
    }

    /// An etcd client with a certificate from the cluster's etcd CA.
    fn etcd_tls(&self) -> ClientTls {
        let secrets = SecretsBundle::from_file(&self.dir().join("secrets.yaml")).unwrap();
        let names = NodeNames {
            hostname: "test-client".into(),
            ips: Vec::<IpAddr>::new(),
        };
        let ca = &secrets.certs.etcd;
        issue_node_certs(&ca.crt, &ca.key, &names, Duration::from_secs(3600))
            .unwrap()
            .client_tls()
    }

    fn endpoints(&self, n: u32) -> Vec<String> {
        (1..=n)
            .map(|i| format!("https://{}:2379", self.ip(i)))
            .collect()
    }

    fn state(&self) -> ClusterState {
        container::load(&self.clusters, &self.name).unwrap()
    }

    /// The output of a failed command and the nodes' console tails.
    fn console(&self, out: &Output) -> String {
        let text = format!(
            "status {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        text + &self.logs()
    }

    /// The tail of every node's console log.
    fn logs(&self) -> String {
        let mut text = String::new();
        if let Ok(entries) = std::fs::read_dir(self.dir().join("nodes")) {
            for e in entries.flatten() {
                let log = std::fs::read_to_string(e.path().join("console.log")).unwrap_or_default();
                text.push_str(&format!(
                    "\n--- {} ---\n{}",
                    e.file_name().to_string_lossy(),
                    container::tail(&log, 25)
                ));
            }
        }
        text
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let out = self.ctl_state(&["cluster", "destroy", "--name", &self.name]);
        if !out.status.success() {
            eprintln!("cluster destroy failed: {}", self.console(&out));
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Keys acknowledged by etcd, each with the time its request was sent.
#[derive(Default)]
struct Writes {
    acked: Vec<(u32, Instant)>,
    failures: u32,
    last_error: String,
}

#[test]
fn killing_the_leaders_pid1_loses_no_acknowledged_write_and_the_node_rejoins() {
    let cluster = Cluster::create("ft6", "232.61", 3, &[]);
    let tls = cluster.etcd_tls();
    let rt = runtime();
    let client = rt
        .block_on(Client::connect(&cluster.endpoints(3), &tls))
        .unwrap();

    // The writer: one key after another, as fast as etcd acknowledges them.
    let writes = Arc::new(Mutex::new(Writes::default()));
    let stop = tokio_util::sync::CancellationToken::new();
    let writer = {
        let (client, writes, stop) = (client.clone(), writes.clone(), stop.clone());
        rt.spawn(async move {
            let mut i = 0u32;
            while !stop.is_cancelled() {
                let sent = Instant::now();
                let put = client.put(format!("fault/{i:06}"), i.to_string());
                match tokio::time::timeout(Duration::from_secs(5), put).await {
                    Ok(Ok(_)) => {
                        writes.lock().unwrap().acked.push((i, sent));
                        i += 1;
                    }
                    failed => {
                        let error = match failed {
                            Ok(Err(e)) => e.to_string(),
                            _ => "no reply within 5 s".to_string(),
                        };
                        {
                            let mut w = writes.lock().unwrap();
                            w.failures += 1;
                            w.last_error = error;
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        })
    };
    let wait_acked = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while writes.lock().unwrap().acked.len() < n {
            assert!(
                Instant::now() < deadline,
                "fewer than {n} writes acknowledged"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_acked(50);

    // The leader's node.
    let leader_id = rt
        .block_on(client.status(&cluster.endpoints(1)[0]))
        .unwrap()
        .leader;
    let members = rt.block_on(client.member_list()).unwrap();
    let leader = members
        .iter()
        .find(|m| m.id == leader_id)
        .unwrap()
        .name
        .clone();
    let mut state = cluster.state();
    let node = state
        .nodes
        .iter()
        .find(|n| n.name == leader)
        .unwrap()
        .clone();
    let machined = node.machined_pid.unwrap();
    let before = writes.lock().unwrap().acked.len();
    let killed = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(machined),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    println!("SIGKILL to {leader}'s machined (pid {machined}) after {before} writes");

    // Writes resume after the election: the first write sent after the kill is
    // acknowledged (measured to the moment it was acknowledged).
    let resumed = loop {
        let first_after = writes
            .lock()
            .unwrap()
            .acked
            .iter()
            .any(|(_, sent)| *sent > killed);
        if first_after {
            break killed.elapsed();
        }
        assert!(
            killed.elapsed() < Duration::from_secs(60),
            "no write acknowledged within 60 s after the leader died; last error: {}{}",
            writes.lock().unwrap().last_error,
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    println!(
        "writes resumed {:.2} s after the kill",
        resumed.as_secs_f64()
    );

    // The other nodes' APIs keep answering.
    let node_index = |name: &str| {
        state
            .plan
            .nodes
            .iter()
            .position(|n| n.name == name)
            .unwrap() as u32
            + 1
    };
    let dead = node_index(&leader);
    for i in (1..=3).filter(|i| *i != dead) {
        let out = cluster.ctl(&cluster.ip(i), &["version", "--short"]);
        assert!(out.status.success(), "{}", cluster.console(&out));
    }

    // Start the node again: it boots from its STATE and rejoins with its etcd data.
    let deadline = Instant::now() + Duration::from_secs(30);
    while container::is_alive(node.pid.unwrap(), node.start_time) {
        assert!(
            Instant::now() < deadline,
            "the launcher of {leader} did not end"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let restarted = Instant::now();
    container::restart_node(&mut state, &leader).unwrap();
    let endpoint = format!("https://{}:2379", cluster.ip(dead));
    let rejoined = loop {
        let status = rt.block_on(client.status(&endpoint));
        let voters = rt
            .block_on(client.member_list())
            .map(|m| m.iter().filter(|m| !m.is_learner).count())
            .unwrap_or(0);
        if status.is_ok_and(|s| s.leader != 0) && voters == 3 {
            break restarted.elapsed();
        }
        if restarted.elapsed() > Duration::from_secs(120) {
            let ip = cluster.ip(dead);
            let etcd_log = cluster.ctl(&ip, &["logs", "etcd", "--tail", "40"]);
            let services = cluster.ctl(&ip, &["service"]);
            panic!(
                "{leader} did not rejoin within 120 s\n{}\n{}\n{}",
                String::from_utf8_lossy(&services.stdout),
                cluster.console(&etcd_log),
                cluster.logs()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    println!(
        "{leader} answered again as a member {:.2} s after its restart",
        rejoined.as_secs_f64()
    );
    assert_etcdctl_agrees(&tls, &cluster.endpoints(3), &state);
    let target = writes.lock().unwrap().acked.len() + 20;
    wait_acked(target);
    stop.cancel();
    rt.block_on(writer).unwrap();

    // Every acknowledged key is there, read through the restarted member.
    let (acked, failures) = {
        let w = writes.lock().unwrap();
        (
            w.acked.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            w.failures,
        )
    };
    let restarted_client = rt.block_on(Client::connect(&[endpoint], &tls)).unwrap();
    for i in &acked {
        let value = rt
            .block_on(restarted_client.get(format!("fault/{i:06}")))
            .unwrap();
        assert_eq!(value, Some(i.to_string().into_bytes()), "key fault/{i:06}");
    }
    println!(
        "{} acknowledged writes all present ({failures} failed attempts during the election)",
        acked.len()
    );
}

/// Debian's `etcdctl`, with a client certificate from the cluster's etcd CA, lists exactly
/// the control-plane nodes as voting members.
fn assert_etcdctl_agrees(tls: &ClientTls, endpoints: &[String], state: &ClusterState) {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, pem: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, pem).unwrap();
        path
    };
    let (ca, crt, key) = (
        file("ca.crt", &tls.ca_pem),
        file("client.crt", &tls.cert_pem),
        file("client.key", &tls.key_pem),
    );
    let out = Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={}", endpoints.join(",")))
        .arg(format!("--cacert={}", ca.display()))
        .arg(format!("--cert={}", crt.display()))
        .arg(format!("--key={}", key.display()))
        .args(["member", "list", "-w", "json"])
        .output()
        .expect("etcdctl is needed (Debian package etcd-client; `cargo xtask test` installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let members = listed["members"].as_array().unwrap();
    let mut names: Vec<String> = members
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    let mut wanted: Vec<String> = state.plan.controlplanes().map(|n| n.name.clone()).collect();
    wanted.sort();
    assert_eq!(names, wanted, "etcdctl member list: {listed}");
    assert!(
        members
            .iter()
            .all(|m| !m["isLearner"].as_bool().unwrap_or(false)),
        "a learner is left: {listed}"
    );
    println!("etcdctl agrees: {} voting members {names:?}", members.len());
}

#[test]
fn snapshot_then_destroy_then_bootstrap_recover_brings_the_keys_back() {
    let snapshot = tempfile::tempdir().unwrap();
    let db = snapshot.path().join("etcd.snapshot");
    {
        let cluster = Cluster::create("sr6", "232.62", 1, &[]);
        let rt = runtime();
        let client = rt
            .block_on(Client::connect(&cluster.endpoints(1), &cluster.etcd_tls()))
            .unwrap();
        for i in 0..25 {
            rt.block_on(client.put(format!("kept/{i}"), format!("v{i}")))
                .unwrap();
        }
        let out = cluster.ctl(&cluster.ip(1), &["etcd", "snapshot", db.to_str().unwrap()]);
        assert!(out.status.success(), "{}", cluster.console(&out));
        assert!(std::fs::metadata(&db).unwrap().len() > 0);
    } // destroyed here

    let cluster = Cluster::create("sr6", "232.62", 1, &["--skip-bootstrap"]);
    let out = cluster.ctl(
        &cluster.ip(1),
        &["bootstrap", "--recover-from", db.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", cluster.console(&out));
    let rt = runtime();
    let client = rt
        .block_on(Client::connect(&cluster.endpoints(1), &cluster.etcd_tls()))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let value = loop {
        match rt.block_on(client.get("kept/7")) {
            Ok(v) => break v,
            Err(e) => {
                assert!(Instant::now() < deadline, "etcd did not answer: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    };
    assert_eq!(value, Some(b"v7".to_vec()));
    for i in 0..25 {
        let v = rt.block_on(client.get(format!("kept/{i}"))).unwrap();
        assert_eq!(v, Some(format!("v{i}").into_bytes()));
    }
}
