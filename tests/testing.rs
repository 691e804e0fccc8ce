//! `tidings::testing`: virtual time, the records of publishes and attempts, and the assertions'
//! failure messages, on `memory://` and on `file://`.
//!
//! A little shop: `reserve_stock` answers an order with `StockReserved`, which `charge_card`
//! (flaky: it succeeds on its third attempt) answers with `PaymentCaptured`; `notify_courier`
//! never finishes and times out; `sync_erp` always fails, with backoffs summing to hours.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tempfile::TempDir;
use tidings::prelude::*;
use tidings::testing::{Counts, TestBus, TestBusBuilder};
use tidings::{Envelope, Error, Subscriber};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Event)]
struct OrderPlaced {
    order_id: u64,
    sku: String,
    qty: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Event)]
struct StockReserved {
    order_id: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Event)]
struct PaymentCaptured {
    order_id: u64,
}

/// Units on hand per SKU.
#[derive(Debug, Clone, Default)]
struct StockDb(Arc<HashMap<String, u32>>);

impl StockDb {
    fn empty() -> Self {
        StockDb::default()
    }

    fn with(sku: &str, units: u32) -> Self {
        StockDb(Arc::new(HashMap::from([(sku.to_owned(), units)])))
    }
}

fn order(order_id: u64, sku: &str, qty: u32) -> OrderPlaced {
    OrderPlaced {
        order_id,
        sku: sku.to_owned(),
        qty,
    }
}

/// An unknown SKU can never succeed (permanent); too few units may be restocked (retried).
#[subscriber(retries = 4, backoff = "exponential(1s, 1m)")]
async fn reserve_stock(
    order: &OrderPlaced,
    ctx: &Context,
    State(db): State<StockDb>,
) -> Result<(), HandlerError> {
    match db.0.get(&order.sku) {
        None => Err(HandlerError::permanent_msg(format!(
            "unknown sku `{}`",
            order.sku
        ))),
        Some(&units) if units < order.qty => {
            Err(HandlerError::msg(format!("out of stock: {}", order.sku)))
        }
        Some(_) => {
            ctx.publish(StockReserved {
                order_id: order.order_id,
            })
            .await?;
            Ok(())
        }
    }
}

#[subscriber(retries = 3, backoff = "exponential(100ms, 10s)")]
async fn charge_card(reserved: &StockReserved, ctx: &Context) -> Result<(), HandlerError> {
    if ctx.attempt() < 3 {
        return Err(HandlerError::msg("the gateway is busy"));
    }
    ctx.publish(PaymentCaptured {
        order_id: reserved.order_id,
    })
    .await?;
    Ok(())
}

#[subscriber(retries = 2, backoff = "fixed(30s)", timeout = "2s")]
async fn notify_courier(_: &StockReserved) {
    std::future::pending::<()>().await;
}

#[subscriber(retries = 6, backoff = "exponential(10m, 2h)")]
async fn sync_erp(_: &OrderPlaced) -> Result<(), HandlerError> {
    Err(HandlerError::msg("the ERP is offline"))
}

/// A handler test in ten lines, as the README shows one.
#[tokio::test]
async fn an_unknown_sku_is_dead_lettered_at_once() {
    let t = TestBus::builder()
        .subscribe_registered("reserve_stock")
        .state(StockDb::empty())
        .build()
        .await
        .unwrap();
    let id = t.publish(order(1, "X", 1)).await.unwrap();
    t.settle().await; // runs until idle, advancing virtual time
    t.assert_dead_lettered("reserve_stock", id, 1); // unknown sku: permanent
    assert_eq!(t.published::<StockReserved>(), vec![]);
}

/// Where a scenario runs: `memory://`, or `file://` in a directory of its own.
struct Transport {
    url: String,
    _dir: Option<TempDir>,
}

impl Transport {
    fn memory() -> Self {
        Transport {
            url: "memory://".to_owned(),
            _dir: None,
        }
    }

    fn durable() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Transport {
            url: format!("file://{}", dir.path().display()),
            _dir: Some(dir),
        }
    }

    fn test_bus(&self) -> TestBusBuilder {
        TestBus::builder().url(&self.url)
    }
}

/// Runs each scenario as two tests, `SCENARIO::memory` and `SCENARIO::durable`.
macro_rules! on_memory_and_disk {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn memory() {
                super::$scenario(&super::Transport::memory()).await;
            }

            #[tokio::test]
            async fn durable() {
                super::$scenario(&super::Transport::durable()).await;
            }
        }
    )*};
}

