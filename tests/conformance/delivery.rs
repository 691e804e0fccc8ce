//! Fan-out to subscribers, competing consumers within one, zero-copy delivery.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::Backend;
use tidings::Subscriber;
use tidings_tests::{Log, Ping, Pong};
use tokio::sync::{Semaphore, mpsc};

pub(crate) async fn every_subscriber_receives_every_event_once(backend: &dyn Backend) {
    let (stock, payment, pongs) = (Log::default(), Log::default(), Log::default());
    let bus = backend
        .bus_with([
            Subscriber::new("stock", {
                let stock = stock.clone();
                move |ping: Arc<Ping>| {
                    let stock = stock.clone();
                    async move { stock.push(ping.seq) }
                }
            }),
            Subscriber::new("payment", {
                let payment = payment.clone();
                move |ping: Ping| {
                    let payment = payment.clone();
                    async move { payment.push(ping.seq) }
                }
            }),
            Subscriber::new("pongs", {
                let pongs = pongs.clone();
                move |pong: Pong| {
                    let pongs = pongs.clone();
                    async move { pongs.push(pong.seq) }
                }
            }),
        ])
        .await;

    for seq in 0..100 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    bus.publish(Pong { seq: 7 }).await.unwrap();
    bus.wait_idle().await;

    for log in [&stock, &payment] {
        let mut seen = log.items();
        seen.sort_unstable();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
    }
    assert_eq!(pongs.items(), vec![7]);
    let stats = bus.stats();
    assert_eq!(stats.subscriber("stock").unwrap().handled, 100);
    assert_eq!(stats.subscriber("payment").unwrap().handled, 100);
    assert_eq!(stats.subscriber("pongs").unwrap().handled, 1);
}

pub(crate) async fn publishing_with_no_subscriber_succeeds(backend: &dyn Backend) {
    let bus = backend.builder().build().await.unwrap();
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;
    assert!(bus.stats().subscribers.is_empty());
}

pub(crate) async fn a_subscriber_runs_at_most_concurrency_attempts_at_once(backend: &dyn Backend) {
    let gate = Arc::new(Semaphore::new(0));
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let handler = {
        let (gate, running, peak) = (gate.clone(), running.clone(), peak.clone());
        move |ping: Arc<Ping>| {
            let (gate, running, peak, started_tx) = (
                gate.clone(),
                running.clone(),
                peak.clone(),
                started_tx.clone(),
            );
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                started_tx.send(ping.seq).unwrap();
                gate.acquire().await.unwrap().forget();
                running.fetch_sub(1, Ordering::SeqCst);
            }
        }
    };
    let bus = backend
        .bus_with([Subscriber::new("worker", handler)
            .concurrency(4)
            .timeout(Duration::from_secs(3600))])
        .await;

    for seq in 0..20 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    for _ in 0..4 {
        started.recv().await.unwrap();
    }
    // All four workers are blocked on the gate: in the time a fifth would need, none starts.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), started.recv())
            .await
            .is_err()
    );
    let stats = bus.stats();
    let worker = stats.subscriber("worker").unwrap();
    assert_eq!(
        (worker.in_flight, worker.queued, worker.handled),
        (4, 16, 0)
    );

    gate.add_permits(20);
    bus.wait_idle().await;
    assert_eq!(peak.load(Ordering::SeqCst), 4);
    assert_eq!(bus.stats().subscriber("worker").unwrap().handled, 20);
}
