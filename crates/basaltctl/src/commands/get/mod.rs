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

/// Runs `get`.
pub fn run(global: &GlobalArgs, args: &GetArgs) -> anyhow::Result<()> {
    client::block_on(async {
        let mut client = Client::connect(global).await?;
        let definitions = definitions::fetch(&mut client).await?;
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
        let node = match args.output {
            OutputFormat::Table => String::new(),
            _ => client.node_name(None).await,
        };
        if args.watch {
            watch(&mut client, &target, &node, args.output).await
        } else {
            let resources = fetch(&mut client, &target).await?;
            output::print(&show(&target.definition, &node, &resources, args.output)?)
        }
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

/// The whole output of a non-watching `get`.
fn show(
    definition: &Definition,
    node: &str,
    resources: &[Resource],
    format: OutputFormat,
) -> anyhow::Result<String> {
    if format == OutputFormat::Table {
        let headers = render::headers(definition);
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut table = Table::new(&headers);
        for resource in resources {
            table.push(render::row(definition, resource));
        }
        return Ok(table.render());
    }
    let mut text = String::new();
    for (i, resource) in resources.iter().enumerate() {
        let doc = render::document(node, resource, None);
        text.push_str(&render::document_text(format, &doc, i == 0)?);
    }
    Ok(text)
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
    let mut headers = vec!["event".to_string()];
    headers.extend(render::headers(&target.definition));
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mins = [
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
                let mut cells = vec![kind.to_string()];
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
