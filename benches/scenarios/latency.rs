//! Publish → handle latency at a fixed offered rate, against `tokio::sync::mpsc`.
//!
//! Open loop: event `i` is due at `start + i / rate` whatever happened before, and its latency
//! counts from when it was due, not from when it was sent, so a stall is charged to every event
//! it delayed (no coordinated omission).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tidings::{Bus, Event, Subscriber};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Size;
use crate::harness::{Row, Unit, median};

/// An event stamped with when it was due, in nanoseconds since the run began.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "bench.stamp")]
pub(crate) struct Stamp {
    due_ns: u64,
}

pub(crate) const RATE_PER_SECOND: u64 = 20_000;

type Recorder = Arc<Mutex<Histogram<u64>>>;

fn recorder() -> Recorder {
    Arc::new(Mutex::new(
        Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("bounds"),
    ))
}

fn record(recorder: &Recorder, epoch: Instant, due_ns: u64) {
    let now_ns = u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
    recorder
        .lock()
        .expect("lock")
        .saturating_record(now_ns.saturating_sub(due_ns).max(1));
}

/// Offers `Stamp`s at the fixed rate for `seconds`, handing each to `send`.
async fn offer<F, Fut>(seconds: f64, epoch: Instant, mut send: F)
where
    F: FnMut(Stamp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let events = (seconds * RATE_PER_SECOND as f64) as u64;
    let interval_ns = 1_000_000_000 / RATE_PER_SECOND;
    for i in 0..events {
        let due = epoch + Duration::from_nanos(i * interval_ns);
        // tokio's timer ticks in milliseconds: sleep for the coarse part, spin for the rest, so
        // events leave when due instead of in bursts once per tick.
        if due > Instant::now() + Duration::from_millis(2) {
            tokio::time::sleep_until(due - Duration::from_millis(1)).await;
        }
        while Instant::now() < due {
            std::hint::spin_loop();
        }
        send(Stamp {
            due_ns: i * interval_ns,
        })
        .await;
    }
}

async fn mpsc_run(seconds: f64) -> Histogram<u64> {
    let recorded = recorder();
    let epoch = Instant::now();
    let (tx, mut rx) = mpsc::channel::<Arc<Stamp>>(1024);
    let consumer = tokio::spawn({
        let recorded = Arc::clone(&recorded);
        async move {
            while let Some(stamp) = rx.recv().await {
                record(&recorded, epoch, stamp.due_ns);
            }
        }
    });
    offer(seconds, epoch, |stamp| {
        let tx = tx.clone();
        async move { tx.send(Arc::new(stamp)).await.expect("consumer alive") }
    })
    .await;
    drop(tx);
    consumer.await.expect("consumer finished");
    Arc::try_unwrap(recorded)
        .expect("consumer done")
        .into_inner()
        .expect("lock")
}

async fn tidings_run(seconds: f64) -> Histogram<u64> {
    let recorded = recorder();
    let epoch = Instant::now();
    let sink = Subscriber::new("latency", {
        let recorded = Arc::clone(&recorded);
        move |stamp: Arc<Stamp>| {
            record(&recorded, epoch, stamp.due_ns);
            std::future::ready(())
        }
    });
    let bus = Bus::builder()
        .manual()
        .subscribe(sink.concurrency(1))
        .build()
        .await
        .expect("bus builds");
    offer(seconds, epoch, |stamp| {
        let bus = bus.clone();
        async move {
            bus.publish(stamp).await.expect("published");
        }
    })
    .await;
    bus.wait_idle().await;
    bus.shutdown().await.expect("shut down");
    recorded.lock().expect("lock").clone()
}

/// Percentiles of both runs, for the table and the chart.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Distribution {
    /// (percentile, baseline µs, tidings µs)
    pub(crate) points: Vec<(f64, f64, f64)>,
}

pub(crate) const CHART_PERCENTILES: [f64; 9] =
    [50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.99, 100.0];

pub(crate) async fn latency(size: Size) -> (Vec<Row>, Distribution) {
    let (mut theirs, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..size.rounds.min(3) {
        theirs.push(mpsc_run(size.latency_seconds).await);
        ours.push(tidings_run(size.latency_seconds).await);
    }
    let micros = |runs: &[Histogram<u64>], percentile: f64| {
        median(
            runs.iter()
                .map(|h| h.value_at_percentile(percentile) as f64 / 1e3)
                .collect(),
        )
    };
    let rows = [50.0, 99.0, 99.9]
        .into_iter()
        .map(|percentile| {
            let (baseline, tidings) = (micros(&theirs, percentile), micros(&ours, percentile));
            Row {
                scenario: format!("latency p{percentile} at {RATE_PER_SECOND}/s (µs)"),
                baseline: "tokio mpsc (bounded 1024)".to_owned(),
                unit: Unit::Micros,
                baseline_value: baseline,
                tidings_value: tidings,
                ratio: Some(tidings / baseline),
                spread: None,
                goal: None,
            }
        })
        .collect();
    let points = CHART_PERCENTILES
        .iter()
        .map(|&p| (p, micros(&theirs, p), micros(&ours, p)))
        .collect();
    (rows, Distribution { points })
}
