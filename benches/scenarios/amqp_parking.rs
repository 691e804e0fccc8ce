//! A measurement, not a race against a baseline: how much of an `ordered` subscriber's
//! partition keeps flowing on RabbitMQ while one key of it fails.
//!
//! One key (`stuck`) fails for `STUCK_FOR` (its handler errors, a short fixed backoff between
//! attempts); meanwhile a publisher keeps sending events of 16 other keys that share its
//! partition. The figure is how many of those were handled while `stuck` was failing: a
//! transport that parks the whole partition behind the failing key handles about none.
//!
//! `cargo run --release -p tidings-bench --features amqp -- amqp-park`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::{Connection, ConnectionProperties};
use serde::{Deserialize, Serialize};
use tidings::transport::partition::partition_of;
use tidings::{Backoff, Bus, Event, HandlerError, Key, Subscriber};

/// How long the stuck key keeps failing.
const STUCK_FOR: Duration = Duration::from_secs(5);
/// The stuck key's backoff between attempts.
const BACKOFF: Duration = Duration::from_millis(100);
/// Keys sharing the stuck key's partition, published round-robin.
const OTHER_KEYS: usize = 16;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "bench.keyed")]
struct Keyed {
    #[event(key)]
    key: String,
    seq: u64,
}

fn broker_url() -> String {
    std::env::var("TIDINGS_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// `count` keys other than `key` in its partition.
fn keys_sharing_a_partition_with(key: &str, count: usize) -> Vec<String> {
    let partition = partition_of(Key::Str(key));
    (0..)
        .map(|n| format!("other-{n}"))
        .filter(|candidate| partition_of(Key::Str(candidate)) == partition)
        .take(count)
        .collect()
}

/// Runs the measurement and prints its figures.
pub(crate) async fn parking() {
    let namespace = format!("tidings-bench-park-{}", std::process::id());
    let url = format!("{}?namespace={namespace}", broker_url());
    let others = keys_sharing_a_partition_with("stuck", OTHER_KEYS);
    // Set once the stuck key's handler succeeded: its failing time is over.
    let recovered = Arc::new(AtomicBool::new(false));
    let during = Arc::new(AtomicU64::new(0));
    let after = Arc::new(AtomicU64::new(0));
    let started: Arc<std::sync::OnceLock<Instant>> = Arc::default();
    let subscriber = Subscriber::new("parking", {
        let (recovered, during, after, started) = (
            Arc::clone(&recovered),
            Arc::clone(&during),
            Arc::clone(&after),
            Arc::clone(&started),
        );
        move |event: Arc<Keyed>| {
            let result = if event.key == "stuck" {
                let first = *started.get_or_init(Instant::now);
                if first.elapsed() < STUCK_FOR {
                    Err(HandlerError::msg("failing on purpose"))
                } else {
                    recovered.store(true, Ordering::SeqCst);
                    Ok(())
                }
            } else {
                let counter = match recovered.load(Ordering::SeqCst) {
                    false => &during,
                    true => &after,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                Ok(())
            };
            std::future::ready(result)
        }
    })
    .ordered()
    .concurrency(4)
    .retries(1_000)
    .backoff(Backoff::fixed(BACKOFF));
    let bus = Bus::builder()
        .url(url.clone())
        .manual()
        .subscribe(subscriber)
        .build()
        .await
        .unwrap_or_else(|error| {
            panic!("the amqp-park measurement needs RabbitMQ at {url}: {error}")
        });

    bus.publish(Keyed {
        key: "stuck".to_owned(),
        seq: 0,
    })
    .await
    .expect("published");
    // Other keys flow in while the stuck key fails; `publish` waits whenever the partition's
    // queue is full, as it would for any producer.
    let publisher = tokio::spawn({
        let (bus, recovered) = (bus.clone(), Arc::clone(&recovered));
        async move {
            let mut published = 0_u64;
            while !recovered.load(Ordering::SeqCst) {
                let key = others[published as usize % others.len()].clone();
                bus.publish(Keyed {
                    key,
                    seq: published,
                })
                .await
                .expect("published");
                published += 1;
            }
            published
        }
    });
    let published = publisher.await.expect("the publisher finished");
    bus.wait_idle().await;
    let (during, after) = (
        during.load(Ordering::Relaxed),
        after.load(Ordering::Relaxed),
    );
    println!(
        "amqp-park: while one key failed for {:.1}s (fixed {}ms backoff), {during} events of \
         {OTHER_KEYS} other keys of its partition were handled ({:.0}/s); {published} were \
         published meanwhile, {after} handled after it recovered",
        STUCK_FOR.as_secs_f64(),
        BACKOFF.as_millis(),
        during as f64 / STUCK_FOR.as_secs_f64(),
    );
    bus.shutdown().await.expect("shut down");
    clean_up(&namespace).await;
}

/// Deletes what the bus declared: the subscriber's partition queues and marker, the event's
/// exchange, the dead letters.
async fn clean_up(namespace: &str) {
    let Ok(connection) = Connection::connect(&broker_url(), ConnectionProperties::default()).await
    else {
        return;
    };
    let Ok(channel) = connection.create_channel().await else {
        return;
    };
    let base = format!("{namespace}.parking.parking");
    let mut queues: Vec<String> = (0..16).map(|p| format!("{base}/p{p}")).collect();
    queues.push(base);
    queues.push(format!("{namespace}/dead-letters"));
    for queue in &queues {
        let _ = channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    for exchange in [
        format!("{namespace}/event/bench.keyed"),
        format!("{namespace}/dead-letters"),
    ] {
        let _ = channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await;
    }
    let _ = connection.close(200, "done".into()).await;
}
