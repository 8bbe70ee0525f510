//! The log file writer: one task per service log, appending lines with size-based rotation.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::sync::mpsc;

/// How many lines the writer takes from its queue at once.
const BATCH: usize = 256;

/// Appends every line from `rx` (and first `initial`) to `path`, renaming it to `<path>.1` when
/// it would grow past `rotate_bytes`. Write errors are passed to `report` (once per failure
/// streak) and the file is reopened with the next batch. Ends when every sender is dropped.
pub(super) async fn run(
    path: PathBuf,
    rotate_bytes: u64,
    initial: Vec<Bytes>,
    mut rx: mpsc::Receiver<Bytes>,
    report: impl Fn(String) + Send + 'static,
) {
    let mut file: Option<LogFile> = None;
    let mut failing = false;
    let mut batch = initial;
    loop {
        if !batch.is_empty() {
            if let Err(e) = write_batch(&mut file, &path, rotate_bytes, &batch).await {
                file = None;
                if !failing {
                    report(format!(
                        "[basalt] cannot write log file {}: {e}; lines are kept in memory only until it works again",
                        path.display()
                    ));
                }
                failing = true;
            } else {
                failing = false;
            }
            batch.clear();
        }
        if rx.recv_many(&mut batch, BATCH).await == 0 {
            break;
        }
    }
    if let Some(mut f) = file {
        let _closing_anyway = f.out.flush().await;
    }
}

async fn write_batch(
    file: &mut Option<LogFile>,
    path: &Path,
    rotate_bytes: u64,
    batch: &[Bytes],
) -> std::io::Result<()> {
    if file.is_none() {
        *file = Some(LogFile::open(path, rotate_bytes).await?);
    }
    if let Some(f) = file {
        for line in batch {
            f.write_line(line).await?;
        }
        f.out.flush().await?;
    }
    Ok(())
}

struct LogFile {
    path: PathBuf,
    out: BufWriter<tokio::fs::File>,
    size: u64,
    rotate_bytes: u64,
}

impl LogFile {
    async fn open(path: &Path, rotate_bytes: u64) -> std::io::Result<LogFile> {
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .await?;
        let size = file.metadata().await?.len();
        Ok(LogFile {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            size,
            rotate_bytes,
        })
    }

    async fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        let len = line.len() as u64 + 1;
        if self.size > 0 && self.size + len > self.rotate_bytes {
            self.rotate().await?;
        }
        self.out.write_all(line).await?;
        self.out.write_all(b"\n").await?;
        self.size += len;
        Ok(())
    }

    async fn rotate(&mut self) -> std::io::Result<()> {
        self.out.flush().await?;
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        tokio::fs::rename(&self.path, &old).await?;
        let fresh = LogFile::open(&self.path, self.rotate_bytes).await?;
        *self = fresh;
        Ok(())
    }
}
