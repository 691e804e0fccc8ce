use serde::{Deserialize, Serialize};
use tidings::prelude::*;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct OrderPlaced {
    pub order_id: u64,
}

#[subscriber(backoff = "linear(100ms)")]
async fn reserve_stock(_order: &OrderPlaced) {}

fn main() {}
