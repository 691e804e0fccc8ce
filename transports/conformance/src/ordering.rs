//! `ordered`: same-key events in publish order; a failing key parks only itself.

use std::sync::Arc;
use std::time::Duration;

use crate::Backend;
use crate::{Log, Ping};
use tidings::transport::partition::partition_of;
use tidings::{Backoff, Context, HandlerError, Key, Subscriber};

pub async fn same_key_events_are_handled_in_publish_order_across_workers(backend: &dyn Backend) {
    let log: Log<(String, u32)> = Log::default();
    let handler = {
        let log = log.clone();
        move |ping: Arc<Ping>| {
            let log = log.clone();
            async move {
                // Uneven handling times would reorder an unordered subscriber.
                tokio::time::sleep(Duration::from_millis(u64::from(7 * (ping.seq % 3)))).await;
                log.push((ping.key.clone(), ping.seq));
            }
        }
    };
    let bus = backend
        .bus_with([Subscriber::new("ordered", handler).ordered().concurrency(4)])
        .await;
    for seq in 0..30 {
        for key in ["a", "b", "c", "d"] {
            bus.publish(Ping::new(key, seq)).await.unwrap();
        }
    }
    bus.wait_idle().await;

    let log = log.items();
    assert_eq!(log.len(), 120);
    for key in ["a", "b", "c", "d"] {
        let seqs: Vec<u32> = log
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, seq)| *seq)
            .collect();
        assert_eq!(seqs, (0..30).collect::<Vec<_>>(), "key {key}");
    }
}

/// Brokers keep per-key order by partitioning keys ([`tidings::transport::partition`]); the
/// running key here shares the stuck key's partition, so a transport that parks a whole
/// partition behind a failing key fails this case.
pub async fn a_failing_key_parks_only_itself(backend: &dyn Backend) {
    let running = key_sharing_a_partition_with("stuck");
    let log: Log<(String, u32, u32)> = Log::default();
    let handler = {
        let log = log.clone();
        move |ping: Arc<Ping>, ctx: Context| {
            log.push((ping.key.clone(), ping.seq, ctx.attempt()));
            let fail = ping.key == "stuck" && ping.seq == 0 && ctx.attempt() < 3;
            std::future::ready(if fail {
                Err(HandlerError::msg("not yet"))
            } else {
                Ok(())
            })
        }
    };
    let bus = backend
        .bus_with([Subscriber::new("ordered", handler)
            .ordered()
            .concurrency(2)
            .retries(5)
            .backoff(Backoff::fixed(Duration::from_millis(300)))])
        .await;
    for seq in 0..3 {
        bus.publish(Ping::new("stuck", seq)).await.unwrap();
    }
    for seq in 0..10 {
        bus.publish(Ping::new(&running, seq)).await.unwrap();
    }
    bus.wait_idle().await;

    let log = log.items();
    let of = |key: &str| -> Vec<(u32, u32)> {
        log.iter()
            .filter(|(k, ..)| k == key)
            .map(|(_, s, a)| (*s, *a))
            .collect()
    };
    assert_eq!(
        of("stuck"),
        vec![(0, 1), (0, 2), (0, 3), (1, 1), (2, 1)],
        "the stuck key keeps its order"
    );
    assert_eq!(
        of(&running),
        (0..10).map(|seq| (seq, 1)).collect::<Vec<_>>(),
        "the running key keeps its order"
    );
    let second_try = log
        .iter()
        .position(|(k, s, a)| k == "stuck" && *s == 0 && *a == 2)
        .unwrap();
    let running_done = log.iter().rposition(|(k, ..)| *k == running).unwrap();
    assert!(
        running_done < second_try,
        "all of `{running}` ran while `stuck` waited for its retry: {log:?}"
    );
    let stats = bus.stats();
    assert_eq!(
        (stats.subscribers[0].handled, stats.subscribers[0].retried),
        (13, 2)
    );
}

/// The first of `running-0`, `running-1`, … in the same partition as `key`.
fn key_sharing_a_partition_with(key: &str) -> String {
    let partition = partition_of(Key::Str(key));
    let running = (0..)
        .map(|n| format!("running-{n}"))
        .find(|candidate| partition_of(Key::Str(candidate)) == partition)
        .expect("some key shares the partition");
    assert_eq!(partition_of(Key::Str(&running)), partition);
    running
}

pub async fn a_dead_lettered_event_releases_its_key(backend: &dyn Backend) {
    let log: Log<u32> = Log::default();
    let handler = {
        let log = log.clone();
        move |ping: Arc<Ping>| {
            log.push(ping.seq);
            std::future::ready(if ping.seq == 0 {
                Err(HandlerError::permanent_msg("poison"))
            } else {
                Ok(())
            })
        }
    };
    let bus = backend
        .bus_with([Subscriber::new("ordered", handler).ordered()])
        .await;
    for seq in 0..3 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    bus.wait_idle().await;
    assert_eq!(log.items(), vec![0, 1, 2]);
    assert_eq!(bus.dead_letters().list().await.unwrap().len(), 1);
}
