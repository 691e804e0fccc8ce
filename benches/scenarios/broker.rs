//! What the broker scenarios share on tidings' side: a subscriber that counts ticks, and a
//! timed drain of a backlog by a bus running it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tidings::{BusBuilder, Subscriber};
use tokio::sync::Notify;

use super::Tick;

/// The subscriber `sink`: `concurrency` workers counting ticks; `done` is notified at the
/// `events`th.
fn sink(concurrency: u32, events: u64, done: &Arc<Notify>) -> Subscriber {
    let (handled, done) = (Arc::new(AtomicU64::new(0)), Arc::clone(done));
    Subscriber::new("sink", move |tick: Arc<Tick>| {
        std::hint::black_box(tick.seq);
        if handled.fetch_add(1, Ordering::Relaxed) + 1 == events {
            done.notify_one();
        }
        std::future::ready(())
    })
    .concurrency(concurrency)
}

/// Declares the sink's queue (or consumer) on the broker and leaves it, for rounds to fill.
pub(crate) async fn declare_sink(builder: BusBuilder, concurrency: u32) {
    let bus = builder
        .subscribe(sink(concurrency, u64::MAX, &Arc::default()))
        .build()
        .await
        .expect("the bus builds");
    bus.shutdown().await.expect("clean shutdown");
}

/// Builds a bus running the sink and times it until it handled `events`, connecting and
/// declaring included.
pub(crate) async fn drain(builder: BusBuilder, concurrency: u32, events: u64) -> Duration {
    let done = Arc::new(Notify::new());
    let start = Instant::now();
    let bus = builder
        .subscribe(sink(concurrency, events, &done))
        .build()
        .await
        .expect("the bus builds");
    done.notified().await;
    let elapsed = start.elapsed();
    bus.shutdown().await.expect("clean shutdown");
    elapsed
}
