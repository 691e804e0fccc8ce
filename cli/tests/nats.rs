//! The `tidings` CLI straight on NATS JetStream (127.0.0.1:4222), while a bus runs there.

mod session;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_straight_on_nats() {
    session::on_broker(&format!(
        "nats://127.0.0.1:4222?namespace=cli-{}",
        std::process::id()
    ))
    .await;
}
