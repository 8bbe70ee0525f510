//! [`ServiceLog`]: one service's ring buffer, followers and file queue.

use std::collections::VecDeque;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use bytes::Bytes;
use futures::Stream;
use tokio::sync::{broadcast, mpsc};

use super::{file, LogError, LogLimits};

/// A stream of log lines (each without its trailing `\n`).
pub type LogStream = Pin<Box<dyn Stream<Item = Bytes> + Send>>;

/// One service's log. Cheap to clone; clones share the same buffer.
#[derive(Clone, Debug)]
pub struct ServiceLog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    name: String,
    limits: LogLimits,
    tx: broadcast::Sender<Bytes>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    lines: VecDeque<Bytes>,
    bytes: usize,
    file: Option<mpsc::Sender<Bytes>>,
    file_dropped: u64,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a line to the ring and the followers (not the file).
    fn remember(&self, state: &mut State, line: Bytes) {
        while !state.lines.is_empty()
            && (state.lines.len() >= self.limits.max_lines
                || state.bytes + line.len() > self.limits.max_bytes)
        {
            if let Some(old) = state.lines.pop_front() {
                state.bytes -= old.len();
            }
        }
        state.bytes += line.len();
        state.lines.push_back(line.clone());
        let _no_followers_is_fine = self.tx.send(line);
    }
}

impl ServiceLog {
    pub(super) fn new(name: &str, limits: LogLimits) -> Self {
        let (tx, _) = broadcast::channel(limits.follow_buffer.max(1));
        ServiceLog {
            inner: Arc::new(Inner {
                name: name.to_string(),
                limits,
                tx,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// The service id this log belongs to.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Appends one line (without `\n`; cut to the configured maximum line length). Never blocks.
    pub fn push(&self, line: &[u8]) {
        let line = Bytes::copy_from_slice(&line[..line.len().min(self.inner.limits.max_line)]);
        let mut state = self.inner.lock();
        self.inner.remember(&mut state, line.clone());
        let Some(queue) = state.file.clone() else {
            return;
        };
        if state.file_dropped > 0 {
            let marker = format!(
                "... {} lines dropped (log disk too slow) ...",
                state.file_dropped
            );
            if queue.try_send(Bytes::from(marker)).is_err() {
                state.file_dropped += 1;
                return;
            }
            state.file_dropped = 0;
        }
        if queue.try_send(line).is_err() {
            state.file_dropped += 1;
        }
    }

    /// The last `n` lines kept in memory (all of them with `None`), oldest first.
    pub fn tail(&self, n: Option<usize>) -> Vec<Bytes> {
        tail_of(&self.inner.lock(), n)
    }

    /// Follows new lines from now on.
    pub fn follow(&self) -> LogFollower {
        LogFollower {
            rx: self.inner.tx.subscribe(),
        }
    }

    /// The last `n` lines and a follower starting right after them (no line lost or repeated).
    pub fn tail_and_follow(&self, n: Option<usize>) -> (Vec<Bytes>, LogFollower) {
        let state = self.inner.lock();
        let follower = self.follow();
        (tail_of(&state, n), follower)
    }

    /// The last `tail` lines, then (with `follow`) every new line, as one stream.
    pub fn stream(&self, tail: Option<usize>, follow: bool) -> LogStream {
        let (lines, follower) = self.tail_and_follow(tail);
        let head = futures::stream::iter(lines);
        if follow {
            Box::pin(futures::StreamExt::chain(head, follower.into_stream()))
        } else {
            Box::pin(head)
        }
    }

    /// Stops appending to the log file (its writer flushes, closes the file and ends); lines
    /// stay in memory.
    pub(super) fn detach_dir(&self) {
        self.inner.lock().file = None;
    }

    /// Starts appending to `<dir>/<name>.log` (the kept lines first).
    pub(super) fn attach_dir(&self, dir: &Path) -> Result<(), LogError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| LogError::NoRuntime {
            service: self.inner.name.clone(),
        })?;
        let path = dir.join(format!("{}.log", self.inner.name));
        let (queue, rx) = mpsc::channel(self.inner.limits.file_queue.max(1));
        let mut state = self.inner.lock();
        let initial: Vec<Bytes> = state.lines.iter().cloned().collect();
        state.file = Some(queue);
        state.file_dropped = 0;
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let report = move |message: String| {
            if let Some(inner) = weak.upgrade() {
                let mut state = inner.lock();
                inner.remember(&mut state, Bytes::from(message));
            }
        };
        runtime.spawn(file::run(
            path,
            self.inner.limits.rotate_bytes,
            initial,
            rx,
            report,
        ));
        Ok(())
    }
}

fn tail_of(state: &State, n: Option<usize>) -> Vec<Bytes> {
    let skip = n.map_or(0, |n| state.lines.len().saturating_sub(n));
    state.lines.iter().skip(skip).cloned().collect()
}

/// Receives the new lines of a [`ServiceLog`].
#[derive(Debug)]
pub struct LogFollower {
    rx: broadcast::Receiver<Bytes>,
}

impl LogFollower {
    /// The next line; a follower that fell behind gets `... N lines dropped ...` instead of the
    /// lines it missed. `None` once the log is gone.
    pub async fn next(&mut self) -> Option<Bytes> {
        match self.rx.recv().await {
            Ok(line) => Some(line),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                Some(Bytes::from(format!("... {n} lines dropped ...")))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// The follower as a stream of lines.
    pub fn into_stream(self) -> impl Stream<Item = Bytes> + Send + 'static {
        futures::stream::unfold(self, |mut f| async move { f.next().await.map(|l| (l, f)) })
    }
}
