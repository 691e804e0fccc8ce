//! Building (validation, state) and shutting down (drain, deadline, intake closed).

use std::sync::Arc;
use std::time::Duration;

use tidings::{Bus, Context, Error, State, Subscriber};
use tidings_tests::{Log, Ping, Pong, bus_with};

#[derive(Clone)]
struct Db(Log<u32>);

#[tokio::test]
async fn state_reaches_handlers() {
    let db = Db(Log::default());
    let bus = Bus::builder()
        .manual()
        .state(db.clone())
        .state(42_u64)
        .subscribe(Subscriber::new(
            "writer",
            |ping: Arc<Ping>, State(db): State<Db>, State(offset): State<u64>| async move {
                db.0.push(ping.seq + u32::try_from(offset).unwrap());
            },
        ))
        .build()
        .await
        .unwrap();
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;
    assert_eq!(db.0.items(), vec![43]);
}

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
    let this_file = "tests/runtime/lifecycle.rs";
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
            && problems[1].contains("takes `State<runtime::lifecycle::Db>`"),
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
        .url("nats://127.0.0.1:4222")
        .build()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`nats://` transport is not available yet"),
        "{error}"
    );
    Bus::builder()
        .url("memory://")
        .manual()
        .build()
        .await
        .unwrap();
}

#[tokio::test]
async fn groups_select_which_subscribers_run() {
    let (stock, payment) = (Log::default(), Log::default());
    let counter = |log: Log<u32>| {
        move |ping: Arc<Ping>| {
            log.push(ping.seq);
            std::future::ready(())
        }
    };
    let bus = Bus::builder()
        .manual()
        .subscribe(Subscriber::new("reserve", counter(stock.clone())).group("stock"))
        .subscribe(Subscriber::new("capture", counter(payment.clone())).group("payment"))
        .groups(["stock"])
        .build()
        .await
        .unwrap();
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;
    assert_eq!((stock.len(), payment.len()), (1, 0));
    assert_eq!(bus.stats().subscribers.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn shutdown_drains_accepted_work_then_refuses_publishes() {
    let handled = Log::default();
    let handler = {
        let handled = handled.clone();
        move |ping: Arc<Ping>, ctx: Context| {
            let handled = handled.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if ping.seq < 3 {
                    // Follow-ups published while draining still count as accepted work.
                    ctx.publish(Ping::new("follow-up", ping.seq + 100))
                        .await
                        .unwrap();
                }
                handled.push(ping.seq);
            }
        }
    };
    let bus = bus_with([Subscriber::new("slow", handler).concurrency(2)]).await;
    for seq in 0..10 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    bus.shutdown().await.unwrap();

    assert_eq!(
        handled.len(),
        13,
        "all 10 accepted events and their 3 follow-ups were handled"
    );
    assert!(matches!(
        bus.publish(Ping::new("k", 99)).await,
        Err(Error::ShutDown)
    ));
    bus.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn shutdown_reports_what_it_could_not_finish_by_the_deadline() {
    let handler = |_: Arc<Ping>| tokio::time::sleep(Duration::from_secs(3600));
    let bus = Bus::builder()
        .manual()
        .shutdown_timeout(Duration::from_secs(5))
        .subscribe(
            Subscriber::new("stuck", handler)
                .concurrency(1)
                .timeout(Duration::from_secs(7200)),
        )
        .build()
        .await
        .unwrap();
    for seq in 0..3 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    let error = bus.shutdown().await.unwrap_err();
    assert!(
        matches!(error, Error::ShutdownTimeout { unfinished: 3 }),
        "{error}"
    );
}
