//! The memory transport's hot path allocates at most once per delivered event: the `Arc` that
//! publish wraps the event in. Counted by a global allocator that wraps the system one.

use std::sync::Arc;

use tidings::{Bus, Subscriber};
use tidings_tests::Ping;

/// The benchmark suite's counting allocator, the same file.
#[path = "../benches/alloc.rs"]
mod alloc;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

const EVENTS: u64 = 20_000;

#[test]
fn one_allocation_per_delivered_event_at_most() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sink = Subscriber::new("sink", |ping: Arc<Ping>| async move {
            std::hint::black_box(ping.seq);
        });
        let bus = Bus::builder()
            .manual()
            .subscribe(sink)
            .build()
            .await
            .unwrap();
        // The key's `String` is the test's own allocation: build the events up front.
        let warm_up: Vec<Ping> = (0..1_000).map(|seq| Ping::new("k", seq)).collect();
        let events: Vec<Ping> = (0..EVENTS as u32).map(|seq| Ping::new("k", seq)).collect();
        for ping in warm_up {
            bus.publish(ping).await.unwrap();
        }
        bus.wait_idle().await;

        let before = alloc::allocations();
        for ping in events {
            bus.publish(ping).await.unwrap();
        }
        bus.wait_idle().await;
        let allocations = alloc::allocations() - before;

        let per_event = allocations as f64 / EVENTS as f64;
        println!(
            "{allocations} allocations for {EVENTS} delivered events: {per_event:.3} per event"
        );
        assert_eq!(bus.stats().subscribers[0].handled, 1_000 + EVENTS);
        assert!(
            per_event <= 1.0,
            "{per_event:.3} allocations per delivered event"
        );
    });
}
