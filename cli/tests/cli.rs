//! The `tidings` CLI against the embedded transports: through a running bus's admin endpoint
//! (memory and file), and straight on a stopped application's `file://` store.

mod session;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use session::{Parcel, courier, json, stderr, stdout, tidings};
use tidings::Bus;

async fn bus_with_courier(url: &str, failing: &Arc<AtomicBool>) -> Bus {
    Bus::builder()
        .url(url)
        .manual()
        .subscribe(courier(Arc::clone(failing)))
        .build()
        .await
        .unwrap()
}

async fn admin_session(bus_url: &str) {
    let failing = Arc::new(AtomicBool::new(true));
    let bus = bus_with_courier(bus_url, &failing).await;
    let admin = tidings::admin::serve(bus.clone(), "127.0.0.1:0")
        .await
        .unwrap();
    let url = format!("http://{}", admin.local_addr());
    session::dead_letters_and_tail(&bus, &failing, &url).await;

    // Three parcels failed twice each (3 retried, 3 dead-lettered), one was replayed and
    // delivered, then two more were delivered while the tail watched.
    let stats = json(&url, &["stats", "--json"]).await;
    assert_eq!(
        stats,
        serde_json::json!([{
            "group": "depot", "name": "courier", "event": "cli.parcel",
            "queued": 0, "in_flight": 0, "handled": 3, "retried": 3, "dead_lettered": 3,
            "dead_letter_store_failures": 0
        }])
    );
    let topology = json(&url, &["topology", "--json"]).await;
    let subscribers = topology["subscribers"].as_array().unwrap();
    assert_eq!(subscribers.len(), 1, "{topology}");
    assert_eq!(subscribers[0]["name"], "courier");
    assert_eq!(subscribers[0]["retries"], 1);
    let document = json(&url, &["topology", "--asyncapi"]).await;
    assert_eq!(document["asyncapi"], "3.0.0");
    assert!(
        document["channels"].to_string().contains("cli.parcel"),
        "{document}"
    );
    let table = stdout(&tidings(&url, &["topology"]).await);
    assert!(table.contains("courier"), "{table}");

    admin.stop().await;
    bus.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_through_the_admin_endpoint_of_a_memory_bus() {
    admin_session("memory://").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_through_the_admin_endpoint_of_a_durable_bus() {
    let dir = tempfile::tempdir().unwrap();
    admin_session(&format!("file://{}", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_applications_store_is_operated_directly() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let failing = Arc::new(AtomicBool::new(true));
    let bus = bus_with_courier(&url, &failing).await;
    for n in 1..=3 {
        bus.publish(Parcel { n }).await.unwrap();
    }
    bus.wait_idle().await;

    // While the application runs, it holds the store: the CLI says where to go instead.
    let held = tidings(&url, &["dlq", "list"]).await;
    assert!(!held.status.success());
    assert!(
        stderr(&held).contains("admin endpoint"),
        "{}",
        stderr(&held)
    );
    bus.shutdown().await.unwrap();

    let listed = json(&url, &["dlq", "list", "--json"]).await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3);
    let id = |n: u64| session::id_of(listed, n);
    let topology = tidings(&url, &["topology"]).await;
    assert!(
        stderr(&topology).contains("ask the application's admin endpoint"),
        "{}",
        stderr(&topology)
    );
    let stats = tidings(&url, &["stats"]).await;
    let stats = stdout(&stats);
    assert!(stats.contains("depot"), "{stats}");
    assert!(
        stats.contains("counted by the processes that run the subscribers"),
        "{stats}"
    );

    let replayed = tidings(&url, &["dlq", "replay", &id(1)]).await;
    assert_eq!(
        stdout(&replayed).trim(),
        "replayed 1 of 1 dead letter(s)",
        "{}",
        stderr(&replayed)
    );
    let discarded = tidings(&url, &["dlq", "discard", &id(2)]).await;
    assert_eq!(stdout(&discarded).trim(), "discarded 1 of 1 dead letter(s)");

    // The application starts again with the van fixed: the replayed parcel is delivered, the
    // discarded one is gone, the third is still a dead letter.
    failing.store(false, std::sync::atomic::Ordering::SeqCst);
    let bus = bus_with_courier(&url, &failing).await;
    bus.wait_idle().await;
    let stats = bus.stats();
    assert_eq!(stats.subscriber("courier").unwrap().handled, 1);
    let left = bus.dead_letters().list().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id.to_string(), id(3));
    bus.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_memory_url_is_refused_with_what_to_do() {
    let output = tidings("memory://", &["dlq", "list"]).await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("serve that bus's admin endpoint"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn an_unreachable_admin_endpoint_is_reported() {
    // Bind and drop a listener, so the port is free and nothing answers there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = tidings(&format!("http://127.0.0.1:{port}"), &["stats"]).await;
    assert!(!output.status.success());
    let error = stderr(&output);
    assert!(error.contains("cannot reach the admin endpoint"), "{error}");
    assert!(error.contains("check that the application runs"), "{error}");
}

/// Whatever the command and however it fails, what the CLI prints never shows a password or
/// token of the URL it was given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_prints_a_password_or_token() {
    let urls = [
        "nats://user:s3cret@127.0.0.1:1?namespace=cli",
        "nats://s3cret@127.0.0.1:1",
        "amqp://guest:s3cret@127.0.0.1:1/%2f",
        "http://admin:s3cret@127.0.0.1:1",
        "memory://orders?token=s3cret",
        "redis://:s3cret@127.0.0.1:1",
    ];
    let commands: [&[&str]; 4] = [
        &["dlq", "list"],
        &["stats"],
        &["tail", "cli.parcel", "--count", "1"],
        &["topology"],
    ];
    for url in urls {
        for command in commands {
            // The admin endpoint's token too, wherever it goes.
            let command: Vec<&str> = ["--token", "s3cret-token-0123456789"]
                .into_iter()
                .chain(command.iter().copied())
                .collect();
            let output = tidings(url, &command).await;
            let printed = format!("{}{}", stdout(&output), stderr(&output));
            assert!(!output.status.success(), "{url} {command:?}: {printed}");
            assert!(
                !printed.contains("s3cret"),
                "{url} {command:?} printed its secret: {printed}"
            );
        }
    }
}

/// The reading commands on a store that does not exist: an error naming the path, and no
/// directory made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_a_missing_store_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("misspelt");
    let url = format!("file://{}", missing.display());
    let commands: [&[&str]; 4] = [
        &["dlq", "list"],
        &["dlq", "show", "0190a0a0-0000-7000-8000-000000000000"],
        &["stats"],
        &["tail", "cli.parcel", "--count", "1"],
    ];
    for command in commands {
        let output = tidings(&url, command).await;
        assert!(!output.status.success(), "{command:?}");
        let error = stderr(&output);
        assert!(
            error.contains("there is no store at"),
            "{command:?}: {error}"
        );
        assert!(error.contains("misspelt"), "{command:?}: {error}");
        assert!(stdout(&output).is_empty(), "{command:?}");
        assert!(
            !missing.exists(),
            "{command:?} created {}",
            missing.display()
        );
    }
    // A directory that is not a store is not made into one either.
    let listed = tidings(
        &format!("file://{}", dir.path().display()),
        &["dlq", "list"],
    )
    .await;
    assert!(!listed.status.success());
    assert!(
        stderr(&listed).contains("is not a tidings store"),
        "{}",
        stderr(&listed)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
