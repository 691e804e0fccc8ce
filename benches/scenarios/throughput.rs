//! Publish → handle throughput: one subscriber against `tokio::sync::mpsc`, fan-out against
//! `tokio::sync::broadcast`, and allocations per event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tidings::{Bus, Subscriber};
use tokio::sync::{broadcast, mpsc};

use super::{Size, Tick};
use crate::alloc::allocations;
use crate::harness::{Goal, Row, Unit, compare, throughput_row};

/// The raw path: a bounded channel into one consumer task running `consume` on each event, the
/// event in an `Arc` as tidings has it. Timed until the consumer has seen every event.
pub(crate) async fn mpsc_round(
    events: u64,
    mut consume: impl FnMut(Arc<Tick>) + Send + 'static,
) -> Duration {
    let (tx, mut rx) = mpsc::channel::<Arc<Tick>>(1024);
    let consumer = tokio::spawn(async move {
        while let Some(tick) = rx.recv().await {
            consume(tick);
        }
    });
    let start = Instant::now();
    for seq in 0..events {
        tx.send(Arc::new(Tick { seq }))
            .await
            .expect("consumer alive");
    }
    drop(tx);
    consumer.await.expect("consumer finished");
    start.elapsed()
}

fn sink(tick: Arc<Tick>) {
    std::hint::black_box(tick.seq);
}

async fn tidings_round(bus: &Bus, events: u64) -> Duration {
    let start = Instant::now();
    for seq in 0..events {
        bus.publish(Tick { seq }).await.expect("published");
    }
    bus.wait_idle().await;
    start.elapsed()
}

/// `n` subscribers, one worker each, mirroring one consumer task per channel.
async fn bus_with_sinks(n: usize) -> Bus {
    let mut builder = Bus::builder().manual();
    for i in 0..n {
        let sink = Subscriber::new(format!("sink-{i}"), |tick: Arc<Tick>| async move {
            std::hint::black_box(tick.seq);
        });
        builder = builder.subscribe(sink.concurrency(1));
    }
    builder.build().await.expect("bus builds")
}

pub(crate) async fn publish_to_one(size: Size) -> Vec<Row> {
    let bus = bus_with_sinks(1).await;
    let timings = compare(
        size.rounds,
        || mpsc_round(size.events, sink),
        || tidings_round(&bus, size.events),
    )
    .await;
    let throughput = throughput_row(
        "publish → 1 subscriber",
        "tokio mpsc (bounded 1024)",
        size.events,
        timings,
        Some(Goal::RatioAtMost(1.5)),
    );

    let before = allocations();
    mpsc_round(size.events, sink).await;
    let theirs = (allocations() - before) as f64 / size.events as f64;
    let before = allocations();
    tidings_round(&bus, size.events).await;
    let ours = (allocations() - before) as f64 / size.events as f64;
    let allocations = Row {
        scenario: "allocations per event".to_owned(),
        baseline: "tokio mpsc (bounded 1024)".to_owned(),
        unit: Unit::AllocsPerEvent,
        baseline_value: theirs,
        tidings_value: ours,
        ratio: None,
        spread: None,
        goal: Some(Goal::ValueAtMost(1.0)),
    };
    bus.shutdown().await.expect("shut down");
    vec![throughput, allocations]
}

/// The raw path: one broadcast channel, one receiver task per subscriber. The channel holds the
/// whole round, so no receiver lags and skips events: every delivery really happens.
async fn broadcast_round(events: u64, receivers: usize) -> Duration {
    let (tx, _) = broadcast::channel::<Arc<Tick>>(events as usize);
    let consumers: Vec<_> = (0..receivers)
        .map(|_| {
            let mut rx = tx.subscribe();
            tokio::spawn(async move {
                loop {
                    match rx.recv().await {
                        Ok(tick) => drop(std::hint::black_box(tick)),
                        Err(broadcast::error::RecvError::Lagged(n)) => panic!("lagged by {n}"),
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
            })
        })
        .collect();
    let start = Instant::now();
    for seq in 0..events {
        tx.send(Arc::new(Tick { seq })).expect("receivers alive");
    }
    drop(tx);
    for consumer in consumers {
        consumer.await.expect("consumer finished");
    }
    start.elapsed()
}

pub(crate) async fn fan_out(size: Size, subscribers: usize) -> Row {
    let bus = bus_with_sinks(subscribers).await;
    // A fan-out round delivers `subscribers` times as much: keep rounds the same length.
    let events = size.events / subscribers as u64;
    let timings = compare(
        size.rounds,
        || broadcast_round(events, subscribers),
        || tidings_round(&bus, events),
    )
    .await;
    bus.shutdown().await.expect("shut down");
    throughput_row(
        &format!("fan-out to {subscribers} subscribers (deliveries/s)"),
        "tokio broadcast",
        events * subscribers as u64,
        timings,
        Some(Goal::RatioAtMost(2.0)),
    )
}
