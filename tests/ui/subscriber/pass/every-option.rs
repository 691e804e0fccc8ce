#![deny(warnings)]

use serde::{Deserialize, Serialize};
use tidings::__private::{Registration, inventory};
use tidings::prelude::*;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "orders.placed")]
pub struct OrderPlaced {
    #[event(key)]
    pub order_id: u64,
}

#[derive(Clone)]
struct StockDb;

#[subscriber(
    name = "reserve",
    group = "stock",
    retries = 4,
    backoff = "exponential(50ms, 5s)",
    timeout = "2s",
    concurrency = 8,
    ordered,
    rate = "100/s"
)]
async fn reserve_stock(
    _event: &OrderPlaced,
    _ctx: &Context,
    State(_db): State<StockDb>,
) -> Result<(), HandlerError> {
    Ok(())
}

#[subscriber(
    retries = 0,
    backoff = "fixed(1500ms)",
    timeout = "250us",
    ordered = false,
    rate = "10/250ms"
)]
async fn odd_units(_event: &OrderPlaced) {}

#[subscriber(
    backoff = "none",
    timeout = "1h",
    rate = "5/m",
    concurrency = 1,
    ordered = true
)]
async fn no_backoff(_event: &OrderPlaced) {}

/// The options as the runtime holds them, read through the registration the macro submitted.
fn options_of(name: &str) -> String {
    let subscriber = inventory::iter::<Registration>
        .into_iter()
        .map(|registration| (registration.make)())
        .find(|subscriber| subscriber.name() == name)
        .unwrap_or_else(|| panic!("`{name}` is not registered"));
    assert_eq!(subscriber.event_name(), "orders.placed");
    let debug = format!("{subscriber:?}");
    let start = debug.find("options: ").expect("options in Debug");
    let end = debug.find(", location").expect("location in Debug");
    debug[start..end].to_owned()
}

fn main() {
    assert_eq!(
        options_of("reserve"),
        "options: Options { group: Some(\"stock\"), retries: 4, backoff: Exponential { initial: 50ms, max: 5s }, \
         timeout: 2s, concurrency: 8, ordered: true, rate: Some(Rate { count: 100, per: 1s }) }"
    );
    assert_eq!(
        options_of("odd_units"),
        "options: Options { group: None, retries: 0, backoff: Fixed(1.5s), timeout: 250µs, concurrency: 8, \
         ordered: false, rate: Some(Rate { count: 10, per: 250ms }) }"
    );
    assert_eq!(
        options_of("no_backoff"),
        "options: Options { group: None, retries: 3, backoff: Fixed(0ns), timeout: 3600s, concurrency: 1, \
         ordered: true, rate: Some(Rate { count: 5, per: 60s }) }"
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let bus = Bus::builder().state(StockDb).build().await.unwrap();
        bus.publish(OrderPlaced { order_id: 1 }).await.unwrap();
        bus.wait_idle().await;
        let stats = bus.stats();
        let reserve = stats.subscriber("reserve").unwrap();
        assert_eq!((reserve.group.as_str(), reserve.handled), ("stock", 1));
        bus.shutdown().await.unwrap();
    });
}