on_memory_and_disk!(
    retries_are_instant_and_exact_on_virtual_time,
    follow_ups_are_recorded_in_order_with_their_causation,
    timeouts_run_on_virtual_time,
    backoffs_summing_to_hours_finish,
);

async fn retries_are_instant_and_exact_on_virtual_time(transport: &Transport) {
    let t = transport
        .test_bus()
        .subscribe_registered("reserve_stock")
        .state(StockDb::with("apple", 1))
        .build()
        .await
        .unwrap();
    let too_many = t.publish(order(1, "apple", 5)).await.unwrap();
    t.settle().await;

    t.assert_dead_lettered("reserve_stock", too_many, 5);
    assert_eq!(t.attempts("reserve_stock", too_many), 5);
    let secs: Vec<u64> = t
        .delays("reserve_stock", too_many)
        .iter()
        .map(Duration::as_secs)
        .collect();
    assert_eq!(secs, [1, 2, 4, 8], "exponential(1s, 1m) without jitter");
    assert_eq!(t.elapsed(), Duration::from_secs(15));
    t.assert_counts(
        "reserve_stock",
        Counts {
            handled: 0,
            retried: 4,
            dead_lettered: 1,
        },
    );
    let letters = t.dead_letters().list().await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(
        (letters[0].attempts, letters[0].error.as_str()),
        (5, "out of stock: apple")
    );
    assert_eq!(letters[0].envelope.id, too_many);
    t.assert_published(&[order(1, "apple", 5)]);
    t.assert_published::<StockReserved>(&[]);
    t.shutdown().await.unwrap();
}

async fn follow_ups_are_recorded_in_order_with_their_causation(transport: &Transport) {
    let t = transport
        .test_bus()
        .subscribe_registered("reserve_stock")
        .subscribe_registered("charge_card")
        .state(StockDb::with("apple", 10))
        .build()
        .await
        .unwrap();
    let first = t.publish(order(1, "apple", 2)).await.unwrap();
    let second = t.publish(order(2, "apple", 3)).await.unwrap();
    t.settle().await;

    t.assert_handled("reserve_stock", first, 1);
    t.assert_handled("reserve_stock", second, 1);
    let reserved = t.published_events::<StockReserved>();
    let order_ids: Vec<u64> = reserved.iter().map(|r| r.event.order_id).collect();
    assert_eq!(order_ids, [1, 2], "in publish order");
    for (reservation, cause) in reserved.iter().zip([first, second]) {
        assert_eq!(reservation.causation_id, Some(cause));
        assert_eq!(reservation.correlation_id, cause);
        // Two steps down the chain: caused by the reservation, correlated with the order.
        let captured = t.published_events::<PaymentCaptured>();
        let payment = captured
            .iter()
            .find(|p| p.event.order_id == reservation.event.order_id)
            .expect("the payment of every reserved order is captured");
        assert_eq!(payment.causation_id, Some(reservation.id));
        assert_eq!(payment.correlation_id, cause);
        t.assert_handled("charge_card", reservation.id, 3);
        assert_eq!(
            t.delays("charge_card", reservation.id),
            [Duration::from_millis(100), Duration::from_millis(200)]
        );
    }
    assert_eq!(
        t.follow_ups::<StockReserved>(first),
        [StockReserved { order_id: 1 }]
    );
    assert_eq!(
        t.follow_ups::<StockReserved>(second),
        [StockReserved { order_id: 2 }]
    );
    assert_eq!(t.follow_ups::<PaymentCaptured>(first), []);
    t.assert_published(&[
        PaymentCaptured { order_id: 1 },
        PaymentCaptured { order_id: 2 },
    ]);
    t.assert_counts(
        "charge_card",
        Counts {
            handled: 2,
            retried: 4,
            dead_lettered: 0,
        },
    );
    // Both charges retried side by side: 100ms + 200ms of virtual time in all.
    assert_eq!(t.elapsed(), Duration::from_millis(300));
    t.shutdown().await.unwrap();
}

async fn timeouts_run_on_virtual_time(transport: &Transport) {
    let t = transport
        .test_bus()
        .subscribe_registered("notify_courier")
        .build()
        .await
        .unwrap();
    let id = t.publish(StockReserved { order_id: 7 }).await.unwrap();
    t.settle().await;

    t.assert_dead_lettered("notify_courier", id, 3);
    // Three attempts of 2s each, 30s apart.
    assert_eq!(t.elapsed(), Duration::from_secs(2 + 30 + 2 + 30 + 2));
    let letters = t.dead_letters().list().await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].error, "attempt timed out after 2s");
    t.shutdown().await.unwrap();
}

