//! `build()`: every problem reported at once, with what to do; URLs and groups checked.

use std::sync::Arc;

use tidings::{Bus, Error, State, Subscriber};
use tidings_tests::{Ping, Pong};

#[derive(Clone)]
struct Db;

#[tokio::test]
async fn build_lists_every_problem() {
    let needs_db = |_: Arc<Ping>, _: State<Db>| async {};
    let error = Bus::builder()
        .manual()
        .subscribe(Subscriber::new("twin", |_: Arc<Ping>| async {}))
        .subscribe(Subscriber::new("twin", |_: Pong| async {}))
        .subscribe(Subscriber::new("needy", needs_db))
        .subscribe(Subscriber::new("idle", |_: Pong| async {}).concurrency(0))
        .build()
        .await
        .unwrap_err();
    let Error::Build(problems) = &error else {
        panic!("expected a build error, got {error}")
    };
    assert_eq!(problems.len(), 3, "{problems:#?}");
    let this_file = "tests/builder.rs";
    assert!(
        problems[0].starts_with("two subscribers are named `twin`: "),
        "{}",
        problems[0]
    );
    assert_eq!(
        problems[0].matches(this_file).count(),
        2,
        "both locations: {}",
        problems[0]
    );
    assert!(
        problems[1].contains("subscriber `needy`")
            && problems[1].contains("takes `State<builder::Db>`"),
        "{}",
        problems[1]
    );
    assert!(
        problems[2].contains("subscriber `idle`") && problems[2].contains("concurrency 0"),
        "{}",
        problems[2]
    );
    assert!(
        error
            .to_string()
            .starts_with("the bus cannot start:\n  - two subscribers")
    );
}

#[tokio::test]
async fn unknown_groups_and_urls_are_refused() {
    let error = Bus::builder()
        .manual()
        .subscribe(Subscriber::new("a", |_: Pong| async {}).group("stock"))
        .groups(["stok"])
        .build()
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the bus cannot start:\n  - no subscriber is in group `stok`; groups: `stock`"
    );

    let error = Bus::builder()
        .url("kafka://broker:9092")
        .build()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::UnsupportedUrl { .. }), "{error}");
    let error = Bus::builder()
        .url("redis://127.0.0.1:6379")
        .build()
        .await
        .unwrap_err();
    // An unknown scheme lists every scheme this build knows, and the feature of those it left out.
    assert_eq!(
        error.to_string(),
        "unsupported transport URL `redis://127.0.0.1:6379`: expected one of `memory://`, \
         `file://PATH`, `amqp://` (feature `amqp`), `nats://` (feature `nats`)"
    );
    // A transport this build leaves out says which feature brings it.
    let error = Bus::builder()
        .url("nats://127.0.0.1:4222")
        .build()
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("enable tidings' `nats` feature"),
        "{error}"
    );
    Bus::builder()
        .url("memory://")
        .manual()
        .build()
        .await
        .unwrap();
}
