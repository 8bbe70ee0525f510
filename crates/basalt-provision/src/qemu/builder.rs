//! The QEMU command line, built from typed settings.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::accel::{Accel, ResolvedAccel};
use super::vm::Vm;
use super::QemuError;

/// The QEMU program started by default (found on PATH).
pub const QEMU_BINARY: &str = "qemu-system-x86_64";

/// Guest memory when none is set: small, so several VMs fit on a 2-core CI machine.
pub const DEFAULT_MEMORY_MIB: u32 = 768;

/// Entry point: `Qemu::builder()`.
#[derive(Debug)]
pub struct Qemu;

impl Qemu {
    /// A builder with the defaults (768 MiB, one vCPU, `Accel::Auto`, `-no-reboot`).
    pub fn builder() -> QemuBuilder {
        QemuBuilder::default()
    }
}

/// One virtio disk (`vda`, `vdb`, … in the order given).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Disk {
    path: PathBuf,
    readonly: bool,
}

/// A virtio NIC on an existing host tap device (made with `ip tuntap add … mode tap`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapNic {
    /// The tap's interface name on the host.
    pub ifname: String,
    /// The guest NIC's MAC address (`52:54:00:…`).
    pub mac: String,
}

/// Settings of one VM; [`QemuBuilder::spawn`] starts it.
#[derive(Debug, Clone)]
pub struct QemuBuilder {
    binary: PathBuf,
    kernel: Option<PathBuf>,
    initrd: Option<PathBuf>,
    append: Option<String>,
    memory_mib: u32,
    disks: Vec<Disk>,
    serial_log: Option<PathBuf>,
    forwards: Vec<(u16, u16)>,
    tap: Option<TapNic>,
    accel: Accel,
    no_reboot: bool,
}

impl Default for QemuBuilder {
    fn default() -> Self {
        QemuBuilder {
            binary: PathBuf::from(QEMU_BINARY),
            kernel: None,
            initrd: None,
            append: None,
            memory_mib: DEFAULT_MEMORY_MIB,
            disks: Vec::new(),
            serial_log: None,
            forwards: Vec::new(),
            tap: None,
            accel: Accel::Auto,
            no_reboot: true,
        }
    }
}

