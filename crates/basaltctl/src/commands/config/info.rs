//! `config info`: the selected context, its endpoints and nodes, and the client
//! certificate's roles and expiry.

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;
use time::OffsetDateTime;

use super::cert;
use crate::global::GlobalArgs;
use crate::output::{self, OutputFormat, Render};

/// Arguments of `config info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// What `config info` shows (same keys as `talosctl config info -o json`).
#[derive(Debug, Serialize)]
struct Info {
    context: String,
    nodes: Vec<String>,
    endpoints: Vec<String>,
    roles: Vec<String>,
    #[serde(rename = "certTTL")]
    cert_ttl: String,
    #[serde(rename = "certNotAfter")]
    cert_not_after: String,
}

impl Render for Info {
    fn human(&self) -> String {
        let list = |items: &[String]| {
            if items.is_empty() {
                "not defined".to_string()
            } else {
                items.join(", ")
            }
        };
        let mut out = format!(
            "Current context:     {}\nNodes:               {}\nEndpoints:           {}\n",
            self.context,
            list(&self.nodes),
            list(&self.endpoints)
        );
        if !self.roles.is_empty() {
            out.push_str(&format!("Roles:               {}\n", self.roles.join(", ")));
        }
        if !self.cert_not_after.is_empty() {
            out.push_str(&format!(
                "Certificate expires: {} ({})\n",
                self.cert_ttl, self.cert_not_after
            ));
        }
        out
    }
}

/// Prints information about the selected context.
pub fn run(global: &GlobalArgs, args: &InfoArgs) -> anyhow::Result<()> {
    let file = global.load_config()?;
    let (name, context) = file.selected(global.context.as_deref())?;
    let pick = |flag: &[String], configured: &[String]| {
        if flag.is_empty() { configured } else { flag }.to_vec()
    };
    let mut info = Info {
        context: name.clone(),
        nodes: pick(&global.nodes, &context.nodes),
        endpoints: pick(&global.endpoints, &context.endpoints),
        roles: Vec::new(),
        cert_ttl: String::new(),
        cert_not_after: String::new(),
    };
    if let Some(crt) = &context.crt {
        let summary = cert::summarize(crt.as_bytes()).with_context(|| {
            format!(
                "cannot read field `contexts.{name}.crt` of {}",
                file.path().display()
            )
        })?;
        info.roles = summary.roles;
        info.cert_ttl = cert::relative(summary.not_after, OffsetDateTime::now_utc());
        info.cert_not_after = cert::date(summary.not_after);
    }
    output::print(&output::render(args.output, &info)?)
}
