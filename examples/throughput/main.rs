//! A quick measurement: publish → handle throughput of one subscriber on the memory transport,
//! against a raw bounded `tokio::sync::mpsc` channel with one consumer task, in the same process.
//! Rounds alternate between the two; the median of each is reported.
//!
//! ```text
//! cargo run --release --example throughput [-- EVENTS ROUNDS]
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tidings::{Bus, Event, Subscriber};
use tokio::sync::mpsc;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "bench.tick")]
struct Tick {
    seq: u64,
}

async fn raw_mpsc(events: u64) -> Duration {
    let (tx, mut rx) = mpsc::channel::<Arc<Tick>>(1024);
    let consumer = tokio::spawn(async move {
        let mut sum = 0;
        while let Some(tick) = rx.recv().await {
            sum += std::hint::black_box(tick.seq);
        }
        sum
    });
    let start = Instant::now();
    for seq in 0..events {
        tx.send(Arc::new(Tick { seq })).await.unwrap();
    }
    drop(tx);
    consumer.await.unwrap();
    start.elapsed()
}

async fn tidings(bus: &Bus, events: u64) -> Duration {
    let start = Instant::now();
    for seq in 0..events {
        bus.publish(Tick { seq }).await.unwrap();
    }
    bus.wait_idle().await;
    start.elapsed()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), tidings::Error> {
    let mut args = std::env::args()
        .skip(1)
        .map(|arg| arg.parse::<u64>().expect("EVENTS and ROUNDS are numbers"));
    let events = args.next().unwrap_or(500_000);
    let rounds = args.next().unwrap_or(5);
    let bus = Bus::builder()
        .manual()
        .subscribe(
            Subscriber::new("sink", |tick: Arc<Tick>| async move {
                std::hint::black_box(tick.seq);
            })
            .concurrency(1),
        )
        .build()
        .await?;

    let (mut raw, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        raw.push(raw_mpsc(events).await);
        ours.push(tidings(&bus, events).await);
    }
    let per_event = |d: Duration| d.as_nanos() as f64 / events as f64;
    let (raw, ours) = (per_event(median(raw)), per_event(median(ours)));
    println!("publish → handle, one subscriber, {events} events, median of {rounds} rounds");
    println!("| path | ns/event | events/s |");
    println!("|---|---:|---:|");
    println!(
        "| raw tokio mpsc (bounded 1024) | {raw:.0} | {:.0} |",
        1e9 / raw
    );
    println!("| tidings memory | {ours:.0} | {:.0} |", 1e9 / ours);
    println!("ratio (tidings / mpsc time per event): {:.2}x", ours / raw);
    bus.shutdown().await
}