impl QemuBuilder {
    /// The QEMU program (default `qemu-system-x86_64` from PATH).
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = path.into();
        self
    }

    /// The kernel image (`-kernel`); required.
    pub fn kernel(mut self, path: impl Into<PathBuf>) -> Self {
        self.kernel = Some(path.into());
        self
    }

    /// The initramfs (`-initrd`).
    pub fn initrd(mut self, path: impl Into<PathBuf>) -> Self {
        self.initrd = Some(path.into());
        self
    }

    /// The kernel command line (`-append`).
    pub fn append(mut self, cmdline: impl Into<String>) -> Self {
        self.append = Some(cmdline.into());
        self
    }

    /// Guest memory in MiB (`-m`).
    pub fn memory_mib(mut self, mib: u32) -> Self {
        self.memory_mib = mib;
        self
    }

    /// A raw disk image attached as a (writable) virtio disk; repeatable: the guest sees the
    /// disks as `vda`, `vdb`, … in the order given.
    pub fn disk(mut self, path: impl Into<PathBuf>) -> Self {
        self.disks.push(Disk {
            path: path.into(),
            readonly: false,
        });
        self
    }

    /// A raw disk image attached read-only (`readonly=on`), e.g. a raw config disk.
    pub fn readonly_disk(mut self, path: impl Into<PathBuf>) -> Self {
        self.disks.push(Disk {
            path: path.into(),
            readonly: true,
        });
        self
    }

    /// The NIC on host tap `ifname` with MAC `mac` instead of user-mode networking
    /// (`-netdev tap,ifname=…,script=no,downscript=no`); port forwards are then ignored.
    pub fn tap_nic(mut self, ifname: impl Into<String>, mac: impl Into<String>) -> Self {
        self.tap = Some(TapNic {
            ifname: ifname.into(),
            mac: mac.into(),
        });
        self
    }

    /// Where the serial console (ttyS0) is written; required.
    pub fn serial_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.serial_log = Some(path.into());
        self
    }

    /// Forwards TCP `127.0.0.1:host_port` to `guest_port` on the guest's user-mode NIC.
    /// Giving none still attaches the NIC (user networking without forwards).
    pub fn user_net_forward(mut self, host_port: u16, guest_port: u16) -> Self {
        self.forwards.push((host_port, guest_port));
        self
    }

    /// The accelerator (default [`Accel::Auto`]).
    pub fn accel(mut self, accel: Accel) -> Self {
        self.accel = accel;
        self
    }

    /// Whether a guest reboot ends QEMU (`-no-reboot`, default true).
    pub fn no_reboot(mut self, yes: bool) -> Self {
        self.no_reboot = yes;
        self
    }

    /// The program to run.
    pub fn program(&self) -> &Path {
        &self.binary
    }

    /// The serial log path, once set.
    pub fn serial_log_path(&self) -> Option<&Path> {
        self.serial_log.as_deref()
    }

    /// The arguments (without the program) for the given accelerator.
    pub fn argv(&self, accel: ResolvedAccel) -> Result<Vec<OsString>, QemuError> {
        let kernel = self.kernel.as_ref().ok_or(QemuError::Missing("a kernel"))?;
        let serial = self
            .serial_log
            .as_ref()
            .ok_or(QemuError::Missing("a serial log path"))?;
        let mut args: Vec<OsString> = Vec::new();
        let mut push = |parts: &[&str]| args.extend(parts.iter().map(OsString::from));
        push(&["-nodefaults", "-no-user-config", "-display", "none"]);
        match accel {
            ResolvedAccel::Tcg => push(&["-accel", "tcg"]),
            ResolvedAccel::Kvm => push(&["-accel", "kvm", "-cpu", "host"]),
        }
        let memory = self.memory_mib.to_string();
        push(&["-m", &memory, "-smp", "1"]);
        if self.no_reboot {
            push(&["-no-reboot"]);
        }
        args.push("-serial".into());
        args.push(prefixed("file:", serial));
        args.push("-kernel".into());
        args.push(kernel.into());
        if let Some(initrd) = &self.initrd {
            args.push("-initrd".into());
            args.push(initrd.into());
        }
        if let Some(cmdline) = &self.append {
            args.push("-append".into());
            args.push(cmdline.into());
        }
        let (netdev, device) = match &self.tap {
            Some(tap) => (
                format!(
                    "tap,id=n0,ifname={},script=no,downscript=no",
                    tap.ifname.replace(',', ",,")
                ),
                format!("virtio-net-pci,netdev=n0,mac={}", tap.mac),
            ),
            None => {
                let mut netdev = String::from("user,id=n0");
                for (host, guest) in &self.forwards {
                    netdev.push_str(&format!(",hostfwd=tcp:127.0.0.1:{host}-:{guest}"));
                }
                (netdev, "virtio-net-pci,netdev=n0".to_string())
            }
        };
        args.extend(
            ["-netdev", &netdev, "-device", &device]
                .iter()
                .map(OsString::from),
        );
        for disk in &self.disks {
            args.push("-drive".into());
            let mut spec = prefixed("file=", &escape_commas(&disk.path));
            spec.push(",if=virtio,format=raw");
            if disk.readonly {
                spec.push(",readonly=on");
            }
            args.push(spec);
        }
        Ok(args)
    }

    /// Checks the inputs exist, resolves the accelerator and starts QEMU.
    pub fn spawn(self) -> Result<Vm, QemuError> {
        let inputs = [
            ("kernel", self.kernel.as_ref()),
            ("initrd", self.initrd.as_ref()),
        ]
        .into_iter()
        .chain(self.disks.iter().map(|d| ("disk", Some(&d.path))));
        for (what, path) in inputs {
            if let Some(path) = path {
                if !path.exists() {
                    return Err(QemuError::NoSuchFile {
                        what,
                        path: path.clone(),
                    });
                }
            }
        }
        let accel = self.accel.resolve()?;
        let args = self.argv(accel)?;
        Vm::start(&self, accel, args)
    }
}

fn prefixed(prefix: &str, path: &Path) -> OsString {
    let mut s = OsString::from(prefix);
    s.push(path.as_os_str());
    s
}

