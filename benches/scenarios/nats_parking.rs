//! NATS, `ordered`: what a failing key costs the other keys of its partition. One key's
//! handler fails for [`FAILING`] (retried every [`BACKOFF`]) while a backlog of events of
//! [`OTHERS`] other keys, all in the failing key's partition, waits behind it; the figure is
//! how many of those the subscriber handles during the failure, against the same backlog with
//! no key failing (the baseline). A transport that parks the whole partition handles none.
//!
//! Each round: a namespace of its own; the subscriber's consumers declared, then the failing
//! key's event and the backlog published while no bus runs it, then a bus that runs it built;
//! the window opens at the failing key's first attempt.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use tidings::transport::partition::partition_of;
use tidings::{Backoff, Bus, Event, HandlerError, Key, Subscriber};

use super::Size;
use crate::harness::{Row, Unit, median, min_max};

/// How long the failing key fails, and the window counted.
const FAILING: Duration = Duration::from_secs(5);
const BACKOFF: Duration = Duration::from_millis(100);
const OTHERS: usize = 8;
const STUCK: &str = "stuck";

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "bench.keyed")]
struct Keyed {
    #[event(key)]
    key: String,
    seq: u64,
}

fn server() -> String {
    std::env::var("TIDINGS_NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned())
}

/// What one round's handler shares with the round.
#[derive(Default)]
struct Window {
    /// The failing key's first attempt.
    opened: OnceLock<Instant>,
    /// Events of the other keys handled within [`FAILING`] of it.
    others: AtomicU64,
}

fn subscriber(window: &Arc<Window>, fail: bool) -> Subscriber {
    let window = Arc::clone(window);
    Subscriber::new("parking", move |event: Arc<Keyed>| {
        let result = if event.key == STUCK {
            let opened = *window.opened.get_or_init(Instant::now);
            if fail && opened.elapsed() < FAILING {
                Err(HandlerError::msg("failing"))
            } else {
                Ok(())
            }
        } else {
            let within = window.opened.get().is_some_and(|at| at.elapsed() < FAILING);
            if within {
                window.others.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        };
        std::future::ready(result)
    })
    .ordered()
    .concurrency(4)
    .retries(1_000)
    .backoff(Backoff::fixed(BACKOFF))
}

/// One round: the other keys' events handled during the window.
async fn round(round: usize, backlog: u64, fail: bool, others: &[String]) -> u64 {
    let namespace = format!("bench-parking-{}-{round}", std::process::id());
    let url = format!("nats://{}?namespace={namespace}", server());
    let builder = || Bus::builder().url(&url).manual();
    let window = Arc::new(Window::default());
    let declare = builder().subscribe(subscriber(&window, fail)).build();
    declare
        .await
        .expect("the bus builds")
        .shutdown()
        .await
        .expect("clean shutdown");

    let publisher = builder().build().await.expect("the bus builds");
    let stuck = Keyed {
        key: STUCK.to_owned(),
        seq: 0,
    };
    publisher.publish(stuck).await.expect("published");
    futures_util::stream::iter(0..backlog)
        .map(|seq| {
            let key = others[seq as usize % others.len()].clone();
            publisher.publish(Keyed { key, seq })
        })
        .buffer_unordered(256)
        .try_for_each(|_| async { Ok(()) })
        .await
        .expect("published");

    let window = Arc::new(Window::default());
    let bus = builder()
        // The backlog is not meant to be finished: no waiting for it at the end.
        .shutdown_timeout(Duration::from_millis(200))
        .subscribe(subscriber(&window, fail))
        .build()
        .await
        .expect("the bus builds");
    // A measurement window, not a synchronisation: wait for it to open, then for it to pass.
    while window.opened.get().is_none() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let opened = *window.opened.get().expect("opened");
    tokio::time::sleep_until((opened + FAILING).into()).await;
    let handled = window.others.load(Ordering::Relaxed);
    if handled >= backlog {
        eprintln!("  the backlog ({backlog}) drained within the window: the figure is a floor");
    }
    // What is left of the backlog is reported unfinished, as it should be.
    let _ = bus.shutdown().await;
    publisher.shutdown().await.expect("clean shutdown");
    let js = async_nats::jetstream::new(async_nats::connect(server()).await.expect("connect"));
    for stream in ["events", "dead", "parked"] {
        let _ = js.delete_stream(format!("{namespace}-{stream}")).await;
    }
    handled
}

pub(crate) async fn parking(size: Size) -> Row {
    let partition = partition_of(Key::Str(STUCK));
    let others: Vec<String> = (0..)
        .map(|n| format!("other-{n}"))
        .filter(|key| partition_of(Key::Str(key)) == partition)
        .take(OTHERS)
        .collect();
    let backlog = size.broker_events * 4;
    let rounds = size.rounds.min(3);
    let (mut healthy, mut failing) = (Vec::new(), Vec::new());
    for n in 0..rounds {
        healthy.push(round(2 * n, backlog, false, &others).await as f64);
        failing.push(round(2 * n + 1, backlog, true, &others).await as f64);
    }
    let seconds = FAILING.as_secs_f64();
    println!(
        "NATS parking: other keys of the failing key's partition handled during its {seconds} s \
         of failures, per round: {failing:?} (with no key failing: {healthy:?})"
    );
    let ratios: Vec<f64> = healthy
        .iter()
        .zip(&failing)
        .map(|(healthy, failing)| healthy / failing)
        .collect();
    Row {
        scenario: format!(
            "NATS ordered: other keys of a partition while one key fails for {seconds} s (events/s)"
        ),
        baseline: "the same backlog, no key failing".to_owned(),
        unit: Unit::PerSecond,
        baseline_value: median(healthy) / seconds,
        tidings_value: median(failing) / seconds,
        ratio: Some(median(ratios.clone())),
        spread: Some(min_max(&ratios)),
        goal: None,
    }
}
