//! `basaltctl get TYPE [ID] [-w] [--namespace NS] [-o table|yaml|json]`: resources
//! through the COSI `State` service, the type resolved through resource definitions.

mod definitions;
mod jsonpath;
mod render;

use anyhow::bail;
use basalt_api::cosi::resource::{
    EventType, GetRequest, ListRequest, Resource, WatchOptions, WatchRequest,
};
use clap::Args;

use crate::client::replies::{self, error_line};
use crate::client::{self, status_error, Client};
use crate::commands::stream::{emit, Flow, RowPrinter};
use crate::global::GlobalArgs;
use crate::output::{self, OutputFormat, Table};
use definitions::Definition;

/// Arguments of `get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The resource type: its full name, plural or alias (e.g. services, svc, members)
    #[arg(value_name = "TYPE")]
    pub type_: String,

    /// Only this resource
    pub id: Option<String>,

    /// Keep printing changes (created, updated, destroyed) until interrupted
    #[arg(short, long)]
    pub watch: bool,

    /// The namespace [default: the type's default namespace]
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// The machine config type: `get machineconfig` prints its YAML in table mode.
const MACHINE_CONFIG_TYPE: &str = "MachineConfigs.config.basalt.dev";

/// Runs `get`. COSI calls are one-to-one, so each `-n` node is asked in turn (metadata
/// `node`); a node that fails is reported as `NODE: error: ...` after the others.
pub fn run(global: &GlobalArgs, args: &GetArgs) -> anyhow::Result<()> {
    client::block_on(async {
        let client = Client::connect(global).await?;
        let targets: Vec<Client> = match client.nodes() {
            [] => vec![client.clone()],
            nodes => nodes
                .iter()
                .map(|node| client.for_node(node))
                .collect::<anyhow::Result<_>>()?,
        };
        if args.watch && targets.len() > 1 {
            bail!("get -w watches one node; pass a single -n NODE");
        }
        let mut first = targets[0].clone();
        let definitions = definitions::fetch(&mut first).await?;
        let definition = definitions::resolve(&definitions, &args.type_)?.clone();
        let namespace = args
            .namespace
            .clone()
            .unwrap_or_else(|| definition.spec.default_namespace.clone());
        let target = Target {
            definition,
            namespace,
            id: args.id.clone(),
        };
        if args.watch {
            let node = first.node_name(None).await;
            return watch(&mut first, &target, &node, args.output).await;
        }
        let several = targets.len() > 1;
        let mut found = Vec::new();
        let mut failed = Vec::new();
        for mut client in targets {
            let node = client.node_name(None).await;
            match fetch(&mut client, &target).await {
                Ok(resources) => found.push((node, resources)),
                Err(err) if several => failed.push(error_line(&node, &format!("{err:#}"))),
                Err(err) => return Err(err),
            }
        }
        if !found.is_empty() {
            output::print(&show(&target.definition, &found, args.output)?)?;
        }
        replies::finish(&failed)
    })
}

/// What `get` looks at.
#[derive(Debug, Clone)]
struct Target {
    definition: Definition,
    namespace: String,
    id: Option<String>,
}

impl Target {
    fn type_name(&self) -> &str {
        self.definition.type_name()
    }

    fn describe(&self) -> String {
        match &self.id {
            Some(id) => format!(
                "{} {id:?} in namespace {:?}",
                self.type_name(),
                self.namespace
            ),
            None => format!("{} in namespace {:?}", self.type_name(), self.namespace),
        }
    }
}

/// The resource named by id, or every resource of the type.
async fn fetch(client: &mut Client, target: &Target) -> anyhow::Result<Vec<Resource>> {
    let what = format!("cannot get {}", target.describe());
    if let Some(id) = &target.id {
        let request = GetRequest {
            namespace: target.namespace.clone(),
            r#type: target.type_name().to_string(),
            id: id.clone(),
            options: None,
        };
        let reply = client.state.get(request).await;
        let reply = reply.map_err(|s| status_error(&what, &s))?.into_inner();
        return Ok(reply.resource.into_iter().collect());
    }
    let request = ListRequest {
        namespace: target.namespace.clone(),
        r#type: target.type_name().to_string(),
        options: None,
    };
    let mut stream = client
        .state
        .list(request)
        .await
        .map_err(|s| status_error(&what, &s))?
        .into_inner();
    let mut resources = Vec::new();
    while let Some(item) = stream
        .message()
        .await
        .map_err(|s| status_error(&what, &s))?
    {
        resources.extend(item.resource);
    }
    Ok(resources)
}

