//! The tidings benchmark suite. Each scenario runs tidings and a raw baseline in the same
//! process, in alternating rounds, and reports the median ratio and its spread.
//!
//! ```text
//! cargo run --release -p tidings-bench                 # everything, full size
//! cargo run --release -p tidings-bench -- --quick      # small and fast (CI)
//! cargo run --release -p tidings-bench -- fan-out      # scenarios whose key contains "fan-out"
//! cargo run --release -p tidings-bench --features nats -- nats   # against a NATS server
//! cargo run --release -p tidings-bench --features amqp -- amqp   # RabbitMQ against raw lapin
//!                                                      # (and amqp-park: a failing key's partition)
//! ```
//!
//! The broker scenarios exist only with their features, since they need a server.

mod alloc;
mod charts;
mod harness;
mod report;
mod scenarios;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use harness::Row;
use report::{Machine, Results};
use scenarios::{Size, durable, failures, latency, throughput};

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// Benchmarks tidings against the raw primitives beneath it.
#[derive(Debug, Parser)]
struct Args {
    /// Fewer, smaller rounds: checks that every scenario runs, not how fast.
    #[arg(long)]
    quick: bool,

    /// Where results.json, results.md and the SVG charts go.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,

    /// Run only scenarios whose key contains one of these: publish-one, fan-out-4, fan-out-16,
    /// retry, dead-letter, latency, durable, and the brokers compiled in: nats and nats-parking
    /// (feature `nats`), amqp and amqp-park (feature `amqp`).
    scenarios: Vec<String>,
}

const KEYS: &[&str] = &[
    "publish-one",
    "fan-out-4",
    "fan-out-16",
    "retry",
    "dead-letter",
    "latency",
    "durable",
    #[cfg(feature = "nats")]
    "nats",
    #[cfg(feature = "nats")]
    "nats-parking",
    #[cfg(feature = "amqp")]
    "amqp",
    #[cfg(feature = "amqp")]
    "amqp-park",
];

fn main() -> ExitCode {
    let args = Args::parse();
    let chosen: Vec<&str> = KEYS
        .iter()
        .copied()
        .filter(|key| {
            args.scenarios.is_empty() || args.scenarios.iter().any(|s| key.contains(s.as_str()))
        })
        .collect();
    if chosen.is_empty() {
        eprintln!(
            "no scenario matches {:?}; keys: {}{}",
            args.scenarios,
            KEYS.join(", "),
            if cfg!(feature = "amqp") {
                ""
            } else {
                " (and amqp, with `--features amqp`)"
            }
        );
        return ExitCode::FAILURE;
    }
    // The publishing loop runs on this thread and every consumer on one worker thread: one core
    // each on a 2-core machine, with nothing else competing.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let results = runtime.block_on(run(
        &chosen,
        if args.quick { Size::QUICK } else { Size::FULL },
        args.quick,
    ));
    let table = report::markdown(&results);
    println!("\n{table}");
    match write(&args.out, &results, &table) {
        Ok(()) => {
            println!(
                "results, table and charts written to {}",
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cannot write results to {}: {error}", args.out.display());
            ExitCode::FAILURE
        }
    }
}

async fn run(chosen: &[&str], size: Size, quick: bool) -> Results {
    let mut rows: Vec<Row> = Vec::new();
    let mut distribution = None;
    for key in chosen {
        eprintln!("running {key}…");
        match *key {
            "publish-one" => rows.extend(throughput::publish_to_one(size).await),
            "fan-out-4" => rows.push(throughput::fan_out(size, 4).await),
            "fan-out-16" => rows.push(throughput::fan_out(size, 16).await),
            "retry" => rows.push(failures::retry(size).await),
            "dead-letter" => rows.push(failures::dead_letter(size).await),
            "durable" => rows.extend(durable::publish(size).await),
            #[cfg(feature = "nats")]
            "nats" => rows.extend(scenarios::nats::scenarios(size).await),
            #[cfg(feature = "nats")]
            "nats-parking" => rows.push(scenarios::nats_parking::parking(size).await),
            #[cfg(feature = "amqp")]
            "amqp" => rows.extend(scenarios::amqp::amqp(size).await),
            // A measurement without a baseline: it prints its figure.
            #[cfg(feature = "amqp")]
            "amqp-park" => scenarios::amqp_parking::parking().await,
            "latency" => {
                let (latency_rows, points) = latency::latency(size).await;
                rows.extend(latency_rows);
                distribution = Some(points);
            }
            other => unreachable!("unknown scenario {other}"),
        }
    }
    Results {
        machine: Machine::this_one(),
        mode: if quick { "quick" } else { "full" },
        rows,
        latency: distribution,
    }
}

fn write(out: &std::path::Path, results: &Results, table: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(results)?,
    )?;
    std::fs::write(out.join("results.md"), table)?;
    std::fs::write(
        out.join("throughput.svg"),
        charts::throughput(&results.rows),
    )?;
    if let Some(distribution) = &results.latency {
        std::fs::write(
            out.join("latency.svg"),
            charts::latency(distribution, latency::RATE_PER_SECOND),
        )?;
    }
    Ok(())
}
