//! apid's console lines: stderr, prefixed `[apid]` (machined keeps them as `logs apid`).

use std::fmt::Display;

/// Writes one line to stderr as `[apid] <line>`.
pub fn log(line: impl Display) {
    eprintln!("[apid] {line}");
}
