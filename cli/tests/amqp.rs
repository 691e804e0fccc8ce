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

/// The reading commands on a namespace no bus ran on: an error naming what is missing, and no
/// queue or exchange made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_namespace_is_an_error_and_creates_nothing() {
    use lapin::options::{ExchangeDeclareOptions, QueueDeclareOptions};
    use lapin::types::FieldTable;

    let namespace = format!("cli-misspelt-{}", std::process::id());
    let url = format!("amqp://guest:guest@127.0.0.1:5672/%2f?namespace={namespace}");
    let commands: [(&[&str], &str); 4] = [
        (&["dlq", "list"], "there is no queue"),
        (
            &["dlq", "show", "0190a0a0-0000-7000-8000-000000000000"],
            "there is no queue",
        ),
        (&["stats"], "there is no queue"),
        (
            &["tail", "cli.parcel", "--count", "1"],
            "there is no exchange",
        ),
    ];
    for (command, expected) in commands {
        let output = session::tidings(&url, command).await;
        assert!(!output.status.success(), "{command:?}");
        let error = session::stderr(&output);
        assert!(error.contains(expected), "{command:?}: {error}");
        assert!(error.contains(&namespace), "{command:?}: {error}");
        assert!(session::stdout(&output).is_empty(), "{command:?}");
    }
    let connection = lapin::Connection::connect(
        "amqp://guest:guest@127.0.0.1:5672/%2f",
        lapin::ConnectionProperties::default(),
    )
    .await
    .unwrap();
    let passive = QueueDeclareOptions::default().passive();
    let channel = connection.create_channel().await.unwrap();
    let queue = format!("{namespace}/dead-letters");
    let found = channel
        .queue_declare(queue.as_str().into(), passive, FieldTable::default())
        .await;
    assert!(found.is_err(), "{queue} was created");
    let channel = connection.create_channel().await.unwrap();
    let exchange = format!("{namespace}/event/cli.parcel");
    let found = channel
        .exchange_declare(
            exchange.as_str().into(),
            lapin::ExchangeKind::Direct,
            ExchangeDeclareOptions {
                passive: true,
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await;
    assert!(found.is_err(), "{exchange} was created");
    let _ = connection.close(200, "done".into()).await;
}

/// `dlq replay --all` and `discard --all` on the broker's bulk path: every letter acted on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_and_discard_all_on_rabbitmq() {
    session::bulk_on_broker(&format!(
        "amqp://guest:guest@127.0.0.1:5672/%2f?namespace=cli-bulk-{}",
        std::process::id()
    ))
    .await;
}
