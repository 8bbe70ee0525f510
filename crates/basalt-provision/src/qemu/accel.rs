//! Choosing the accelerator: KVM only where it can really run a Linux guest, else TCG.
//!
//! Some hosts (nested paravirtual setups) have a `/dev/kvm` that opens but cannot run a stock
//! kernel; those CPUs show neither `vmx` nor `svm` in `/proc/cpuinfo`. So `Auto` picks KVM only
//! when `/dev/kvm` opens read-write **and** the CPU flags include `vmx` or `svm`.

use std::fmt;
use std::fs::OpenOptions;
use std::str::FromStr;

use super::QemuError;

/// What the user asked for (`--accel auto|tcg|kvm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Accel {
    /// KVM when usable (see the module docs), else TCG.
    #[default]
    Auto,
    /// Software emulation; works everywhere, slower.
    Tcg,
    /// Hardware virtualization; fails to resolve when KVM is not usable.
    Kvm,
}

/// The accelerator QEMU is actually started with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolvedAccel {
    /// `-accel tcg`.
    Tcg,
    /// `-accel kvm -cpu host`.
    Kvm,
}

impl FromStr for Accel {
    type Err = QemuError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Accel::Auto),
            "tcg" => Ok(Accel::Tcg),
            "kvm" => Ok(Accel::Kvm),
            _ => Err(QemuError::UnknownAccel(s.to_string())),
        }
    }
}

impl fmt::Display for Accel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Accel::Auto => "auto",
            Accel::Tcg => "tcg",
            Accel::Kvm => "kvm",
        })
    }
}

impl fmt::Display for ResolvedAccel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResolvedAccel::Tcg => "tcg",
            ResolvedAccel::Kvm => "kvm",
        })
    }
}

/// What the host offers, gathered once so the decision itself is a pure function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostKvm {
    /// `/dev/kvm` opened read-write.
    pub device_opens: bool,
    /// `/proc/cpuinfo` lists `vmx` (Intel) or `svm` (AMD).
    pub cpu_has_virt: bool,
}

impl HostKvm {
    /// Probes this host.
    pub fn probe() -> Self {
        let device_opens = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .is_ok();
        let cpu_has_virt = std::fs::read_to_string("/proc/cpuinfo")
            .map(|info| cpuinfo_has_virt(&info))
            .unwrap_or(false);
        HostKvm {
            device_opens,
            cpu_has_virt,
        }
    }

    fn problem(self) -> Option<&'static str> {
        match (self.device_opens, self.cpu_has_virt) {
            (true, true) => None,
            (false, _) => Some("/dev/kvm does not open read-write"),
            (true, false) => Some(
                "/proc/cpuinfo shows neither vmx nor svm (a nested/paravirtual /dev/kvm cannot boot a stock kernel)",
            ),
        }
    }
}

/// True when a `flags` line of `/proc/cpuinfo` contains the `vmx` or `svm` flag.
pub fn cpuinfo_has_virt(cpuinfo: &str) -> bool {
    cpuinfo
        .lines()
        .filter(|line| line.starts_with("flags"))
        .filter_map(|line| line.split_once(':').map(|(_, flags)| flags))
        .any(|flags| flags.split_whitespace().any(|f| f == "vmx" || f == "svm"))
}

impl Accel {
    /// Resolves against this host.
    pub fn resolve(self) -> Result<ResolvedAccel, QemuError> {
        self.resolve_with(HostKvm::probe())
    }

    /// Resolves against the given host facts.
    pub fn resolve_with(self, host: HostKvm) -> Result<ResolvedAccel, QemuError> {
        match (self, host.problem()) {
            (Accel::Tcg, _) | (Accel::Auto, Some(_)) => Ok(ResolvedAccel::Tcg),
            (Accel::Auto | Accel::Kvm, None) => Ok(ResolvedAccel::Kvm),
            (Accel::Kvm, Some(problem)) => Err(QemuError::KvmUnavailable(problem.to_string())),
        }
    }

    /// `BASALT_QEMU_ACCEL` from the environment (auto when unset).
    pub fn from_env() -> Result<Self, QemuError> {
        match std::env::var("BASALT_QEMU_ACCEL") {
            Ok(value) => value.parse(),
            Err(_) => Ok(Accel::Auto),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const INTEL: &str = "processor\t: 0\nflags\t\t: fpu vme de pse vmx sse2\n";
    const AMD: &str = "processor\t: 0\nflags\t\t: fpu svm lm\n";
    const NESTED_PVM: &str =
        "processor\t: 0\nflags\t\t: fpu vme hypervisor lm\nmodel name\t: vmxish\n";

    fn host(device_opens: bool, cpu_has_virt: bool) -> HostKvm {
        HostKvm {
            device_opens,
            cpu_has_virt,
        }
    }

    #[test]
    fn cpuinfo_flags_are_matched_as_words_on_flags_lines_only() {
        assert!(cpuinfo_has_virt(INTEL));
        assert!(cpuinfo_has_virt(AMD));
        assert!(!cpuinfo_has_virt(NESTED_PVM));
        assert!(!cpuinfo_has_virt("flags\t: vmxe svmx\n"));
        assert!(!cpuinfo_has_virt(""));
    }

    #[test]
    fn auto_needs_both_device_and_cpu_flag() {
        assert_eq!(
            Accel::Auto.resolve_with(host(true, true)).unwrap(),
            ResolvedAccel::Kvm
        );
        for (dev, cpu) in [(true, false), (false, true), (false, false)] {
            assert_eq!(
                Accel::Auto.resolve_with(host(dev, cpu)).unwrap(),
                ResolvedAccel::Tcg
            );
        }
    }

    #[test]
    fn forced_values_override_detection() {
        assert_eq!(
            Accel::Tcg.resolve_with(host(true, true)).unwrap(),
            ResolvedAccel::Tcg
        );
        let e = Accel::Kvm.resolve_with(host(true, false)).unwrap_err();
        assert!(e.to_string().contains("neither vmx nor svm"), "{e}");
        assert!(e.to_string().contains("--accel tcg"), "{e}");
        let e = Accel::Kvm.resolve_with(host(false, true)).unwrap_err();
        assert!(e.to_string().contains("/dev/kvm"), "{e}");
    }

    #[test]
    fn parses_cli_values() {
        assert_eq!("auto".parse::<Accel>().unwrap(), Accel::Auto);
        assert_eq!("TCG".parse::<Accel>().unwrap(), Accel::Tcg);
        assert_eq!("kvm".parse::<Accel>().unwrap(), Accel::Kvm);
        let e = "hvf".parse::<Accel>().unwrap_err();
        assert!(e.to_string().contains("auto, tcg, kvm"), "{e}");
        assert_eq!(Accel::Kvm.to_string(), "kvm");
    }
}
