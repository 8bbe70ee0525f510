//! Splitting a byte stream into bounded lines.

/// Splits a byte stream into lines (without the `\n`), cutting lines longer than `max_line`.
#[derive(Debug)]
pub struct LineSplitter {
    buf: Vec<u8>,
    max_line: usize,
    // The last line was cut at `max_line`; a `\n` right after it ends that line, not a new one.
    just_cut: bool,
}

impl LineSplitter {
    /// A splitter emitting lines of at most `max_line` bytes (at least 1).
    pub fn new(max_line: usize) -> Self {
        LineSplitter {
            buf: Vec::new(),
            max_line: max_line.max(1),
            just_cut: false,
        }
    }

    /// Feeds a chunk, calling `emit` for every completed line.
    pub fn feed(&mut self, mut chunk: &[u8], mut emit: impl FnMut(&[u8])) {
        while !chunk.is_empty() {
            if self.just_cut {
                self.just_cut = false;
                if chunk[0] == b'\n' {
                    chunk = &chunk[1..];
                    continue;
                }
            }
            let room = self.max_line - self.buf.len();
            let window = &chunk[..chunk.len().min(room)];
            if let Some(pos) = window.iter().position(|b| *b == b'\n') {
                self.buf.extend_from_slice(&window[..pos]);
                emit(trim_cr(&self.buf));
                self.buf.clear();
                chunk = &chunk[pos + 1..];
            } else {
                self.buf.extend_from_slice(window);
                chunk = &chunk[window.len()..];
                if self.buf.len() == self.max_line {
                    emit(&self.buf);
                    self.buf.clear();
                    self.just_cut = true;
                }
            }
        }
    }

    /// Emits what is left (a last line without `\n`).
    pub fn finish(&mut self, mut emit: impl FnMut(&[u8])) {
        if !self.buf.is_empty() {
            emit(trim_cr(&self.buf));
            self.buf.clear();
        }
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(max: usize, chunks: &[&[u8]]) -> Vec<String> {
        let mut out = Vec::new();
        let mut s = LineSplitter::new(max);
        for c in chunks {
            s.feed(c, |l| out.push(String::from_utf8_lossy(l).into_owned()));
        }
        s.finish(|l| out.push(String::from_utf8_lossy(l).into_owned()));
        out
    }

    #[test]
    fn joins_chunks_and_splits_lines() {
        assert_eq!(
            split(100, &[b"ab", b"c\nde\r\n", b"f"]),
            vec!["abc", "de", "f"]
        );
    }

    #[test]
    fn cuts_long_lines() {
        assert_eq!(split(3, &[b"abcdefg\nxy\n"]), vec!["abc", "def", "g", "xy"]);
        assert_eq!(split(3, &[b"abc", b"\nxy\n"]), vec!["abc", "xy"]);
    }

    #[test]
    fn empty_lines_are_kept() {
        assert_eq!(split(10, &[b"\n\na\n"]), vec!["", "", "a"]);
    }
}
