//! `--topology` and `--asyncapi`: the bus this run would start, described instead of started.
//! Nothing connects (`BusBuilder::topology`), so describing a service never joins its group.
//!
//! ```text
//! cargo run --example order_demo -- --topology
//! cargo run --example order_demo -- --asyncapi > order-demo.asyncapi.json
//! cargo run --example order_demo --features nats -- --url nats://127.0.0.1:4222 --role stock --topology
//! ```

use tidings::{Bus, BusBuilder};

use crate::Args;
use crate::roles::Role;

/// What to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Description {
    /// Events, subscribers and groups as tables.
    Topology,
    /// The AsyncAPI 3.0 document, as JSON.
    AsyncApi,
}

pub(crate) fn print(args: &Args, description: Description) -> Result<bool, tidings::Error> {
    let topology = builder(args).topology()?;
    match description {
        Description::Topology => println!("{topology}"),
        Description::AsyncApi => {
            let mut document = topology.to_asyncapi();
            document["info"]["title"] = "tidings order demo".into();
            document["info"]["version"] = env!("CARGO_PKG_VERSION").into();
            println!("{document:#}");
        }
    }
    Ok(true)
}

/// The builder of the run `args` asks for: every service, or the one `--role` names.
fn builder(args: &Args) -> BusBuilder {
    let bus = Bus::builder().url(&args.url);
    match args.role {
        Role::All => bus.source("order-demo"),
        Role::Orders => bus.source("order-service").manual(),
        service => bus
            .source(format!("{}-service", service.group()))
            .groups([service.group()]),
    }
}
