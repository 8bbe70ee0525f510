//! `basaltctl health` and `basaltctl reset` on a real 3-control-plane container cluster
//! (`cluster create`, real etcd, real namespaces; root and the image from `target/image`, or
//! `$BASALT_TEST_IMAGE_DIR`, needed): health passes; a graceful reset of one node shrinks etcd
//! to 2 members and wipes its STATE and EPHEMERAL; re-applying its config in maintenance mode
//! brings etcd back to 3; health fails naming the node whose machined was killed.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const NAME: &str = "bt-health";
const CIDR: &str = "10.232.6.0/24";
const CP: [&str; 3] = ["10.232.6.2", "10.232.6.3", "10.232.6.4"];

fn image_dir() -> PathBuf {
    let dir = std::env::var_os("BASALT_TEST_IMAGE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/image"));
    assert!(
        dir.join("rootfs.sqsh").is_file(),
        "{} has no rootfs.sqsh: run `cargo xtask image` first",
        dir.display()
    );
    dir
}

fn text(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn sh(cmd: &str) -> String {
    let o = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The cluster; destroyed when dropped (also when a step panics).
struct Cluster {
    _tmp: tempfile::TempDir,
    state: PathBuf,
    home: PathBuf,
}

impl Cluster {
    fn dir(&self) -> PathBuf {
        self.state.join(NAME)
    }

    fn node_dir(&self, i: usize) -> PathBuf {
        self.dir()
            .join("nodes")
            .join(format!("{NAME}-controlplane-{i}"))
    }

    fn cluster(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_basaltctl"))
            .arg("cluster")
            .args(args)
            .arg("--state")
            .arg(&self.state)
            .env("HOME", &self.home)
            .env_remove("BASALTCONFIG")
            .output()
            .unwrap()
    }

    /// basaltctl with the cluster's context.
    fn ctl(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_basaltctl"))
            .arg("--basaltconfig")
            .arg(self.home.join(".basalt/config"))
            .args(["--context", NAME])
            .args(args)
            .env_remove("BASALTCONFIG")
            .output()
            .unwrap()
    }

    fn consoles(&self) -> String {
        sh(&format!(
            "tail -n 30 {}/nodes/*/console.log",
            self.dir().display()
        ))
    }

    /// Voting members as `etcd members` on `node` lists them (None: the call failed).
    fn members(&self, node: &str) -> Option<usize> {
        let o = self.ctl(&["-n", node, "etcd", "members"]);
        if !o.status.success() {
            return None;
        }
        Some(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .skip(1)
                .filter(|l| l.contains("https://") && !l.contains("true"))
                .count(),
        )
    }

    fn wait_members(&self, node: &str, want: usize, within: Duration) -> Duration {
        let t = Instant::now();
        while self.members(node) != Some(want) {
            assert!(
                t.elapsed() < within,
                "etcd on {node} did not reach {want} voting members within {within:?}: {}\n{}",
                text(&self.ctl(&["-n", node, "etcd", "members"])),
                self.consoles()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        t.elapsed()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let d = self.cluster(&["destroy", "--name", NAME]);
        if !d.status.success() {
            eprintln!("cluster destroy failed: {}", text(&d));
        }
    }
}

#[test]
fn health_reset_rejoin_and_a_dead_node() {
    let image = image_dir();
    let tmp = tempfile::tempdir().unwrap();
    let c = Cluster {
        state: tmp.path().join("clusters"),
        home: tmp.path().join("home"),
        _tmp: tmp,
    };
    std::fs::create_dir_all(&c.home).unwrap();
    let t = Instant::now();
    let created = c.cluster(&[
        "create",
        "--name",
        NAME,
        "--controlplanes",
        "3",
        "--workers",
        "0",
        "--cidr",
        CIDR,
        "--wait-timeout",
        "4m",
        "--image",
        image.to_str().unwrap(),
    ]);
    assert!(
        created.status.success(),
        "create failed:\n{}\n{}",
        text(&created),
        c.consoles()
    );
    eprintln!(
        "create (3 CP) -> 3 voting etcd members: {:.1}s",
        t.elapsed().as_secs_f64()
    );
    c.wait_members(CP[0], 3, Duration::from_secs(180));

    // client-side health over the context's nodes (sorted by machine type)
    let t = Instant::now();
    let h = c.ctl(&["health", "--wait-timeout", "2m"]);
    assert!(
        h.status.success(),
        "health failed:\n{}\n{}",
        text(&h),
        c.consoles()
    );
    let out = String::from_utf8_lossy(&h.stdout);
    for check in [
        "etcd to be healthy: OK",
        "etcd members to be control plane nodes: OK",
        "apid to be ready: OK",
        "all nodes to finish boot sequence: OK",
    ] {
        assert!(out.contains(check), "{check} missing:\n{out}");
    }
    assert!(out.contains(&CP.join(",")), "{out}");
    eprintln!("health (client side): {:.1}s", t.elapsed().as_secs_f64());

    // server-side health (the endpoint runs the checks)
    let t = Instant::now();
    let h = c.ctl(&["-e", CP[0], "health", "--server", "--wait-timeout", "1m"]);
    assert!(h.status.success(), "server health failed:\n{}", text(&h));
    assert!(
        String::from_utf8_lossy(&h.stdout).contains("all nodes to finish boot sequence: OK"),
        "{}",
        text(&h)
    );
    eprintln!("health (server side): {:.1}s", t.elapsed().as_secs_f64());

    // graceful reset of the third node: etcd shrinks to 2, STATE and EPHEMERAL wiped,
    // the node answers again (maintenance mode)
    let node3 = c.node_dir(3);
    assert!(node3.join("state/config.yaml").is_file());
    assert!(node3.join("ephemeral/lib/etcd").exists());
    let t = Instant::now();
    let r = c.ctl(&[
        "-n",
        CP[2],
        "reset",
        "--graceful",
        "--reboot",
        "--system-labels-to-wipe",
        "STATE,EPHEMERAL",
        "--timeout",
        "2m",
    ]);
    assert!(
        r.status.success(),
        "reset failed:\n{}\n{}",
        text(&r),
        c.consoles()
    );
    eprintln!(
        "graceful reset with reboot: {:.1}s",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(c.members(CP[0]), Some(2), "{}", c.consoles());
    assert!(!node3.join("state/config.yaml").exists(), "STATE not wiped");
    assert!(
        !node3.join("ephemeral/lib/etcd").exists(),
        "EPHEMERAL not wiped"
    );
    let console = std::fs::read_to_string(node3.join("console.log")).unwrap();
    assert!(console.contains("left the cluster"), "{console}");

    // maintenance mode: apply its config again → it rejoins etcd
    let config = node3.join("config.yaml");
    let t = Instant::now();
    let mut applied = None;
    let mut last = String::new();
    while t.elapsed() < Duration::from_secs(60) {
        let o = c.ctl(&[
            "apply-config",
            "--insecure",
            "-n",
            CP[2],
            "--file",
            config.to_str().unwrap(),
        ]);
        if o.status.success() {
            applied = Some(o);
            break;
        }
        last = text(&o);
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(
        applied.is_some(),
        "apply-config --insecure never succeeded: {last}\n{}",
        c.consoles()
    );
    let took = c.wait_members(CP[0], 3, Duration::from_secs(180));
    eprintln!("rejoin after apply-config: {:.1}s", took.as_secs_f64());

    // kill node 3's machined (its PID 1): health fails naming it
    let shown = c.cluster(&["show", "--name", NAME, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let launcher = v["nodes"][2]["pid"].as_i64().unwrap();
    assert_eq!(v["nodes"][2]["ip"], CP[2]);
    let machined = sh(&format!("pgrep -P {launcher}"));
    let machined = machined
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        !machined.is_empty(),
        "no machined under launcher {launcher}"
    );
    sh(&format!("kill -KILL {machined}"));
    let cps = CP.join(",");
    let h = c.ctl(&[
        "health",
        "--control-plane-nodes",
        &cps,
        "--wait-timeout",
        "5s",
    ]);
    assert!(
        !h.status.success(),
        "health passed with a dead node:\n{}",
        text(&h)
    );
    let all = text(&h);
    assert!(all.contains("FAILED") && all.contains(CP[2]), "{all}");
}
