//! `-o/--output table|yaml|json` for read commands, aligned tables, and stdout writing
//! that tolerates a closed pipe (`basaltctl ... | head`).

use std::io::{self, Write as _};

use anyhow::Context as _;
use clap::ValueEnum;
use serde::Serialize;

/// Output format of a read command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable, aligned columns
    #[default]
    Table,
    /// YAML document
    Yaml,
    /// Pretty-printed JSON
    Json,
}

/// Something a read command prints: a human form, and serde for YAML/JSON.
pub trait Render: Serialize {
    /// The human (table) form, ending with a newline.
    fn human(&self) -> String;
}

/// Renders `value` in `format`.
pub fn render<T: Render>(format: OutputFormat, value: &T) -> anyhow::Result<String> {
    match format {
        OutputFormat::Table => Ok(value.human()),
        OutputFormat::Yaml => serde_yaml::to_string(value).context("cannot encode output as YAML"),
        OutputFormat::Json => serde_json::to_string_pretty(value)
            .map(|json| json + "\n")
            .context("cannot encode output as JSON"),
    }
}

/// Writes `text` to stdout. A closed pipe is not an error (the reader went away).
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => {
            Err(err).context("cannot write to standard output")
        }
        _ => Ok(()),
    }
}

/// Gap between table columns (as `talosctl`'s tabwriter padding).
const GAP: usize = 3;

/// A table with an upper-case header row and left-aligned columns.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers (shown upper-case).
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| h.to_uppercase()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; missing cells are blank, extra cells are dropped.
    pub fn push(&mut self, mut row: Vec<String>) {
        row.resize(self.headers.len(), String::new());
        self.rows.push(row);
    }

    /// The aligned text, one line per row, no trailing spaces.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (cell, width) in row.iter().zip(&widths) {
                line.push_str(cell);
                let pad = width - cell.chars().count() + GAP;
                line.extend(std::iter::repeat_n(' ', pad));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn table_aligns_columns_and_uppercases_headers() {
        let mut table = Table::new(&["current", "name", "endpoints"]);
        table.push(vec!["*".into(), "demo".into(), "10.5.0.2".into()]);
        table.push(vec![
            String::new(),
            "a-much-longer-name".into(),
            String::new(),
        ]);
        assert_eq!(
            table.render(),
            "CURRENT   NAME                 ENDPOINTS\n\
             *         demo                 10.5.0.2\n          a-much-longer-name\n"
        );
    }

    #[derive(Serialize)]
    struct Item {
        name: String,
    }

    impl Render for Item {
        fn human(&self) -> String {
            format!("name is {}\n", self.name)
        }
    }

    #[test]
    fn render_each_format() {
        let item = Item { name: "x".into() };
        assert_eq!(render(OutputFormat::Table, &item).unwrap(), "name is x\n");
        assert_eq!(render(OutputFormat::Yaml, &item).unwrap(), "name: x\n");
        assert_eq!(
            render(OutputFormat::Json, &item).unwrap(),
            "{\n  \"name\": \"x\"\n}\n"
        );
    }
}
