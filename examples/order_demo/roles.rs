//! The demo as a distributed system: each service in a process of its own, over a broker.
//!
//! ```text
//! order_demo --url nats://127.0.0.1:4222 --role stock       # and payment, logistics, notify
//! order_demo --url nats://127.0.0.1:4222 --role orders      # once the services are ready
//! ```
//!
//! A service runs only its group's subscribers (`Bus::builder().groups([..])`), reports its
//! progress every second, and exits once it has accounted for every order of the burst: its
//! share of the system's work is done. The order service publishes the burst and exits.

use std::time::{Duration, Instant};

use clap::ValueEnum;
use futures_util::{StreamExt, TryStreamExt};
use tidings::{Bus, Stats};

use crate::stock::Inventory;
use crate::{Args, SKUS, order, report};

/// Orders published at once by the order service: publishes are pipelined on the connection.
const WINDOW: usize = 256;

/// Which part of the system this process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Role {
    /// Every service in this one process (the default).
    All,
    /// The order service: publishes the burst of orders, then exits.
    Orders,
    Stock,
    Payment,
    Logistics,
    Notify,
}

impl Role {
    pub(crate) fn group(self) -> &'static str {
        match self {
            Role::All | Role::Orders => unreachable!("not a subscriber group"),
            Role::Stock => "stock",
            Role::Payment => "payment",
            Role::Logistics => "logistics",
            Role::Notify => "notify",
        }
    }
}

/// Refuses a role on a transport that does not reach other processes.
pub(crate) fn check_url(role: Role, url: &str) -> Result<(), tidings::Error> {
    if role == Role::All || url.starts_with("nats://") || url.starts_with("amqp://") {
        return Ok(());
    }
    Err(tidings::Error::Build(vec![format!(
        "`--role {}` runs one service of a distributed system, and `{url}` does not reach \
         other processes: use a broker, e.g. `--url nats://127.0.0.1:4222` or \
         `--url amqp://guest:guest@127.0.0.1:5672/%2f`",
        role.to_possible_value().expect("a named role").get_name()
    )]))
}

pub(crate) async fn orders(args: &Args) -> Result<bool, tidings::Error> {
    let bus = Bus::builder()
        .url(&args.url)
        .source("order-service")
        .manual()
        .build()
        .await?;
    let started = Instant::now();
    futures_util::stream::iter(1..=args.orders)
        .map(|order_id| bus.publish(order(order_id, args.unknown_sku_every)))
        .buffer_unordered(WINDOW)
        .try_for_each(|_| async { Ok(()) })
        .await?;
    let elapsed = started.elapsed();
    println!(
        "order service: published {} orders in {:.1} ms ({:.0} orders/s, {WINDOW} in flight); done",
        args.orders,
        elapsed.as_secs_f64() * 1e3,
        args.orders as f64 / elapsed.as_secs_f64()
    );
    bus.shutdown().await?;
    Ok(true)
}

pub(crate) async fn service(args: &Args, role: Role) -> Result<bool, tidings::Error> {
    let group = role.group();
    let bus = Bus::builder()
        .url(&args.url)
        .source(format!("{group}-service"))
        .groups([group])
        .queue_capacity(16_384)
        .state(Inventory::stocked(&SKUS, u64::MAX / 2))
        .build()
        .await?;
    println!("{group} service ready: waiting for {} orders", args.orders);
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let interrupted = loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = tokio::signal::ctrl_c() => break true,
        }
        let stats = bus.stats();
        if report::accounted_for(&stats, args.orders, args.unknown_sku_every) {
            break false;
        }
        progress(group, &stats, started);
    };
    if !interrupted {
        bus.wait_idle().await;
        println!(
            "{group} service: its share of {} orders done after {:.2} s\n",
            args.orders,
            started.elapsed().as_secs_f64()
        );
    }
    let stats = bus.stats();
    report::print_stats(&stats);
    let dead: Vec<_> = bus
        .dead_letters()
        .list()
        .await?
        .into_iter()
        .filter(|letter| stats.subscriber(&letter.subscriber).is_some())
        .collect();
    report::print_dead_letters(&dead);
    bus.record_gauges();
    bus.shutdown().await?;
    Ok(!interrupted)
}

fn progress(group: &str, stats: &Stats, started: Instant) {
    let line: Vec<String> = stats
        .subscribers
        .iter()
        .map(|s| format!("{} {} handled, {} dead", s.name, s.handled, s.dead_lettered))
        .collect();
    println!(
        "{group} [{:>4.0} s] {}",
        started.elapsed().as_secs_f64(),
        line.join("; ")
    );
}
