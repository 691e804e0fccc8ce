//! `tidings`: inspect and operate a tidings bus from the shell.
//!
//! ```text
//! tidings --url URL dlq list [--subscriber S] [--event E] [--since 1h] [--json]
//! tidings --url URL dlq show ID
//! tidings --url URL dlq replay (ID | --all | FILTERS) [--dry-run]
//! tidings --url URL dlq discard (ID | --all | FILTERS) [--dry-run]
//! tidings --url URL tail EVENT [--count N] [--json]
//! tidings --url URL stats [--json]
//! tidings --url http://ADDR topology [--json | --asyncapi]
//! ```
//!
//! An admin endpoint with a token wants it: `--token TOKEN` or `TIDINGS_TOKEN`.
//!
//! The commands that read (`dlq list`, `dlq show`, `stats`, `topology`, `tail`) create nothing:
//! on a `file://` path or broker namespace that does not exist they fail, naming it.
//!
//! `URL` is a bus URL the CLI opens itself (`file://PATH` of a stopped application,
//! `nats://…`, `amqp://…`), or `http://HOST:PORT`, the admin endpoint of a running bus
//! (`tidings::admin::serve`), which reaches every transport, `memory://` included.

mod backend;
mod dlq;
mod filter;
mod http;
mod stats;
mod tail;
mod topology;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::backend::Backend;

#[derive(Debug, Parser)]
#[command(
    name = "tidings",
    version,
    about = "Inspect and operate a tidings event bus"
)]
struct Cli {
    /// The bus: `http://HOST:PORT` (a running bus's admin endpoint, any transport),
    /// `file://PATH` (a stopped application's store), `nats://…` or `amqp://…`.
    #[arg(long, env = "TIDINGS_URL", global = true)]
    url: Option<String>,
    /// The admin endpoint's token (its TIDINGS_ADMIN_TOKEN, or the read-only one), sent as
    /// `Authorization: Bearer`; never printed.
    #[arg(long, env = "TIDINGS_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Dead letters: list, show, replay, discard.
    #[command(subcommand)]
    Dlq(dlq::DlqCommand),
    /// Prints events of one name live as they are published, until Ctrl-C.
    Tail(tail::TailArgs),
    /// Per group and subscriber: queued, in flight, handled, retried, dead-lettered.
    Stats(stats::StatsArgs),
    /// The events, subscribers, groups and options of a running application (admin endpoint).
    Topology(topology::TopologyArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// An error for the user: what went wrong and what to do.
type Failure = Box<dyn std::error::Error + Send + Sync>;

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let url = cli.url.ok_or(
        "say which bus: `--url URL` or the TIDINGS_URL variable, e.g. `--url \
         http://127.0.0.1:9001` (a running bus's admin endpoint) or `--url file://./data`",
    )?;
    let backend = Backend::connect(&url, cli.token).await?;
    let outcome = match cli.command {
        Command::Dlq(command) => dlq::run(&backend, command).await,
        Command::Tail(args) => tail::run(&backend, args).await,
        Command::Stats(args) => stats::run(&backend, args).await,
        Command::Topology(args) => topology::run(&backend, args).await,
    };
    backend.close().await;
    outcome
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
