use serde::{Deserialize, Serialize};
use tidings::prelude::*;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct OrderPlaced {
    pub order_id: u64,
}

// Every mistake is reported at once, and the function still exists (calling it is no error).
#[subscriber(retries = -1, timeout = "soon", concurrency = 0, colour = "blue")]
fn reserve_stock(_order: &OrderPlaced, _quantity: u32) {}

fn _calls_it() {
    reserve_stock(&OrderPlaced { order_id: 1 }, 2);
}

fn main() {}
