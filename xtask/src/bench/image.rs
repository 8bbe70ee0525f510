//! Image figures: artifact sizes, the executables in the SquashFS, and one QEMU boot of the
//! signed image with a fresh disk (no config, so the node ends in maintenance mode):
//! QEMU start → first `/init` line, time spent verifying the image in `/init`, QEMU start →
//! machined, and QEMU start → API ready (a `basaltctl --insecure version` over TLS through the
//! forwarded apid port succeeds).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use basalt_provision::qemu::{create_raw_disk, free_local_port, Accel, Qemu, Vm};

use super::Row;
use crate::cmd;

/// From QEMU start to each awaited console line.
const LINE_TIMEOUT: Duration = Duration::from_secs(240);
/// From QEMU start to the first successful `version` call.
const API_TIMEOUT: Duration = Duration::from_secs(300);

const ARTIFACTS: [&str; 3] = ["rootfs.sqsh", "initramfs.img", "vmlinuz"];
const EXECUTABLES: &str = "executables in rootfs.sqsh";
const BOOT_ROWS: [&str; 4] = [
    "QEMU start → first /init line",
    "/init image verification (ed25519 manifest + sha256 of rootfs.sqsh)",
    "QEMU start → machined (PID 1, metal)",
    "QEMU start → API ready (maintenance apid answers Version over TLS)",
];

/// The image rows; failed rows (with the reason) when they cannot be measured.
pub fn rows(release: &Path) -> Vec<Row> {
    let dir = cmd::target_dir().join("image");
    if !dir.join("manifest.json").is_file() {
        println!("xtask bench: no image in {}: building it", dir.display());
        let args = crate::image::Args {
            out: None,
            signing_key: None,
        };
        if let Err(err) = crate::image::run(&args) {
            let mut rows = vec![Row::failed(EXECUTABLES, &err)];
            rows.extend(BOOT_ROWS.iter().map(|name| Row::failed(name, &err)));
            return rows;
        }
    }
    let mut rows: Vec<Row> = ARTIFACTS.iter().map(|name| size_row(&dir, name)).collect();
    rows.push(
        executables(&dir.join("rootfs.sqsh")).unwrap_or_else(|e| Row::failed(EXECUTABLES, &e)),
    );
    match boot(&dir, &release.join("basaltctl")) {
        Ok(boot_rows) => rows.extend(boot_rows),
        Err(err) => rows.extend(BOOT_ROWS.iter().map(|name| Row::failed(name, &err))),
    }
    rows
}

fn size_row(dir: &Path, name: &str) -> Row {
    let row_name = format!("image artifact {name}");
    match std::fs::metadata(dir.join(name)) {
        Ok(meta) => Row {
            name: row_name,
            value: Some(meta.len() as f64 / 1e6),
            unit: "MB".to_string(),
            notes: format!("{} bytes, {}", meta.len(), dir.join(name).display()),
        },
        Err(e) => Row::failed(&row_name, &anyhow!("{}: {e}", dir.join(name).display())),
    }
}

fn executables(rootfs: &Path) -> Result<Row> {
    let listed = basalt_image::squashfs::list(rootfs)?;
    let mut found: Vec<(String, u64)> = listed
        .iter()
        .filter(|l| l.perms.starts_with('-') && l.perms.contains('x') && !l.path.contains(".so"))
        .map(|l| (l.path.clone(), l.size))
        .collect();
    found.sort();
    let total: u64 = found.iter().map(|(_, size)| size).sum();
    let list: Vec<String> = found
        .iter()
        .map(|(path, size)| format!("{path} {:.1} MB", *size as f64 / 1e6))
        .collect();
    Ok(Row {
        name: EXECUTABLES.to_string(),
        value: Some(found.len() as f64),
        unit: "files".to_string(),
        notes: format!(
            "{:.1} MB together (shared libraries not counted): {}",
            total as f64 / 1e6,
            list.join(", ")
        ),
    })
}

