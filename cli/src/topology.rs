//! `tidings topology`: the events, subscribers and groups a running application links in.

use std::process::ExitCode;

use clap::Args;

use crate::Failure;
use crate::backend::Backend;

#[derive(Debug, Args)]
pub(crate) struct TopologyArgs {
    /// The topology as JSON instead of tables.
    #[arg(long, conflicts_with = "asyncapi")]
    json: bool,
    /// The application's AsyncAPI 3.0 document.
    #[arg(long)]
    asyncapi: bool,
}

pub(crate) async fn run(backend: &Backend, args: TopologyArgs) -> Result<ExitCode, Failure> {
    let Backend::Admin(client) = backend else {
        return Err(format!(
            "the topology is what an application links in, which `{}` cannot tell: ask the \
             application's admin endpoint (`--url http://ADDR`), or run it with its own flag \
             (the demo's `--topology`)",
            backend.url()
        )
        .into());
    };
    if args.json || args.asyncapi {
        let path = if args.asyncapi {
            "/v1/asyncapi"
        } else {
            "/v1/topology"
        };
        let document: serde_json::Value = client.get_json(path).await?;
        println!("{}", serde_json::to_string_pretty(&document)?);
    } else {
        print!("{}", client.get_text("/v1/topology/table").await?);
    }
    Ok(ExitCode::SUCCESS)
}