/// The whole output of a non-watching `get`: resources by node.
fn show(
    definition: &Definition,
    nodes: &[(String, Vec<Resource>)],
    format: OutputFormat,
) -> anyhow::Result<String> {
    let all = nodes
        .iter()
        .flat_map(|(node, resources)| resources.iter().map(move |r| (node, r)));
    if format == OutputFormat::Table && definition.type_name() == MACHINE_CONFIG_TYPE {
        return Ok(machine_config_text(nodes.len() > 1, all));
    }
    if format == OutputFormat::Table {
        let mut headers = vec!["node".to_string()];
        headers.extend(render::headers(definition));
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut table = Table::new(&headers);
        for (node, resource) in all {
            let mut row = vec![node.clone()];
            row.extend(render::row(definition, resource));
            table.push(row);
        }
        return Ok(table.render());
    }
    let mut text = String::new();
    for (i, (node, resource)) in all.enumerate() {
        let doc = render::document(node, resource, None);
        text.push_str(&render::document_text(format, &doc, i == 0)?);
    }
    Ok(text)
}

/// The machine config documents as YAML; with several nodes each starts with
/// `# node: NODE` and documents are separated by `---`.
fn machine_config_text<'a>(
    several: bool,
    configs: impl Iterator<Item = (&'a String, &'a Resource)>,
) -> String {
    let mut text = String::new();
    for (i, (node, resource)) in configs.enumerate() {
        if i > 0 {
            text.push_str("---\n");
        }
        if several {
            text.push_str(&format!("# node: {node}\n"));
        }
        let yaml = resource
            .spec
            .as_ref()
            .map(|s| s.yaml_spec.as_str())
            .unwrap_or("");
        text.push_str(yaml);
        if !yaml.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

/// Typical width of the ID column of `get -w`, so rows line up with the header.
const WATCH_ID_WIDTH: usize = 16;

/// Streams changes until the server ends the stream or stdout closes.
async fn watch(
    client: &mut Client,
    target: &Target,
    node: &str,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let what = format!("cannot watch {}", target.describe());
    let request = WatchRequest {
        namespace: target.namespace.clone(),
        r#type: target.type_name().to_string(),
        id: target.id.clone(),
        options: Some(WatchOptions {
            bootstrap_contents: target.id.is_none(),
            ..Default::default()
        }),
        api_version: 1,
    };
    let mut stream = client
        .state
        .watch(request)
        .await
        .map_err(|s| status_error(&what, &s))?
        .into_inner();
    let mut headers = vec!["node".to_string(), "event".to_string()];
    headers.extend(render::headers(&target.definition));
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mins = [
        node.len(),
        "destroyed".len(),
        target.namespace.len(),
        target.definition.display().len(),
        WATCH_ID_WIDTH,
    ];
    let (mut printer, header) = RowPrinter::new(&headers, &mins);
    if format == OutputFormat::Table && emit(header.as_bytes())? == Flow::Stop {
        return Ok(());
    }
    let mut first = true;
    while let Some(reply) = stream
        .message()
        .await
        .map_err(|s| status_error(&what, &s))?
    {
        for event in reply.event {
            let kind = match EventType::try_from(event.event_type) {
                Ok(EventType::Created) => "created",
                Ok(EventType::Updated) => "updated",
                Ok(EventType::Destroyed) => "destroyed",
                Ok(EventType::Errored) => {
                    let reason = event.error.unwrap_or_default();
                    bail!("{what}: the server ended the watch: {reason}");
                }
                Ok(EventType::Bootstrapped | EventType::Noop) | Err(_) => continue,
            };
            let Some(resource) = event.resource else {
                continue;
            };
            let text = if format == OutputFormat::Table {
                let mut cells = vec![node.to_string(), kind.to_string()];
                cells.extend(render::row(&target.definition, &resource));
                printer.line(&cells)
            } else {
                let doc = render::document(node, &resource, Some(kind));
                render::document_text(format, &doc, first)?
            };
            first = false;
            if emit(text.as_bytes())? == Flow::Stop {
                return Ok(());
            }
        }
    }
    Ok(())
}
