//! A running `basalt launch`: its output lines with the instant each arrived, the instant it
//! exited, and shutdown (SIGTERM, then SIGKILL after a timeout).
//!
//! A thread waits for the launcher with `waitid(WNOWAIT)`: it notes the exit instant without
//! reaping, so the pid stays ours (a zombie) until `Child::wait` reaps it and signals sent by
//! pid can never reach a recycled process.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag};
use nix::unistd::Pid;

use super::node_root::NodeDirs;
use crate::cmd;

/// How many console lines an error message quotes.
const TAIL_LINES: usize = 8;

/// One line the launcher wrote.
#[derive(Debug)]
struct Line {
    stdout: bool,
    at: Instant,
    text: String,
}

/// A `basalt launch` child with its output collected.
#[derive(Debug)]
pub struct Launcher {
    child: Child,
    pid: Pid,
    /// When the launcher was spawned.
    pub started: Instant,
    lines: Receiver<Line>,
    seen: Vec<Line>,
    exit: Receiver<Result<Instant, Errno>>,
    exited_at: Option<Instant>,
    machined: Option<i32>,
}

impl Launcher {
    /// Spawns `basalt launch` on the node's folders.
    pub fn spawn(basalt: &Path, dirs: &NodeDirs) -> Result<Launcher> {
        let mut command = Command::new(basalt);
        command
            .arg("launch")
            .arg("--root")
            .arg(dirs.root())
            .arg("--state")
            .arg(dirs.state())
            .arg("--ephemeral")
            .arg(dirs.ephemeral())
            .arg("--socket-dir")
            .arg(dirs.sockets())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("could not start `{}`", cmd::describe(&command)))?;
        let pid = Pid::from_raw(i32::try_from(child.id()).context("launcher pid out of range")?);
        let (line_tx, lines) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            forward(out, true, line_tx.clone());
        }
        if let Some(err) = child.stderr.take() {
            forward(err, false, line_tx);
        }
        let (exit_tx, exit) = mpsc::channel();
        std::thread::spawn(move || {
            let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
            let result = loop {
                match waitid(Id::Pid(pid), flags) {
                    Err(Errno::EINTR) => continue,
                    other => break other.map(|_| Instant::now()),
                }
            };
            let _ = exit_tx.send(result);
        });
        Ok(Launcher {
            child,
            pid,
            started,
            lines,
            seen: Vec::new(),
            exit,
            exited_at: None,
            machined: None,
        })
    }

    /// Waits for the first stdout line, `machined pid N`, and returns N (a host pid).
    pub fn machined_pid(&mut self, deadline: Instant) -> Result<i32> {
        let line = self.wait_line("the `machined pid N` line", deadline, |l| l.stdout)?;
        let text = &self.seen[line].text;
        let pid = parse_machined_pid(text).with_context(|| {
            format!(
                "unexpected first launcher output {text:?}; console: {}",
                self.console_tail()
            )
        })?;
        self.machined = Some(pid);
        Ok(pid)
    }

    /// Waits for a console line containing `needle`; returns when it arrived.
    pub fn console_line(&mut self, needle: &str, deadline: Instant) -> Result<Instant> {
        let what = format!("console line `{needle}`");
        let line = self.wait_line(&what, deadline, |l| !l.stdout && l.text.contains(needle))?;
        Ok(self.seen[line].at)
    }

    /// Sends SIGTERM and waits up to `timeout` for an exit 0; returns the time it took.
    /// On timeout both the launcher and machined get SIGKILL and this fails.
    pub fn shutdown(&mut self, timeout: Duration) -> Result<Duration> {
        if self.has_exited() {
            bail!(
                "the launcher had exited before SIGTERM; console: {}",
                self.console_tail()
            );
        }
        kill(self.pid, Signal::SIGTERM).context("cannot send SIGTERM to the launcher")?;
        let sent = Instant::now();
        let exited = match self.exit.recv_timeout(timeout) {
            Ok(Ok(at)) => at,
            Ok(Err(errno)) => bail!("cannot wait for the launcher: {errno}"),
            Err(_) => {
                self.kill_all();
                self.drain();
                bail!(
                    "the launcher did not exit within {} of SIGTERM; sent SIGKILL; console: {}",
                    cmd::secs(timeout),
                    self.console_tail()
                );
            }
        };
        self.exited_at = Some(exited);
        let status = self.child.wait().context("cannot reap the launcher")?;
        if !status.success() {
            self.drain();
            bail!(
                "the launcher exited with {status} after SIGTERM; console: {}",
                self.console_tail()
            );
        }
        Ok(exited.saturating_duration_since(sent))
    }

    /// True once the launcher has exited (it is not reaped by this).
    fn has_exited(&mut self) -> bool {
        if self.exited_at.is_none() {
            if let Ok(Ok(at)) = self.exit.try_recv() {
                self.exited_at = Some(at);
            }
        }
        self.exited_at.is_some()
    }

    /// Index in `seen` of the first line matching `wanted`, waiting for more until `deadline`.
    fn wait_line(
        &mut self,
        what: &str,
        deadline: Instant,
        wanted: impl Fn(&Line) -> bool,
    ) -> Result<usize> {
        if let Some(found) = self.seen.iter().position(&wanted) {
            return Ok(found);
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let hit = wanted(&line);
                    self.seen.push(line);
                    if hit {
                        return Ok(self.seen.len() - 1);
                    }
                }
                Err(RecvTimeoutError::Timeout) => bail!(
                    "no {what} within {} of spawning the launcher; console: {}",
                    cmd::secs(deadline.saturating_duration_since(self.started)),
                    self.console_tail()
                ),
                Err(RecvTimeoutError::Disconnected) => bail!(
                    "the launcher closed its output before the {what}; console: {}",
                    self.console_tail()
                ),
            }
        }
    }

    /// Moves lines that already arrived into `seen` (for error messages).
    fn drain(&mut self) {
        let deadline = Instant::now() + Duration::from_millis(200);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => break,
            }
        }
    }

    /// The last console lines, joined for a one-line error.
    fn console_tail(&self) -> String {
        let text: Vec<&str> = self.seen.iter().map(|l| l.text.as_str()).collect();
        cmd::tail(&text.join("\n"), TAIL_LINES)
    }

    /// SIGKILL to machined (PID 1 of the node, so the whole node) and to the launcher.
    fn kill_all(&mut self) {
        if let (Some(machined), Ok(None)) = (self.machined, self.child.try_wait()) {
            // The launcher still runs, so machined is its child and not yet reaped.
            let _ = kill(Pid::from_raw(machined), Signal::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Launcher {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill_all();
        }
    }
}

/// Sends each line of `stream` with its arrival instant until the stream closes.
fn forward(stream: impl Read + Send + 'static, stdout: bool, sink: Sender<Line>) {
    std::thread::spawn(move || {
        for text in BufReader::new(stream).lines() {
            let Ok(text) = text else { break };
            let line = Line {
                stdout,
                at: Instant::now(),
                text,
            };
            if sink.send(line).is_err() {
                break;
            }
        }
    });
}

/// The host pid in the launcher's first stdout line, `machined pid N`.
pub fn parse_machined_pid(line: &str) -> Result<i32> {
    let Some(number) = line.trim().strip_prefix("machined pid ") else {
        bail!("expected `machined pid N`");
    };
    let pid: i32 = number
        .trim()
        .parse()
        .with_context(|| format!("`{number}` is not a pid"))?;
    if pid <= 0 {
        bail!("`{pid}` is not a pid");
    }
    Ok(pid)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parse_machined_pid_reads_the_host_pid() {
        assert_eq!(parse_machined_pid("machined pid 27517\n").unwrap(), 27517);
        assert_eq!(parse_machined_pid("  machined pid 1").unwrap(), 1);
    }

    #[test]
    fn parse_machined_pid_rejects_other_lines() {
        for bad in [
            "",
            "basalt launch: error",
            "machined pid x",
            "machined pid 0",
        ] {
            assert!(parse_machined_pid(bad).is_err(), "{bad:?}");
        }
        let err = parse_machined_pid("machined pid -3").unwrap_err();
        assert!(format!("{err}").contains("-3"), "{err}");
    }
}
