//! `config contexts`: list contexts as a table (or YAML/JSON).

use clap::Args;
use serde::Serialize;

use crate::global::GlobalArgs;
use crate::output::{self, OutputFormat, Render, Table};

/// Arguments of `config contexts`.
#[derive(Debug, Args)]
pub struct ContextsArgs {
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// One listed context (credentials are never printed).
#[derive(Debug, Serialize)]
struct ContextRow {
    name: String,
    current: bool,
    endpoints: Vec<String>,
    nodes: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(transparent)]
struct ContextList(Vec<ContextRow>);

impl Render for ContextList {
    fn human(&self) -> String {
        let mut table = Table::new(&["current", "name", "endpoints", "nodes"]);
        for row in &self.0 {
            let current = if row.current { "*" } else { "" };
            table.push(vec![
                current.to_string(),
                row.name.clone(),
                row.endpoints.join(","),
                row.nodes.join(","),
            ]);
        }
        table.render()
    }
}

/// Prints every context, sorted by name, marking the current one.
pub fn run(global: &GlobalArgs, args: &ContextsArgs) -> anyhow::Result<()> {
    let file = global.load_config()?;
    let config = file.config();
    let rows = config
        .contexts()
        .iter()
        .map(|(name, context)| ContextRow {
            name: name.clone(),
            current: config.current_name() == Some(name.as_str()),
            endpoints: context.endpoints.clone(),
            nodes: context.nodes.clone(),
        })
        .collect();
    output::print(&output::render(args.output, &ContextList(rows))?)
}