async fn backoffs_summing_to_hours_finish(transport: &Transport) {
    let t = transport
        .test_bus()
        .subscribe_registered("sync_erp")
        .build()
        .await
        .unwrap();
    let id = t.publish(order(3, "pear", 1)).await.unwrap();
    t.settle().await;

    t.assert_dead_lettered("sync_erp", id, 7);
    let minutes: Vec<u64> = t
        .delays("sync_erp", id)
        .iter()
        .map(|delay| delay.as_secs() / 60)
        .collect();
    assert_eq!(minutes, [10, 20, 40, 80, 120, 120]);
    assert_eq!(t.elapsed(), Duration::from_secs(390 * 60), "6h30m");
    t.shutdown().await.unwrap();
}

/// The delays and the virtual time one run of the flaky chain takes.
async fn flaky_chain() -> (Vec<Duration>, Duration) {
    let t = TestBus::builder()
        .subscribe_registered("reserve_stock")
        .subscribe_registered("charge_card")
        .subscribe_registered("sync_erp")
        .state(StockDb::with("apple", 1))
        .build()
        .await
        .unwrap();
    let placed = t.publish(order(1, "apple", 1)).await.unwrap();
    let refused = t.publish(order(2, "apple", 9)).await.unwrap();
    t.settle().await;
    let reserved = t.published_events::<StockReserved>()[0].id;
    let mut delays = t.delays("reserve_stock", refused);
    delays.extend(t.delays("charge_card", reserved));
    delays.extend(t.delays("sync_erp", placed));
    (delays, t.elapsed())
}

#[tokio::test(start_paused = true)]
async fn two_runs_wait_the_same_delays() {
    let first = flaky_chain().await;
    let second = flaky_chain().await;
    assert_eq!(first, second);
    let secs = |s: &[u64]| {
        s.iter()
            .map(|&s| Duration::from_secs(s))
            .collect::<Vec<_>>()
    };
    let mut expected = secs(&[1, 2, 4, 8]);
    expected.extend([Duration::from_millis(100), Duration::from_millis(200)]);
    expected.extend(secs(&[600, 1200, 2400, 4800, 7200, 7200]));
    assert_eq!(first.0, expected);
    assert_eq!(
        first.1,
        Duration::from_secs(390 * 60),
        "sync_erp takes longest"
    );
}

#[tokio::test]
async fn a_test_bus_runs_only_the_subscribers_it_names() {
    let t = TestBus::builder()
        .subscribe_registered("charge_card")
        .build()
        .await
        .unwrap();
    t.publish(order(1, "apple", 1)).await.unwrap();
    t.settle().await;
    let names: Vec<String> = t.stats().subscribers.into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["charge_card"]);
    // Published all the same, though nothing here subscribes to it.
    t.assert_published(&[order(1, "apple", 1)]);

    let all = TestBus::builder()
        .automatic()
        .state(StockDb::empty())
        .build()
        .await
        .unwrap();
    let mut names: Vec<String> = all
        .stats()
        .subscribers
        .into_iter()
        .map(|s| s.name)
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["charge_card", "notify_courier", "reserve_stock", "sync_erp"]
    );
}

#[tokio::test]
async fn envelopes_are_recorded_and_read_back_typed() {
    let t = TestBus::builder().build().await.unwrap();
    let data = serde_json::to_vec(&order(4, "fig", 2)).unwrap();
    let id = t
        .publish_envelope(Envelope::new(OrderPlaced::NAME, data))
        .await
        .unwrap();
    let undecodable = Envelope::new(OrderPlaced::NAME, b"{\"order_id\": \"four\"}".to_vec());
    t.publish_envelope(undecodable).await.unwrap();
    let published = t.published_events::<OrderPlaced>();
    assert_eq!(published.len(), 1, "the undecodable envelope is left out");
    assert_eq!(
        (published[0].id, &published[0].event),
        (id, &order(4, "fig", 2))
    );
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
struct Echo;

#[tokio::test]
#[should_panic(
    expected = "the bus did not settle within 30days of virtual time; unfinished: \
                           `echo_daily`"
)]
async fn settle_gives_up_on_a_bus_that_never_quiets() {
    // Each echo takes a day and starts the next: the chain never ends.
    let echo_daily = Subscriber::new("echo_daily", |_: Echo, ctx: Context| async move {
        tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
        ctx.publish(Echo).await.unwrap();
    })
    .timeout(Duration::from_secs(2 * 24 * 3600));
    let t = TestBus::builder()
        .subscribe(echo_daily)
        .build()
        .await
        .unwrap();
    t.publish(Echo).await.unwrap();
    t.settle().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_thread_runtime_is_refused_with_advice() {
    let error = TestBus::builder().build().await.unwrap_err();
    assert!(matches!(error, Error::Build(_)), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("current-thread runtime")
            && message.contains("use `#[tokio::test]`")
            && message.contains("flavor = \"multi_thread\""),
        "{message}"
    );
}

#[tokio::test]
async fn a_broker_url_is_refused_with_advice() {
    let error = TestBus::builder()
        .url("nats://127.0.0.1:4222")
        .build()
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "unsupported transport URL `nats://127.0.0.1:4222`: a TestBus runs on `memory://` or \
         `file://PATH`: a broker times retries on its own clock, which virtual time cannot move; \
         test against a broker with `Bus::builder()` instead"
    );
}

