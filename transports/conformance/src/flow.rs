//! Flow control: bounded queues with publish backpressure, rate limits, `wait_idle`.

use std::sync::Arc;
use std::time::Duration;

use crate::Backend;
use crate::{Log, Ping, Pong};
use tidings::{Context, Subscriber};
use tokio::sync::Semaphore;

pub async fn publish_waits_while_a_subscriber_is_full(backend: &dyn Backend) {
    let gate = Arc::new(Semaphore::new(0));
    let handler = {
        let gate = gate.clone();
        move |_: Arc<Ping>| {
            let gate = gate.clone();
            async move { gate.acquire().await.unwrap().forget() }
        }
    };
    let bus = backend
        .builder()
        .queue_capacity(4)
        .subscribe(Subscriber::new("slow", handler).concurrency(2))
        .build()
        .await
        .unwrap();
    for seq in 0..4 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    let blocked =
        tokio::time::timeout(Duration::from_millis(300), bus.publish(Ping::new("k", 4))).await;
    assert!(blocked.is_err(), "the fifth publish waits for room");
    let stats = bus.stats();
    assert_eq!(
        (stats.subscribers[0].in_flight, stats.subscribers[0].queued),
        (2, 2),
        "memory stays bounded"
    );

    let publisher = tokio::spawn({
        let bus = bus.clone();
        async move { bus.publish(Ping::new("k", 5)).await }
    });
    gate.add_permits(1);
    publisher.await.unwrap().unwrap();
    gate.add_permits(4);
    bus.wait_idle().await;
    assert_eq!(bus.stats().subscribers[0].handled, 5);
}

pub async fn wait_idle_waits_for_follow_ups_published_by_handlers(backend: &dyn Backend) {
    let pongs = Log::default();
    let bus = backend
        .bus_with([
            Subscriber::new("relay", |ping: Arc<Ping>, ctx: Context| async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                ctx.publish(Pong { seq: ping.seq }).await.unwrap();
            }),
            Subscriber::new("sink", {
                let pongs = pongs.clone();
                move |pong: Pong| {
                    let pongs = pongs.clone();
                    async move {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        pongs.push(pong.seq);
                    }
                }
            }),
        ])
        .await;
    for seq in 0..10 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    bus.wait_idle().await;
    assert_eq!(pongs.len(), 10);
    let stats = bus.stats();
    assert!(
        stats
            .subscribers
            .iter()
            .all(|s| s.queued == 0 && s.in_flight == 0)
    );
}

pub async fn wait_idle_on_a_quiet_bus_returns_at_once(backend: &dyn Backend) {
    let bus = backend.builder().build().await.unwrap();
    bus.wait_idle().await;
}
