//! Fan-out to subscribers, competing consumers within one, zero-copy delivery.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::Backend;
use crate::{Log, Ping, Pong};
use tidings::Subscriber;
use tokio::sync::{Semaphore, mpsc};

pub async fn every_subscriber_receives_every_event_once(backend: &dyn Backend) {
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

pub async fn publishing_with_no_subscriber_succeeds(backend: &dyn Backend) {
    let bus = backend.builder().build().await.unwrap();
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;
    assert!(bus.stats().subscribers.is_empty());
}

pub async fn a_subscriber_runs_at_most_concurrency_attempts_at_once(backend: &dyn Backend) {
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

/// Two bus instances running the same subscriber (one group) share its work: every event is
/// handled once by one of them, and each of them handles some.
pub async fn instances_of_one_group_share_its_work_without_duplicates(backend: &dyn Backend) {
    const EVENTS: u32 = 40;
    let handled: Log<(usize, u32)> = Log::default();
    // Each instance's first attempt waits at the barrier until the other instance has started
    // one too: it passes only if both take part.
    let both_running = Arc::new(tokio::sync::Barrier::new(2));
    let instance = |number: usize| {
        let (handled, both_running) = (handled.clone(), both_running.clone());
        let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
        Subscriber::new("stock", move |ping: Arc<Ping>| {
            let (handled, both_running, first) =
                (handled.clone(), both_running.clone(), first.clone());
            async move {
                if first.swap(false, Ordering::SeqCst) {
                    both_running.wait().await;
                }
                handled.push((number, ping.seq));
            }
        })
        .group("stock")
        .concurrency(1)
    };
    let one = backend.bus_with([instance(1)]).await;
    let two = backend.bus_with([instance(2)]).await;

    for seq in 0..EVENTS {
        one.publish(Ping::new(&format!("k{seq}"), seq))
            .await
            .unwrap();
    }
    tokio::time::timeout(Duration::from_secs(30), async {
        one.wait_idle().await;
        two.wait_idle().await;
    })
    .await
    .expect("both instances took part and the work drained");

    let mut seqs: Vec<u32> = handled.items().iter().map(|(_, seq)| *seq).collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (0..EVENTS).collect::<Vec<_>>(),
        "each event handled exactly once"
    );
    let by = |number| handled.items().iter().filter(|(n, _)| *n == number).count() as u64;
    assert!(by(1) > 0 && by(2) > 0, "both instances handled events");
    assert_eq!(one.stats().subscriber("stock").unwrap().handled, by(1));
    assert_eq!(two.stats().subscriber("stock").unwrap().handled, by(2));
    one.shutdown().await.unwrap();
    two.shutdown().await.unwrap();
}
