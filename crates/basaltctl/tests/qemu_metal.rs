//! Issue 5's end-to-end scenario, as a user runs it, against the signed image that
//! `cargo xtask image` built (`target/image`) booted in QEMU (TCG here) with a blank 1 GiB
//! virtio disk and apid's port forwarded to 127.0.0.1:
//!
//! 1. `basaltctl gen config` makes a control-plane config;
//! 2. first boot: no config anywhere → maintenance mode; the console shows apid's certificate
//!    fingerprint; `basaltctl apply-config --insecure --cert-fingerprint …` delivers the config;
//! 3. the node boots with it; `basaltctl version` over mutual TLS (the generated
//!    basaltconfig) shows the node's version, platform `metal` and the image version from
//!    `target/image/manifest.json`;
//! 4. `basaltctl shutdown` powers the VM off: QEMU exits 0;
//! 5. second boot from the same disk: the config comes from STATE (persisted on the disk's
//!    ext4 STATE partition); version again; shutdown again, QEMU exits 0.
//!
//! A second test delivers the config by `basalt.config=http://10.0.2.2:PORT/…` (QEMU's
//! user-mode network reaches the host's loopback at 10.0.2.2) from a tiny HTTP server here.
//!
//! Needs: qemu-system-x86 (installed by `cargo xtask test`) and the image (`cargo xtask
//! image`; the test fails naming that command when it is missing).
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use basalt_provision::qemu::{create_raw_disk, free_local_port, Accel, Qemu, Vm};

/// From QEMU start to an awaited console line (TCG on 2 shared cores is slow).
const LINE_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a `basaltctl` call is retried while the node is still starting.
const API_TIMEOUT: Duration = Duration::from_secs(240);
/// From `shutdown` to QEMU's exit.
const EXIT_TIMEOUT: Duration = Duration::from_secs(120);

/// One VM at a time: TCG VMs share two host cores.
static ONE_VM: Mutex<()> = Mutex::new(());

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

fn image_dir() -> PathBuf {
    let dir = workspace_root().join("target/image");
    for name in ["vmlinuz", "initramfs.img", "cmdline", "manifest.json"] {
        assert!(
            dir.join(name).is_file(),
            "{} is missing: build the image first with `cargo xtask image`",
            dir.join(name).display()
        );
    }
    dir
}

