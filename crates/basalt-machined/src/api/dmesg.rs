//! `Dmesg`: the kernel log, read from `/dev/kmsg` (one record per read, non-blocking).
//!
//! Decision: machined reads the kernel's own ring buffer and nothing else. When the device
//! cannot be opened (a container without access to the host's kernel log), the call fails
//! at once with UNAVAILABLE naming the device and the reason, rather than serving machined's
//! console lines under the kernel's name. `tail` skips the existing buffer; `follow` keeps
//! streaming new records.
//!
//! Each record becomes one line `facility: level: [seconds.micros]: message`.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use std::os::fd::AsFd;

use basalt_api::common::{Data, Metadata};
use basalt_api::machine::DmesgRequest;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use super::cosi_state::BoxStream;
use super::handle::ApiHandle;

/// Largest kmsg record (the kernel's limit is 8 KiB including the header).
const RECORD_BUF: usize = 16 * 1024;

/// Records buffered before the reader waits for the client.
const CHANNEL: usize = 256;

/// How long one wait for new records lasts before the reader checks for a gone client.
const POLL_MS: u16 = 250;

/// The kernel log stream a request asks for.
pub fn dmesg(
    handle: &ApiHandle,
    req: &DmesgRequest,
    shutdown: CancellationToken,
) -> Result<BoxStream<Data>, Status> {
    let file = open(&handle.kmsg_path, req.tail)?;
    let (tx, rx) = mpsc::channel(CHANNEL);
    let reader = Reader {
        file,
        follow: req.follow,
        metadata: handle.metadata(),
        path: handle.kmsg_path.display().to_string(),
        tx,
        shutdown,
    };
    tokio::task::spawn_blocking(move || reader.run());
    Ok(Box::pin(ReceiverStream::new(rx)))
}

fn unavailable(path: &Path, action: &str, e: &io::Error) -> Status {
    Status::unavailable(format!(
        "the kernel log is not available: cannot {action} {}: {e}; in container mode the kernel \
         log belongs to the host (read it there with dmesg), on metal check that devtmpfs is \
         mounted",
        path.display()
    ))
}

fn open(path: &Path, skip_existing: bool) -> Result<File, Status> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(|e| unavailable(path, "open", &e))?;
    if skip_existing {
        file.seek(SeekFrom::End(0))
            .map_err(|e| unavailable(path, "seek to the end of", &e))?;
    }
    Ok(file)
}

/// Reads records on a blocking thread and sends them to the response stream.
struct Reader {
    file: File,
    follow: bool,
    metadata: Option<Metadata>,
    path: String,
    tx: mpsc::Sender<Result<Data, Status>>,
    shutdown: CancellationToken,
}

impl Reader {
    fn run(mut self) {
        let mut buf = vec![0u8; RECORD_BUF];
        while !self.tx.is_closed() && !self.shutdown.is_cancelled() {
            match self.file.read(&mut buf) {
                Ok(n) if n > 0 => {
                    let mut bytes = format_record(&buf[..n]).into_bytes();
                    bytes.push(b'\n');
                    let data = Data {
                        metadata: self.metadata.clone(),
                        bytes,
                    };
                    if self.tx.blocking_send(Ok(data)).is_err() {
                        return;
                    }
                }
                // The record was overwritten while we read: continue with the next one.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::BrokenPipe | io::ErrorKind::Interrupted
                    ) => {}
                Ok(_) => {
                    if !self.wait() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if !self.wait() {
                        return;
                    }
                }
                Err(e) => {
                    let status = Status::unavailable(format!(
                        "reading the kernel log {} failed: {e}; call Dmesg again",
                        self.path
                    ));
                    let _ = self.tx.blocking_send(Err(status));
                    return;
                }
            }
        }
    }

    /// At the end of the buffer: false when not following, else waits (a bounded time, so a
    /// gone client or a shutdown is noticed) for more records.
    fn wait(&self) -> bool {
        if !self.follow {
            return false;
        }
        let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
        // An error or a timeout just means: check again.
        let _ = poll(&mut fds, PollTimeout::from(POLL_MS));
        true
    }
}

const FACILITIES: [&str; 12] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp",
];
const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// `prio,seq,usec,flags;message\n[ KEY=value\n]...` → `facility: level: [s.us]: message`.
pub fn format_record(record: &[u8]) -> String {
    let text = String::from_utf8_lossy(record);
    let Some((header, rest)) = text.split_once(';') else {
        return text.trim_end().to_string();
    };
    let message = rest.lines().next().unwrap_or_default();
    let mut fields = header.split(',');
    let prio: usize = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let usec: u64 = fields.nth(1).and_then(|t| t.parse().ok()).unwrap_or(0);
    let facility = FACILITIES.get(prio >> 3).copied().unwrap_or("local");
    let level = LEVELS[prio & 7];
    format!(
        "{facility}: {level:>7}: [{}.{:06}]: {message}",
        usec / 1_000_000,
        usec % 1_000_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_formatted() {
        let line = format_record(b"6,1234,5678901,-;eth0: link up\n SUBSYSTEM=net\n");
        assert_eq!(line, "kern:    info: [5.678901]: eth0: link up");
        let user = format_record(b"12,1,2,-;hello\n");
        assert_eq!(user, "user: warning: [0.000002]: hello");
    }
}
