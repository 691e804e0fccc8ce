//! The `tidings` CLI straight on RabbitMQ (127.0.0.1:5672), while a bus runs there.

mod session;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_straight_on_rabbitmq() {
    session::on_broker(&format!(
        "amqp://guest:guest@127.0.0.1:5672/%2f?namespace=cli-{}",
        std::process::id()
    ))
    .await;
}
