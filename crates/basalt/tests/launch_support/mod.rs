//! Helpers of the launch tests: a node root built from the test's own binaries, a running
//! launcher with its console captured, and /proc scans from the host.
//!
//! The root holds the `basalt` binary under test at `/usr/bin/basalt`, `/usr/bin/sleep` of
//! the host (for an image service), and the shared libraries `ldd` lists for both, copied to
//! the same paths (no host directory is bind-mounted; nothing leaks to the host).

#![allow(clippy::unwrap_used, dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Directories of one node on the host.
pub struct NodeDirs {
    pub tmp: tempfile::TempDir,
}

impl NodeDirs {
    pub fn root(&self) -> PathBuf {
        self.tmp.path().join("root")
    }
    pub fn state(&self) -> PathBuf {
        self.tmp.path().join("state")
    }
    pub fn ephemeral(&self) -> PathBuf {
        self.tmp.path().join("ephemeral")
    }
    pub fn sockets(&self) -> PathBuf {
        self.tmp.path().join("sockets")
    }
}

/// Copies `binary` to the same path under `root`, with every library `ldd` names.
pub fn install(root: &Path, binary: &Path, at: &str) {
    let target = root.join(at.trim_start_matches('/'));
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::copy(binary, &target).unwrap();
    let out = Command::new("ldd")
        .arg(binary)
        .output()
        .expect("ldd is needed to build the test root");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    for lib in text.split_whitespace().filter(|w| w.starts_with('/')) {
        let dest = root.join(lib.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(lib, &dest).unwrap();
    }
}

/// A node root with basalt, sleep and one image service (`sleeper`).
pub fn build_node() -> NodeDirs {
    build_node_with(&[(
        "sleeper",
        "name: sleeper\ncommand: [/usr/bin/sleep, '100000']\nstopTimeout: 3s\n",
    )])
}

/// A node root with basalt, sleep and the given image services (`(name, yaml)`).
pub fn build_node_with(services: &[(&str, &str)]) -> NodeDirs {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = NodeDirs { tmp };
    let root = dirs.root();
    for d in [
        "proc",
        "sys",
        "dev",
        "run",
        "tmp",
        "system",
        "var",
        "usr/lib/basalt/services",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    for d in [dirs.state(), dirs.ephemeral(), dirs.sockets()] {
        std::fs::create_dir_all(d).unwrap();
    }
    install(
        &root,
        Path::new(env!("CARGO_BIN_EXE_basalt")),
        "/usr/bin/basalt",
    );
    install(&root, Path::new("/usr/bin/sleep"), "/usr/bin/sleep");
    for (name, yaml) in services {
        let file = root.join(format!("usr/lib/basalt/services/{name}.yaml"));
        std::fs::write(file, yaml).unwrap();
    }
    dirs
}

/// A generated control-plane config (Talos v1alpha1 layout). Not a worker's: a lone worker's
/// apid waits for a certificate from trustd on a control plane, so it would never be ready.
pub fn config_text() -> String {
    let secrets = basalt_pki::SecretsBundle::generate().unwrap();
    let opts = basalt_config::generate::GenerateOptions::new("demo", "https://10.5.0.2:6443");
    basalt_config::generate::generate(&secrets, &opts)
        .unwrap()
        .controlplane
        .to_yaml()
        .unwrap()
}

/// A running `basalt launch` with its console lines collected.
pub struct Launched {
    pub child: Child,
    pub machined: i32,
    pub console: Arc<Mutex<Vec<String>>>,
}

impl Launched {
    /// Starts `basalt launch` with `extra` flags; waits for the machined pid line.
    pub fn start(dirs: &NodeDirs, extra: &[&str]) -> Launched {
        let mut child = Command::new(env!("CARGO_BIN_EXE_basalt"))
            .arg("launch")
            .arg("--root")
            .arg(dirs.root())
            .arg("--state")
            .arg(dirs.state())
            .arg("--ephemeral")
            .arg(dirs.ephemeral())
            .arg("--socket-dir")
            .arg(dirs.sockets())
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let console: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = console.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                eprintln!("{line}");
                sink.lock().unwrap().push(line);
            }
        });
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let machined = first
            .trim()
            .strip_prefix("machined pid ")
            .unwrap_or_else(|| {
                panic!(
                    "unexpected launcher output {first:?}; console: {:?}",
                    console.lock().unwrap()
                )
            })
            .parse()
            .unwrap();
        Launched {
            child,
            machined,
            console,
        }
    }

    /// Waits (60 s at most) until a console line contains `needle` `count` times.
    pub fn wait_for_line(&self, needle: &str, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let seen = self
                .console
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.contains(needle))
                .count();
            if seen >= count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no console line {needle:?} (x{count}) within 60 s; console:\n{}",
                self.console.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` to the launcher.
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).unwrap();
    }

    /// Waits (60 s at most) for the launcher to exit; returns its exit code.
    pub fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("launcher did not exit within 60 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The pid namespace of `pid` (`pid:[4026532…]`).
pub fn pid_namespace(pid: i32) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/pid"))
        .unwrap()
        .display()
        .to_string()
}

/// Host pids and names (`comm`) of every process in pid namespace `ns`.
pub fn processes_in(ns: &str) -> Vec<(i32, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(link) = std::fs::read_link(format!("/proc/{pid}/ns/pid")) else {
            continue;
        };
        if link.display().to_string() == ns {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            out.push((pid, comm.trim().to_string()));
        }
    }
    out
}

/// The `NSpid:` line of `/proc/<pid>/status` (host pid, then pid in each nested namespace).
pub fn nspid(pid: i32) -> Vec<i32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

/// The hostname seen in the UTS namespace of `pid` (read from a thread that joins it).
pub fn hostname_of(pid: i32) -> String {
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/uts")).unwrap();
    std::thread::spawn(move || {
        nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWUTS).unwrap();
        nix::unistd::gethostname()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    })
    .join()
    .unwrap()
}

/// Waits (60 s at most) until `cond` holds.
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "not within 60 s: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A signal mask line (`SigBlk`, `SigIgn`) of `/proc/<pid>/status`.
pub fn signal_mask(pid: i32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap()
        .trim()
        .to_string();
    u64::from_str_radix(&hex, 16).unwrap()
}

/// The bit of `signal` in a /proc signal mask.
pub fn bit(signal: nix::sys::signal::Signal) -> u64 {
    1 << (signal as u32 - 1)
}