/// The failure message of each assertion, on one refused order (`reserve_stock` dead-letters it
/// after 5 attempts) and one it handles at once.
mod failure_messages {
    use super::*;

    async fn one_refused_one_reserved() -> (TestBus, EventId, EventId) {
        let t = TestBus::builder()
            .subscribe_registered("reserve_stock")
            .state(StockDb::with("apple", 1))
            .build()
            .await
            .unwrap();
        let refused = t.publish(order(1, "apple", 2)).await.unwrap();
        let reserved = t.publish(order(2, "apple", 1)).await.unwrap();
        t.settle().await;
        (t, refused, reserved)
    }

    #[tokio::test]
    #[should_panic(
        expected = "expected exactly these `stock_reserved` events to be published:\n\
        [\n    StockReserved {\n        order_id: 1,\n    },\n]\n\
        but these were:\n[\n    StockReserved {\n        order_id: 2,\n    },\n]"
    )]
    async fn of_assert_published() {
        let (t, _, _) = one_refused_one_reserved().await;
        t.assert_published(&[StockReserved { order_id: 1 }]);
    }

    #[tokio::test]
    #[should_panic(expected = "on attempt 1, but it dead-lettered it after 5 attempts \
                               (last error: out of stock: apple)")]
    async fn of_assert_handled() {
        let (t, refused, _) = one_refused_one_reserved().await;
        t.assert_handled("reserve_stock", refused, 1);
    }

    #[tokio::test]
    #[should_panic(expected = "after 5 attempts, but it handled it on attempt 1")]
    async fn of_assert_dead_lettered_when_handled() {
        let (t, _, reserved) = one_refused_one_reserved().await;
        t.assert_dead_lettered("reserve_stock", reserved, 5);
    }

    #[tokio::test]
    #[should_panic(
        expected = "after 3 attempts, but it dead-lettered it after 5 attempts \
                               (last error: out of stock: apple)"
    )]
    async fn of_assert_dead_lettered_with_other_attempts() {
        let (t, refused, _) = one_refused_one_reserved().await;
        t.assert_dead_lettered("reserve_stock", refused, 3);
    }

    #[tokio::test]
    #[should_panic(expected = "after 1 attempt, but it never received it")]
    async fn of_assert_dead_lettered_when_never_received() {
        let (t, _, _) = one_refused_one_reserved().await;
        let elsewhere = t.publish(StockReserved { order_id: 9 }).await.unwrap();
        t.settle().await;
        t.assert_dead_lettered("reserve_stock", elsewhere, 1);
    }

    #[tokio::test]
    #[should_panic(
        expected = "expected subscriber `reserve_stock` to have handled 2, retried 0, \
                               dead-lettered 0, but it has handled 1, retried 4, dead-lettered 1"
    )]
    async fn of_assert_counts() {
        let (t, _, _) = one_refused_one_reserved().await;
        t.assert_counts(
            "reserve_stock",
            Counts {
                handled: 2,
                retried: 0,
                dead_lettered: 0,
            },
        );
    }

    #[tokio::test]
    #[should_panic(expected = "this TestBus runs no subscriber `reserve_stok` (it runs: \
                               `reserve_stock`); add it with \
                               `.subscribe_registered(\"reserve_stok\")` or `.subscribe(..)`")]
    async fn of_a_misspelt_subscriber() {
        let (t, refused, _) = one_refused_one_reserved().await;
        t.attempts("reserve_stok", refused);
    }
}