/// The image version recorded in the signed manifest.
fn image_version() -> String {
    let text = std::fs::read_to_string(image_dir().join("manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    manifest["version"].as_str().unwrap().to_string()
}

/// A scratch directory under `target/qemu-test/<name>` (kept for inspection).
fn scratch(name: &str) -> PathBuf {
    let dir = workspace_root().join("target/qemu-test").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What one `basaltctl` run printed.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs `basaltctl args` with `HOME` = `home`.
fn basaltctl(home: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_basaltctl"))
        .env("HOME", home)
        .env_remove("BASALTCONFIG")
        .args(args)
        .output()
        .unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Retries `basaltctl args` until it succeeds (the node may still be starting).
fn basaltctl_until_ok(vm: &mut Vm, home: &Path, args: &[&str]) -> Run {
    let start = Instant::now();
    loop {
        let run = basaltctl(home, args);
        if run.ok {
            println!(
                "basaltctl {} ok after {:.1} s",
                args.join(" "),
                start.elapsed().as_secs_f64()
            );
            return run;
        }
        if start.elapsed() > API_TIMEOUT {
            let console = vm.serial_output().unwrap_or_default();
            panic!(
                "basaltctl {} kept failing for {API_TIMEOUT:?}; last error:\n{}\nconsole:\n{console}",
                args.join(" "),
                run.stderr
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Generates a control-plane config (apid's certificate also names 127.0.0.1, where the test
/// reaches the forwarded port) into `dir`.
fn gen_config(dir: &Path) {
    let out = dir.to_str().unwrap();
    let run = basaltctl(
        dir,
        &[
            "gen",
            "config",
            "qemu",
            "https://10.0.2.15:6443",
            "--additional-sans",
            "127.0.0.1",
            "-o",
            out,
        ],
    );
    assert!(run.ok, "gen config failed: {}", run.stderr);
    assert!(dir.join("controlplane.yaml").is_file());
    assert!(dir.join("basaltconfig").is_file());
}

/// Boots the image with `disk` and extra kernel arguments; apid is forwarded to `port`.
fn boot(dir: &Path, disk: &Path, port: u16, extra_cmdline: &str, log: &str) -> Vm {
    let image = image_dir();
    let cmdline = std::fs::read_to_string(image.join("cmdline")).unwrap();
    Qemu::builder()
        .kernel(image.join("vmlinuz"))
        .initrd(image.join("initramfs.img"))
        .append(format!("{} {extra_cmdline}", cmdline.trim()).trim())
        .memory_mib(768)
        .disk(disk)
        .serial_log(dir.join(log))
        .user_net_forward(port, 50000)
        .accel(Accel::from_env().unwrap())
        .spawn()
        .unwrap()
}

/// Waits for a console line containing `needle`; prints when it came.
fn wait_line(vm: &mut Vm, needle: &str) -> String {
    let line = vm
        .wait_for_line(|l| l.contains(needle), LINE_TIMEOUT)
        .unwrap_or_else(|e| panic!("waiting for {needle:?}: {e}"));
    println!("[{:>6.1}s] {}", line.after.as_secs_f64(), line.text);
    line.text
}

/// `basaltctl version` over mTLS: node version, `metal`, the image version.
fn assert_version(vm: &mut Vm, home: &Path, config: &Path, endpoint: &str) {
    let run = basaltctl_until_ok(
        vm,
        home,
        &[
            "--basaltconfig",
            config.to_str().unwrap(),
            "-e",
            endpoint,
            "version",
        ],
    );
    println!("{}", run.stdout);
    let text = &run.stdout;
    assert!(
        text.contains(&format!("Tag:      v{}", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(text.contains("Platform: metal"), "{text}");
    assert!(
        text.contains(&format!("Image:    {}", image_version())),
        "{text}"
    );
}

/// `basaltctl shutdown` and QEMU's clean exit.
fn shutdown(vm: &mut Vm, home: &Path, config: &Path, endpoint: &str) {
    let run = basaltctl(
        home,
        &[
            "--basaltconfig",
            config.to_str().unwrap(),
            "-e",
            endpoint,
            "shutdown",
        ],
    );
    assert!(run.ok, "shutdown failed: {}", run.stderr);
    let asked = Instant::now();
    let status = vm.wait_exit(EXIT_TIMEOUT).unwrap();
    let console = vm.serial_output().unwrap();
    println!(
        "QEMU exited with {status} {:.1} s after `basaltctl shutdown`",
        asked.elapsed().as_secs_f64()
    );
    assert!(status.success(), "QEMU exited with {status}:\n{console}");
    for clean in [
        "EPHEMERAL unmounted from /var",
        "STATE unmounted from /system/state",
    ] {
        assert!(
            console.contains(clean),
            "no {clean:?} on the console:\n{console}"
        );
    }
    assert!(!console.contains("lazily"), "a volume was busy:\n{console}");
}

#[test]
fn maintenance_apply_then_mtls_version_shutdown_and_reboot_from_state() {
    let _one = ONE_VM.lock().unwrap_or_else(|p| p.into_inner());
    let dir = scratch("metal-maintenance");
    gen_config(&dir);
    let config = dir.join("basaltconfig");
    let disk = dir.join("disk.raw");
    create_raw_disk(&disk, 1 << 30).unwrap();
    let port = free_local_port().unwrap();
    let endpoint = format!("127.0.0.1:{port}");

    // First boot: blank disk, no config → maintenance mode.
    let mut vm = boot(&dir, &disk, port, "", "serial-1.log");
    let line = wait_line(&mut vm, "maintenance mode: apid certificate fingerprint");
    let fingerprint = line
        .split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .unwrap_or_else(|| panic!("no fingerprint in {line:?}"))
        .to_string();
    let file = dir.join("controlplane.yaml");
    let applied = basaltctl_until_ok(
        &mut vm,
        &dir,
        &[
            "--insecure",
            "--cert-fingerprint",
            &fingerprint,
            "-n",
            &endpoint,
            "apply-config",
            "-f",
            file.to_str().unwrap(),
        ],
    );
    println!("{}{}", applied.stdout, applied.stderr);
    assert!(
        applied.stdout.contains("basalt-"),
        "the reply names the node: {}",
        applied.stdout
    );
    wait_line(&mut vm, "boot sequence done");
    assert_version(&mut vm, &dir, &config, &endpoint);
    shutdown(&mut vm, &dir, &config, &endpoint);
    let first = vm.serial_output().unwrap();
    assert!(first.contains("STATE"), "{first}");

    // Second boot from the same disk: the config is on STATE now.
    let mut vm = boot(&dir, &disk, port, "", "serial-2.log");
    wait_line(&mut vm, "machine config loaded from STATE");
    wait_line(&mut vm, "boot sequence done");
    assert_version(&mut vm, &dir, &config, &endpoint);
    shutdown(&mut vm, &dir, &config, &endpoint);
}

/// Serves `body` at `GET /<path>` to every request until the test ends (HTTP/1.0 style).
fn serve_once_per_connection(listener: TcpListener, path: String, body: Vec<u8>) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let n = stream.read(&mut request).unwrap_or(0);
            let head = String::from_utf8_lossy(&request[..n]).into_owned();
            let wanted = format!("GET /{path} ");
            let reply = if head.starts_with(&wanted) {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(&body);
                r
            } else {
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
            };
            let _ = stream.write_all(&reply);
        }
    });
}

#[test]
fn config_from_an_http_url_on_the_kernel_command_line() {
    let _one = ONE_VM.lock().unwrap_or_else(|p| p.into_inner());
    let dir = scratch("metal-url");
    gen_config(&dir);
    let config = dir.join("basaltconfig");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let http_port = listener.local_addr().unwrap().port();
    let body = std::fs::read(dir.join("controlplane.yaml")).unwrap();
    serve_once_per_connection(listener, "controlplane.yaml".into(), body);
    let disk = dir.join("disk.raw");
    create_raw_disk(&disk, 1 << 30).unwrap();
    let port = free_local_port().unwrap();
    let endpoint = format!("127.0.0.1:{port}");
    let url = format!("basalt.config=http://10.0.2.2:{http_port}/controlplane.yaml");
    let mut vm = boot(&dir, &disk, port, &url, "serial.log");
    wait_line(&mut vm, "machine config loaded from basalt.config=http://");
    wait_line(&mut vm, "boot sequence done");
    assert_version(&mut vm, &dir, &config, &endpoint);
    shutdown(&mut vm, &dir, &config, &endpoint);
}
