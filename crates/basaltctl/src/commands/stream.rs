//! Output of streaming commands (`logs -f`, `events`, `get -w`): every piece is
//! written and flushed as it arrives, and table rows are aligned with column widths
//! that only grow (earlier rows are already printed).

use std::io::{self, Write as _};

use anyhow::Context as _;

/// Whether to keep streaming after a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// The reader is still there.
    Continue,
    /// Standard output was closed (`basaltctl logs -f x | head`): stop quietly.
    Stop,
}

/// Writes `bytes` to stdout and flushes them.
pub fn emit(bytes: &[u8]) -> anyhow::Result<Flow> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(Flow::Continue),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(Flow::Stop),
        Err(err) => Err(err).context("cannot write to standard output"),
    }
}

/// Gap between columns, as in [`crate::output::Table`].
const GAP: usize = 3;

/// A table printed one row at a time.
#[derive(Debug, Clone)]
pub struct RowPrinter {
    widths: Vec<usize>,
}

impl RowPrinter {
    /// A printer for these headers (shown upper-case), its columns at least as wide as
    /// `min_widths` (so typical rows line up with the header printed before them);
    /// returns it with the header line.
    pub fn new(headers: &[&str], min_widths: &[usize]) -> (Self, String) {
        let mut widths = vec![0; headers.len()];
        for (width, min) in widths.iter_mut().zip(min_widths) {
            *width = *min;
        }
        let mut printer = Self { widths };
        let upper: Vec<String> = headers.iter().map(|h| h.to_uppercase()).collect();
        let line = printer.line(&upper);
        (printer, line)
    }

    /// One aligned line (ending with a newline) for `cells`; missing cells are blank.
    pub fn line(&mut self, cells: &[String]) -> String {
        let mut line = String::new();
        for (i, width) in self.widths.iter_mut().enumerate() {
            let cell = cells.get(i).map(String::as_str).unwrap_or("");
            let len = cell.chars().count();
            *width = (*width).max(len);
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', *width - len + GAP));
        }
        let mut line = line.trim_end().to_string();
        line.push('\n');
        line
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rows_align_with_header_and_widths_only_grow() {
        let (mut printer, header) = RowPrinter::new(&["event", "id"], &[]);
        assert_eq!(header, "EVENT   ID\n");
        assert_eq!(
            printer.line(&["created".into(), "a".into()]),
            "created   a\n"
        );
        assert_eq!(
            printer.line(&["updated".into(), "b".into()]),
            "updated   b\n"
        );
        assert_eq!(printer.line(&["x".into()]), "x\n");
    }

    #[test]
    fn min_widths_pad_the_header() {
        let (mut printer, header) = RowPrinter::new(&["id", "event"], &[6]);
        assert_eq!(header, "ID       EVENT\n");
        assert_eq!(printer.line(&["000001".into(), "x".into()]), "000001   x\n");
    }
}
