//! The `tidings` CLI straight on NATS JetStream (127.0.0.1:4222), while a bus runs there.

mod session;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tidings::Bus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_straight_on_nats() {
    let url = format!("nats://127.0.0.1:4222?namespace=cli-{}", std::process::id());
    let failing = Arc::new(AtomicBool::new(true));
    let bus = Bus::builder()
        .url(&url)
        .manual()
        .subscribe(session::courier(Arc::clone(&failing)))
        .build()
        .await
        .unwrap();
    session::dead_letters_and_tail(&bus, &failing, &url).await;
    bus.shutdown().await.unwrap();
}
