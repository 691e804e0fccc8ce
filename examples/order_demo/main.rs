//! The order system from the message-queue textbooks, on tidings.
//!
//! The order service publishes `OrderPlaced` and is done. Stock, payment, logistics and SMS
//! notifications each subscribe on their own; none of them is named by the producer.
//!
//! ```text
//! cargo run --example order_demo                     # 10,000 orders on the in-memory bus
//! cargo run --example order_demo -- --orders 500     # a smaller burst
//! RUST_LOG=tidings=debug cargo run --example order_demo -- --orders 50
//! cargo run --example order_demo -- --url file://./data   # durable: Ctrl-C, run again, it resumes
//! cargo run --example order_demo -- --topology           # what is linked in, and exit
//! cargo run --example order_demo -- --asyncapi           # its AsyncAPI 3.0 document, and exit
//! cargo run --example order_demo -- --metrics 127.0.0.1:9000 --hold   # Prometheus text, then wait
//! ```
//!
//! Over a broker each service can run as a process of its own (`--role`, see `roles.rs`).

mod describe;
mod events;
mod logistics;
mod metrics;
#[cfg(test)]
mod metrics_test;
mod notify;
mod payment;
mod progress;
mod report;
mod roles;
mod stock;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use tidings::Bus;

use describe::Description;
use events::OrderPlaced;
use progress::Progress;
use roles::Role;
use stock::Inventory;

pub(crate) const SKUS: [&str; 4] = ["apple", "pear", "plum", "fig"];

/// Publish a burst of orders and watch stock, payment, logistics and SMS handle them.
#[derive(Debug, Parser)]
pub(crate) struct Args {
    /// How many orders the burst has.
    #[arg(long, default_value_t = 10_000)]
    pub(crate) orders: u64,

    /// Every Nth order asks for a SKU nobody sells (a permanent failure, dead-lettered).
    #[arg(long, default_value_t = 1_000)]
    pub(crate) unknown_sku_every: u64,

    /// The transport.
    #[arg(long, env = "TIDINGS_URL", default_value = "memory://")]
    pub(crate) url: String,

    /// Run one service only, as a process of a distributed system over a broker: start the
    /// services first, then `orders`.
    #[arg(long, value_enum, default_value_t = Role::All)]
    pub(crate) role: Role,

    /// Print the events, subscribers and groups of this run (of `--role`'s service), and exit.
    #[arg(long, conflicts_with = "asyncapi")]
    topology: bool,

    /// Print the AsyncAPI 3.0 document of this run as JSON, and exit.
    #[arg(long)]
    asyncapi: bool,

    /// Serve the bus's metrics as Prometheus text at `http://ADDR/metrics` (port 0: any free
    /// port; the address is printed).
    #[arg(long, value_name = "ADDR")]
    metrics: Option<SocketAddr>,

    /// After the run, keep serving `--metrics` until Ctrl-C, so the final counts can be scraped
    /// (with `--admin` the demo waits for Ctrl-C anyway).
    #[arg(long, requires = "metrics")]
    hold: bool,

