//! apid's console lines: stderr, prefixed `[apid]` (machined keeps them as `logs apid`).
//! Other servers built on apid's parts (trustd) set their own prefix once at start;
//! tests may install a sink that also receives every line.

use std::fmt::Display;
use std::sync::OnceLock;

/// A receiver of console lines (besides stderr).
pub type Sink = Box<dyn Fn(&str) + Send + Sync>;

static PREFIX: OnceLock<&'static str> = OnceLock::new();
static SINK: OnceLock<Sink> = OnceLock::new();

/// Sets the prefix of every line (default `apid`); only the first call counts.
/// Returns whether this call set it.
pub fn set_prefix(prefix: &'static str) -> bool {
    PREFIX.set(prefix).is_ok()
}

/// Also hands every line (with its prefix) to `sink`; only the first call counts.
/// Returns whether this call installed it.
pub fn set_sink(sink: Sink) -> bool {
    SINK.set(sink).is_ok()
}

/// Writes one line to stderr as `[apid] <line>` (or the prefix set with [`set_prefix`]).
pub fn log(line: impl Display) {
    let prefix = PREFIX.get().copied().unwrap_or("apid");
    let line = format!("[{prefix}] {line}");
    if let Some(sink) = SINK.get() {
        sink(&line);
    }
    eprintln!("{line}");
}
