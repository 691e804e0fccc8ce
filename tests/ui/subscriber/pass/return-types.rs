#![deny(warnings)]

use serde::{Deserialize, Serialize};
use tidings::prelude::*;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct Ping;

#[subscriber]
async fn returns_nothing(_: &Ping) {}

#[subscriber]
#[allow(clippy::unused_unit)]
async fn returns_unit(_: &Ping) -> () {}

#[subscriber]
async fn returns_handler_error(_: &Ping) -> Result<(), HandlerError> {
    Ok(())
}

/// Any `std::error::Error` works, and its failure is retried then dead-lettered.
#[subscriber(retries = 1, backoff = "none")]
async fn returns_io_error(_: &Ping) -> Result<(), std::io::Error> {
    Err(std::io::Error::other("disk on fire"))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let bus = Bus::builder().build().await.unwrap();
        bus.publish(Ping).await.unwrap();
        bus.wait_idle().await;
        let stats = bus.stats();
        for name in ["returns_nothing", "returns_unit", "returns_handler_error"] {
            assert_eq!(stats.subscriber(name).unwrap().handled, 1, "{name}");
        }
        let failing = stats.subscriber("returns_io_error").unwrap();
        assert_eq!(
            (failing.handled, failing.retried, failing.dead_lettered),
            (0, 1, 1)
        );
        let dead = bus.dead_letters().list().await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].error, "disk on fire");
        bus.shutdown().await.unwrap();
    });
}
