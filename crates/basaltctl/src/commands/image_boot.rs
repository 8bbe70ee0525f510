//! `basaltctl image boot`: boots a built image (`image build`'s output) in QEMU in metal mode,
//! the way the tests do: a virtio disk (created blank when missing; the node partitions it on
//! first boot), user-mode networking with apid's port forwarded to the host, and the serial
//! console copied here until the VM powers off (or Ctrl-C).
//!
//! The accelerator: `--accel auto` uses KVM only when `/dev/kvm` opens and the CPU shows
//! `vmx`/`svm`, else software emulation (TCG); `--accel tcg|kvm` forces one.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use basalt_provision::qemu::{create_raw_disk, Accel, Qemu};
use clap::Args;

/// Arguments of `image boot`.
#[derive(Debug, Args)]
pub struct BootArgs {
    /// The image directory (vmlinuz, initramfs.img, cmdline) [default: target/image of the
    /// Basalt checkout at or above the current directory]
    #[arg(long, value_name = "DIR")]
    pub image: Option<PathBuf>,

    /// The VM's disk (raw); created blank with --disk-size when missing
    #[arg(long, value_name = "FILE", default_value = "basalt-disk.raw")]
    pub disk: PathBuf,

    /// Size of a newly created disk, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 2048)]
    pub disk_size: u64,

    /// Memory of the VM, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 768)]
    pub memory: u32,

    /// Host port forwarded to apid (50000) in the VM, on 127.0.0.1
    #[arg(long, value_name = "PORT", default_value_t = 50000)]
    pub api_port: u16,

    /// Accelerator: auto, tcg or kvm
    #[arg(long, value_name = "ACCEL", default_value = "auto", value_parser = parse_accel)]
    pub accel: Accel,

    /// Extra kernel arguments, e.g. `basalt.config=http://10.0.2.2:8080/controlplane.yaml`
    #[arg(long, value_name = "ARGS")]
    pub append: Option<String>,

    /// Where the console is also written
    #[arg(long, value_name = "FILE", default_value = "basalt-console.log")]
    pub console_log: PathBuf,
}

fn parse_accel(text: &str) -> Result<Accel, String> {
    text.parse()
        .map_err(|e: basalt_provision::qemu::QemuError| e.to_string())
}

/// Boots the image and follows its console until QEMU ends.
pub fn run(args: &BootArgs) -> anyhow::Result<()> {
    let image = match &args.image {
        Some(dir) => dir.clone(),
        None => {
            let cwd = std::env::current_dir().context("cannot read the current directory")?;
            super::image::find_checkout(&cwd)
                .with_context(|| {
                    format!(
                        "no Basalt checkout at or above {}: pass --image DIR",
                        cwd.display()
                    )
                })?
                .join("target/image")
        }
    };
    for name in ["vmlinuz", "initramfs.img", "cmdline"] {
        anyhow::ensure!(
            image.join(name).is_file(),
            "{} is missing: build the image with `basaltctl image build` (or pass --image DIR)",
            image.join(name).display()
        );
    }
    if !args.disk.exists() {
        create_raw_disk(&args.disk, args.disk_size << 20)
            .with_context(|| format!("cannot create the disk {}", args.disk.display()))?;
        eprintln!(
            "created a blank {} MiB disk {}",
            args.disk_size,
            args.disk.display()
        );
    }
    let cmdline = std::fs::read_to_string(image.join("cmdline"))
        .with_context(|| format!("cannot read {}", image.join("cmdline").display()))?;
    let append = match &args.append {
        Some(extra) => format!("{} {extra}", cmdline.trim()),
        None => cmdline.trim().to_string(),
    };
    let mut vm = Qemu::builder()
        .kernel(image.join("vmlinuz"))
        .initrd(image.join("initramfs.img"))
        .append(append)
        .memory_mib(args.memory)
        .disk(&args.disk)
        .serial_log(&args.console_log)
        .user_net_forward(args.api_port, 50000)
        .accel(args.accel)
        .spawn()
        .context("cannot start QEMU (install qemu-system-x86, or run `cargo xtask up`)")?;
    eprintln!(
        "QEMU ({}) started, pid {}; apid is forwarded to 127.0.0.1:{}; the console follows \
         (also in {}); Ctrl-C stops the VM",
        vm.accel(),
        vm.pid(),
        args.api_port,
        args.console_log.display()
    );
    let status = follow(&mut vm, &args.console_log)?;
    eprintln!("QEMU exited: {status}");
    anyhow::ensure!(status.success(), "QEMU exited with {status}");
    Ok(())
}

/// Copies new console bytes to stdout until QEMU ends; returns its exit status.
fn follow(
    vm: &mut basalt_provision::qemu::Vm,
    log: &Path,
) -> anyhow::Result<std::process::ExitStatus> {
    let mut file = std::fs::File::open(log)
        .with_context(|| format!("cannot open the console log {}", log.display()))?;
    let mut offset = 0u64;
    let mut stdout = std::io::stdout();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let exited = vm.try_exit()?;
        file.seek(SeekFrom::Start(offset))?;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            offset += n as u64;
            stdout.write_all(&buf[..n])?;
        }
        stdout.flush()?;
        if let Some(status) = exited {
            return Ok(status);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn accel_values() {
        assert_eq!(parse_accel("tcg").unwrap(), Accel::Tcg);
        assert_eq!(parse_accel("KVM").unwrap(), Accel::Kvm);
        assert!(parse_accel("hvf").unwrap_err().contains("tcg"));
    }
}
