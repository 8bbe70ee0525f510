//! A running QEMU: watch its serial console, wait for it to end, kill it on drop.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::accel::ResolvedAccel;
use super::builder::QemuBuilder;
use super::QemuError;

/// How often the serial log and the process are polled.
const POLL: Duration = Duration::from_millis(20);

/// Console lines quoted in error messages.
const TAIL_LINES: usize = 30;

/// One console line and when it was first seen, counted from QEMU's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialLine {
    /// The line without its line ending.
    pub text: String,
    /// Time from spawning QEMU until the line was seen (accurate to the poll interval, 20 ms).
    pub after: Duration,
}

/// A QEMU process; killed (and reaped) when dropped.
#[derive(Debug)]
pub struct Vm {
    child: Child,
    serial_log: PathBuf,
    stderr_log: PathBuf,
    started: Instant,
    accel: ResolvedAccel,
    status: Option<ExitStatus>,
}

impl Vm {
    pub(super) fn start(
        builder: &QemuBuilder,
        accel: ResolvedAccel,
        args: Vec<OsString>,
    ) -> Result<Vm, QemuError> {
        let serial_log = builder
            .serial_log_path()
            .ok_or(QemuError::Missing("a serial log path"))?
            .to_path_buf();
        create_empty(&serial_log, "create serial log")?;
        let mut stderr_name = serial_log.clone().into_os_string();
        stderr_name.push(".qemu-stderr");
        let stderr_log = PathBuf::from(stderr_name);
        let stderr = create_empty(&stderr_log, "create QEMU stderr log")?;
        let started = Instant::now();
        let child = Command::new(builder.program())
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|source| QemuError::Spawn {
                binary: builder.program().display().to_string(),
                source,
            })?;
        Ok(Vm {
            child,
            serial_log,
            stderr_log,
            started,
            accel,
            status: None,
        })
    }

    /// QEMU's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The accelerator QEMU runs with.
    pub fn accel(&self) -> ResolvedAccel {
        self.accel
    }

    /// When QEMU was spawned.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The serial console log file.
    pub fn serial_log(&self) -> &Path {
        &self.serial_log
    }

    /// Everything the serial console printed so far (lossy UTF-8).
    pub fn serial_output(&self) -> Result<String, QemuError> {
        read_lossy(&self.serial_log, "read serial log")
    }

    /// The first console line for which `matches` is true, waiting up to `timeout`.
    /// Fails early, with QEMU's own error output, if QEMU ends first.
    pub fn wait_for_line(
        &mut self,
        matches: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Result<SerialLine, QemuError> {
        let deadline = Instant::now() + timeout;
        loop {
            let exited = self.poll_exit()?;
            let output = self.serial_output()?;
            // Until QEMU ends, only newline-terminated lines are complete.
            let complete = match (exited, output.rfind('\n')) {
                (Some(_), _) => output.as_str(),
                (None, Some(end)) => &output[..end],
                (None, None) => "",
            };
            if let Some(line) = complete.lines().map(clean).find(|l| matches(l)) {
                return Ok(SerialLine {
                    text: line.to_string(),
                    after: self.started.elapsed(),
                });
            }
            if let Some(status) = exited {
                return Err(QemuError::ExitedEarly {
                    status,
                    log: self.serial_log.clone(),
                    stderr: self.qemu_stderr().trim().to_string(),
                    tail: tail(&output),
                });
            }
            if Instant::now() >= deadline {
                return Err(QemuError::LineTimeout {
                    timeout,
                    log: self.serial_log.clone(),
                    tail: tail(&output),
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits up to `timeout` for QEMU to end and returns how it ended.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus, QemuError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.poll_exit()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                return Err(QemuError::ExitTimeout {
                    timeout,
                    log: self.serial_log.clone(),
                    tail: tail(&self.serial_output().unwrap_or_default()),
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// How QEMU ended, or `None` while it still runs (does not wait).
    pub fn try_exit(&mut self) -> Result<Option<ExitStatus>, QemuError> {
        self.poll_exit()
    }

    /// Kills QEMU (SIGKILL) and reaps it; a no-op when it already ended.
    pub fn kill(&mut self) -> Result<(), QemuError> {
        if self.poll_exit()?.is_some() {
            return Ok(());
        }
        let pid = self.pid();
        self.child.kill().map_err(|source| QemuError::Process {
            action: "kill",
            pid,
            source,
        })?;
        let status = self.child.wait().map_err(|source| QemuError::Process {
            action: "wait for",
            pid,
            source,
        })?;
        self.status = Some(status);
        Ok(())
    }

    /// What QEMU itself printed on stderr (startup errors such as a busy forward port).
    pub fn qemu_stderr(&self) -> String {
        read_lossy(&self.stderr_log, "read QEMU stderr").unwrap_or_default()
    }

    fn poll_exit(&mut self) -> Result<Option<ExitStatus>, QemuError> {
        if self.status.is_none() {
            let pid = self.pid();
            self.status = self.child.try_wait().map_err(|source| QemuError::Process {
                action: "wait for",
                pid,
                source,
            })?;
        }
        Ok(self.status)
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

fn create_empty(path: &Path, action: &'static str) -> Result<File, QemuError> {
    File::create(path).map_err(|source| QemuError::Io {
        action,
        path: path.to_path_buf(),
        source,
    })
}

fn read_lossy(path: &Path, action: &'static str) -> Result<String, QemuError> {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|source| QemuError::Io {
            action,
            path: path.to_path_buf(),
            source,
        })
}

/// A console line without the serial port's carriage returns.
fn clean(line: &str) -> &str {
    line.trim_end_matches('\r')
}

/// The last [`TAIL_LINES`] lines of `output`, indented for error messages.
fn tail(output: &str) -> String {
    let lines: Vec<&str> = output.lines().map(clean).collect();
    let start = lines.len().saturating_sub(TAIL_LINES);
    lines[start..]
        .iter()
        .map(|l| format!("  | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tail_keeps_last_lines_without_carriage_returns() {
        let output: String = (0..40).map(|i| format!("line {i}\r\n")).collect();
        let t = tail(&output);
        assert!(t.starts_with("  | line 10\n"), "{t}");
        assert!(t.ends_with("  | line 39"), "{t}");
        assert!(!t.contains('\r'));
    }

    /// A fake "QEMU" (a shell script) exercises the watcher without a guest.
    fn fake_vm(dir: &Path, script: &str) -> Vm {
        let program = dir.join("fake-qemu");
        std::fs::write(&program, format!("#!/bin/sh\n{script}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let log = dir.join("serial.log");
        let builder = QemuBuilder::default().binary(&program).serial_log(&log);
        let args = vec![OsString::from(log.as_os_str())];
        Vm::start(&builder, ResolvedAccel::Tcg, args).unwrap()
    }

    #[test]
    fn waits_for_a_line_then_for_exit() {
        let dir = tempfile::tempdir().unwrap();
        let mut vm = fake_vm(
            dir.path(),
            "printf 'boot\\r\\n' >> \"$1\"; sleep 0.2; printf 'basalt: hello\\r\\n' >> \"$1\"; sleep 0.2; exit 3",
        );
        let line = vm
            .wait_for_line(|l| l.starts_with("basalt:"), Duration::from_secs(10))
            .unwrap();
        assert_eq!(line.text, "basalt: hello");
        assert!(line.after >= Duration::from_millis(150), "{:?}", line.after);
        let status = vm.wait_exit(Duration::from_secs(10)).unwrap();
        assert_eq!(status.code(), Some(3));
    }

    #[test]
    fn early_exit_reports_stderr_and_console_tail() {
        let dir = tempfile::tempdir().unwrap();
        let mut vm = fake_vm(
            dir.path(),
            "echo 'kernel: oops' >> \"$1\"; echo 'could not set up host forwarding rule' >&2; exit 1",
        );
        let e = vm
            .wait_for_line(|l| l.contains("never"), Duration::from_secs(10))
            .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("host forwarding rule"), "{msg}");
        assert!(msg.contains("  | kernel: oops"), "{msg}");
    }

    #[test]
    fn timeouts_and_kill_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let mut vm = fake_vm(
            dir.path(),
            "echo partial-line-without-newline; exec sleep 30",
        );
        let e = vm
            .wait_for_line(|_| true, Duration::from_millis(200))
            .unwrap_err();
        assert!(matches!(e, QemuError::LineTimeout { .. }), "{e}");
        let e = vm.wait_exit(Duration::from_millis(100)).unwrap_err();
        assert!(e.to_string().contains("still running"), "{e}");
        let pid = vm.pid();
        drop(vm);
        let alive = Path::new(&format!("/proc/{pid}")).exists();
        assert!(!alive, "fake QEMU {pid} still alive after drop");
    }
}
