//! Memory figures of a process from `/proc/<pid>/status`.

use anyhow::{Context, Result};

/// Resident set size now and at its peak, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// `VmRSS`: resident set size now.
    pub rss_kib: u64,
    /// `VmHWM`: the peak resident set size ("high water mark").
    pub hwm_kib: u64,
}

/// Reads `VmRSS` and `VmHWM` of `pid`.
pub fn memory(pid: i32) -> Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {path} (has the process exited?)"))?;
    parse_memory(&text).with_context(|| format!("in {path}"))
}

/// `VmRSS` and `VmHWM` of a status text.
pub fn parse_memory(status: &str) -> Result<Memory> {
    Ok(Memory {
        rss_kib: field_kib(status, "VmRSS")?,
        hwm_kib: field_kib(status, "VmHWM")?,
    })
}

/// The value of a `Name:   1234 kB` line, in KiB.
fn field_kib(status: &str, name: &str) -> Result<u64> {
    let value = status
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .with_context(|| format!("no {name} line (a kernel thread or a zombie has none)"))?;
    let number = value.trim().strip_suffix("kB").unwrap_or(value).trim();
    number
        .parse()
        .with_context(|| format!("{name}: `{}` is not a size in kB", value.trim()))
}

/// KiB as MiB.
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const STATUS: &str = "Name:\tbasalt\nState:\tS (sleeping)\nVmPeak:\t   20000 kB\n\
        VmHWM:\t    6144 kB\nVmRSS:\t    5120 kB\nRssAnon:\t    1024 kB\n";

    #[test]
    fn parse_memory_reads_rss_and_hwm() {
        let memory = parse_memory(STATUS).unwrap();
        assert_eq!(
            memory,
            Memory {
                rss_kib: 5120,
                hwm_kib: 6144
            }
        );
        assert_eq!(mib(memory.rss_kib), 5.0);
    }

    #[test]
    fn parse_memory_names_a_missing_or_bad_field() {
        let err = parse_memory("Name:\tkthreadd\nState:\tS\n").unwrap_err();
        assert!(format!("{err}").contains("VmRSS"), "{err}");
        let err = parse_memory("VmRSS:\tlots kB\nVmHWM:\t1 kB\n").unwrap_err();
        assert!(format!("{err}").contains("lots"), "{err}");
    }

    #[test]
    fn field_names_must_match_exactly() {
        let text = "VmRSSx:\t1 kB\nVmRSS:\t2 kB\n";
        assert_eq!(field_kib(text, "VmRSS").unwrap(), 2);
    }
}