    /// Serve the admin endpoint (dead letters, stats, live events) on this address for the
    /// `tidings` CLI, and keep serving after the run until Ctrl-C.
    #[arg(long, value_name = "ADDR")]
    admin: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let metrics_at = match args.metrics.map(metrics::serve) {
        Some(serving) => match serving.await {
            Ok(bound) => {
                println!("metrics: Prometheus text at http://{bound}/metrics");
                Some(bound)
            }
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let outcome = match args.role {
        _ if args.topology => describe::print(&args, Description::Topology),
        _ if args.asyncapi => describe::print(&args, Description::AsyncApi),
        Role::All => run(&args).await,
        role => match roles::check_url(role, &args.url) {
            Ok(()) if role == Role::Orders => roles::orders(&args).await,
            Ok(()) => roles::service(&args, role).await,
            Err(error) => Err(error),
        },
    };
    if let (true, None, Some(bound)) = (args.hold, &args.admin, metrics_at) {
        println!("holding: the final metrics stay at http://{bound}/metrics until Ctrl-C");
        let _ = tokio::signal::ctrl_c().await;
    }
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<bool, tidings::Error> {
    let bus = Bus::builder()
        .url(&args.url)
        .source("order-demo")
        // Absorbs a burst of up to 16k orders per subscriber; a larger one makes publish wait.
        .queue_capacity(16_384)
        .state(Inventory::stocked(&SKUS, u64::MAX / 2))
        .shutdown_timeout(Duration::from_secs(2))
        .build()
        .await?;
    let admin = match &args.admin {
        Some(addr) => {
            let admin = tidings::admin::serve(bus.clone(), addr)
                .await
                .map_err(|error| tidings::Error::Build(vec![format!("--admin {addr}: {error}")]))?;
            println!(
                "admin endpoint on http://{0}: try `tidings --url http://{0} stats`",
                admin.local_addr()
            );
            Some(admin)
        }
        None => None,
    };
    let progress = Progress::of(&args.url);
    let first = progress.as_ref().map_or(1, Progress::next_order);
    println!("tidings order demo: {} orders on {}", args.orders, args.url);
    if first > 1 {
        println!(
            "resuming: orders 1 to {} were published by an earlier run; what it left unfinished is redelivered",
            first - 1
        );
    }
    println!();

    let started = Instant::now();
    let mut published = first - 1;
    let interrupted = tokio::select! {
        result = async {
            for order_id in first..=args.orders {
                bus.publish(order(order_id, args.unknown_sku_every)).await?;
                published = order_id;
            }
            let elapsed = started.elapsed();
            println!(
                "published {} orders in {:.1} ms ({:.0} orders/s); the order service is done",
                args.orders + 1 - first,
                elapsed.as_secs_f64() * 1e3,
                (args.orders + 1 - first) as f64 / elapsed.as_secs_f64()
            );
            bus.wait_idle().await;
            Ok::<_, tidings::Error>(())
        } => { result?; false }
        _ = tokio::signal::ctrl_c() => true,
    };
    if let Some(progress) = &progress {
        progress.save(published + 1);
    }
    if interrupted {
        println!("\ninterrupted after publishing order {published}; shutting down");
        let unfinished = bus.shutdown().await.err();
        match progress {
            Some(progress) => println!(
                "{}; run the same command again to resume",
                progress.describe(unfinished)
            ),
            None => println!("memory:// keeps nothing: unfinished work is lost ({unfinished:?})"),
        }
        return Ok(false);
    }
    println!(
        "every subscriber drained its backlog after {:.2} s\n",
        started.elapsed().as_secs_f64()
    );

    let stats = bus.stats();
    report::print_stats(&stats);
    let dead = bus.dead_letters().list().await?;
    report::print_dead_letters(&dead);
    // The gauges as the run ends (idle), not as last sampled: what `--hold` keeps showing.
    bus.record_gauges();
    if let Some(admin) = admin {
        println!(
            "\nthe admin endpoint stays up on http://{} until Ctrl-C",
            admin.local_addr()
        );
        let _ = tokio::signal::ctrl_c().await;
        admin.stop().await;
    }
    bus.shutdown().await?;
    // A resumed run also handles what the earlier one left, so only a fresh run adds up exactly.
    Ok(first > 1 || report::check(&stats, args.orders, args.unknown_sku_every))
}

pub(crate) fn order(order_id: u64, unknown_sku_every: u64) -> OrderPlaced {
    let sku = if unknown_sku_every > 0 && order_id.is_multiple_of(unknown_sku_every) {
        "unicorn"
    } else {
        SKUS[(order_id % SKUS.len() as u64) as usize]
    };
    OrderPlaced {
        order_id,
        customer_phone: format!("+44 7700 9{:05}", order_id % 100_000),
        sku: sku.to_owned(),
        qty: 1 + (order_id % 3) as u32,
        amount_cents: 499 + order_id % 1_000,
    }
}
