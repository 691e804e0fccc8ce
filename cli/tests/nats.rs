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

/// The reading commands on a namespace no bus ran on: an error naming it, and no stream made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_namespace_is_an_error_and_creates_nothing() {
    let namespace = format!("cli-misspelt-{}", std::process::id());
    let url = format!("nats://127.0.0.1:4222?namespace={namespace}");
    let commands: [&[&str]; 4] = [
        &["dlq", "list"],
        &["dlq", "show", "0190a0a0-0000-7000-8000-000000000000"],
        &["stats"],
        &["tail", "cli.parcel", "--count", "1"],
    ];
    for command in commands {
        let output = session::tidings(&url, command).await;
        assert!(!output.status.success(), "{command:?}");
        let error = session::stderr(&output);
        assert!(
            error.contains(&format!("there is no namespace `{namespace}`")),
            "{command:?}: {error}"
        );
        assert!(session::stdout(&output).is_empty(), "{command:?}");
    }
    let client = async_nats::connect("127.0.0.1:4222").await.unwrap();
    let js = async_nats::jetstream::new(client);
    for stream in ["events", "dead", "parked"] {
        let name = format!("{namespace}-{stream}");
        assert!(js.get_stream(&name).await.is_err(), "{name} was created");
    }
}

/// `dlq replay --all` and `discard --all` on the broker's bulk path: every letter acted on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_and_discard_all_on_nats() {
    session::bulk_on_broker(&format!(
        "nats://127.0.0.1:4222?namespace=cli-bulk-{}",
        std::process::id()
    ))
    .await;
}