/// Boots the image once and reads the timings off the console and the API.
fn boot(dir: &Path, basaltctl: &Path) -> Result<Vec<Row>> {
    let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
    let disk = scratch.path().join("disk.raw");
    create_raw_disk(&disk, 1 << 30)?;
    let cmdline = std::fs::read_to_string(dir.join("cmdline"))
        .with_context(|| format!("cannot read {}", dir.join("cmdline").display()))?;
    let port = free_local_port()?;
    let mut vm = Qemu::builder()
        .kernel(dir.join("vmlinuz"))
        .initrd(dir.join("initramfs.img"))
        .append(cmdline.trim())
        .memory_mib(768)
        .disk(&disk)
        .serial_log(scratch.path().join("serial.log"))
        .user_net_forward(port, 50000)
        .accel(Accel::from_env()?)
        .spawn()?;
    let home = scratch.path().join("home");
    std::fs::create_dir_all(&home).context("cannot create a scratch HOME")?;
    let result = measure(&mut vm, port, basaltctl, &home);
    let _ = vm.kill();
    let accel = vm.accel();
    let mut rows = result?;
    for row in &mut rows {
        row.notes = format!("{} ({accel}, 1 vCPU, 768 MiB, fresh 1 GiB disk)", row.notes);
    }
    Ok(rows)
}

fn measure(vm: &mut Vm, port: u16, basaltctl: &Path, home: &Path) -> Result<Vec<Row>> {
    let first = vm.wait_for_line(|l| l.contains("basalt:"), LINE_TIMEOUT)?;
    let verified = vm.wait_for_line(
        |l| l.contains("basalt: verified") && l.contains(" ms"),
        LINE_TIMEOUT,
    )?;
    let verify_ms = verification_ms(&verified.text)
        .with_context(|| format!("no duration in the console line {:?}", verified.text))?;
    let machined = vm.wait_for_line(
        |l| l.contains("[machined]") && l.contains("platform metal"),
        LINE_TIMEOUT,
    )?;
    let api = api_ready(vm, port, basaltctl, home)?;
    let secs = |d: Duration| Some(d.as_secs_f64());
    let row = |name: &str, value, unit: &str, notes: String| Row {
        name: name.to_string(),
        value,
        unit: unit.to_string(),
        notes,
    };
    Ok(vec![
        row(
            BOOT_ROWS[0],
            secs(first.after),
            "s",
            "console timestamps".into(),
        ),
        row(
            BOOT_ROWS[1],
            Some(verify_ms),
            "ms",
            format!("from /init's console line {:?}", verified.text),
        ),
        row(BOOT_ROWS[2], secs(machined.after), "s", "console".into()),
        row(
            BOOT_ROWS[3],
            secs(api),
            "s",
            "first-boot partitioning and DHCP included".into(),
        ),
    ])
}

/// `verified … in 612 ms` → 612.
fn verification_ms(line: &str) -> Option<f64> {
    let (_, after) = line.rsplit_once(" in ")?;
    after.trim().strip_suffix("ms")?.trim().parse().ok()
}

/// Calls `basaltctl --insecure version` until it succeeds; returns the time since QEMU start.
fn api_ready(vm: &mut Vm, port: u16, basaltctl: &Path, home: &Path) -> Result<Duration> {
    let endpoint = format!("127.0.0.1:{port}");
    let deadline = vm.started() + API_TIMEOUT;
    loop {
        let output = Command::new(basaltctl)
            .env("HOME", home)
            .args(["--insecure", "-n", &endpoint, "version", "--short"])
            .output()
            .with_context(|| format!("cannot run {}", basaltctl.display()))?;
        if output.status.success() {
            return Ok(vm.started().elapsed());
        }
        if Instant::now() >= deadline {
            bail!(
                "apid did not answer on {endpoint} within {API_TIMEOUT:?}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_duration_is_read_from_the_console_line() {
        let line = "basalt: verified image 0.1.0+abc (sha256-full) with key 0011... in 612 ms";
        assert_eq!(verification_ms(line), Some(612.0));
        assert_eq!(verification_ms("basalt: verified"), None);
    }
}