/// QEMU's option parser splits on commas; a literal comma in a value is written twice.
fn escape_commas(path: &Path) -> PathBuf {
    PathBuf::from(path.to_string_lossy().replace(',', ",,"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    fn full() -> QemuBuilder {
        Qemu::builder()
            .kernel("/img/vmlinuz")
            .initrd("/img/initramfs.img")
            .append("console=ttyS0 panic=-1")
            .memory_mib(512)
            .disk("/vm/disk.raw")
            .serial_log("/vm/serial.log")
            .user_net_forward(40123, 50000)
    }

    #[test]
    fn full_command_line_under_tcg() {
        let args = strings(full().argv(ResolvedAccel::Tcg).unwrap());
        let expected: Vec<&str> = vec![
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-accel",
            "tcg",
            "-m",
            "512",
            "-smp",
            "1",
            "-no-reboot",
            "-serial",
            "file:/vm/serial.log",
            "-kernel",
            "/img/vmlinuz",
            "-initrd",
            "/img/initramfs.img",
            "-append",
            "console=ttyS0 panic=-1",
            "-netdev",
            "user,id=n0,hostfwd=tcp:127.0.0.1:40123-:50000",
            "-device",
            "virtio-net-pci,netdev=n0",
            "-drive",
            "file=/vm/disk.raw,if=virtio,format=raw",
        ];
        assert_eq!(args, expected);
    }

    #[test]
    fn kvm_uses_host_cpu_and_reboot_can_be_allowed() {
        let args = strings(full().no_reboot(false).argv(ResolvedAccel::Kvm).unwrap());
        let joined = args.join(" ");
        assert!(joined.contains("-accel kvm -cpu host"), "{joined}");
        assert!(!joined.contains("-no-reboot"), "{joined}");
    }

    #[test]
    fn minimal_vm_has_defaults_and_no_optional_parts() {
        let args = strings(
            Qemu::builder()
                .kernel("k")
                .serial_log("s")
                .argv(ResolvedAccel::Tcg)
                .unwrap(),
        );
        let joined = args.join(" ");
        assert!(joined.contains("-m 768 -smp 1"), "{joined}");
        assert!(joined.contains("-netdev user,id=n0 "), "{joined}");
        for absent in ["-initrd", "-append", "-drive", "hostfwd"] {
            assert!(!joined.contains(absent), "{absent} in {joined}");
        }
    }

    #[test]
    fn several_forwards_and_commas_in_disk_paths() {
        let args = strings(
            Qemu::builder()
                .kernel("k")
                .serial_log("s")
                .disk("/a,b/disk.raw")
                .user_net_forward(1, 2)
                .user_net_forward(3, 4)
                .argv(ResolvedAccel::Tcg)
                .unwrap(),
        );
        assert!(args
            .contains(&"user,id=n0,hostfwd=tcp:127.0.0.1:1-:2,hostfwd=tcp:127.0.0.1:3-:4".into()));
        assert!(args.contains(&"file=/a,,b/disk.raw,if=virtio,format=raw".into()));
    }

    #[test]
    fn tap_nic_and_several_disks() {
        let args = strings(
            Qemu::builder()
                .kernel("k")
                .serial_log("s")
                .disk("/vm/data.raw")
                .readonly_disk("/vm/config.raw")
                .tap_nic("bvabc123-0", "52:54:00:05:00:02")
                .user_net_forward(1, 2)
                .argv(ResolvedAccel::Tcg)
                .unwrap(),
        );
        let joined = args.join(" ");
        assert!(
            joined.contains(
                "-netdev tap,id=n0,ifname=bvabc123-0,script=no,downscript=no \
                 -device virtio-net-pci,netdev=n0,mac=52:54:00:05:00:02"
            ),
            "{joined}"
        );
        assert!(!joined.contains("hostfwd"), "{joined}");
        assert!(
            joined.contains(
                "-drive file=/vm/data.raw,if=virtio,format=raw \
                 -drive file=/vm/config.raw,if=virtio,format=raw,readonly=on"
            ),
            "{joined}"
        );
    }

    #[test]
    fn missing_kernel_or_serial_log_is_named() {
        let e = Qemu::builder()
            .serial_log("s")
            .argv(ResolvedAccel::Tcg)
            .unwrap_err();
        assert!(e.to_string().contains("needs a kernel"), "{e}");
        let e = Qemu::builder()
            .kernel("k")
            .argv(ResolvedAccel::Tcg)
            .unwrap_err();
        assert!(e.to_string().contains("serial log"), "{e}");
    }

    #[test]
    fn spawn_reports_missing_input_files() {
        let e = Qemu::builder()
            .kernel("/definitely/not/here/vmlinuz")
            .serial_log("/tmp/x.log")
            .spawn()
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("kernel /definitely/not/here/vmlinuz does not exist"),
            "{e}"
        );
    }
}
