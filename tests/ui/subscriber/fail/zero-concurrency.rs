use serde::{Deserialize, Serialize};
use tidings::prelude::*;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct OrderPlaced {
    pub order_id: u64,
}

#[subscriber(concurrency = 0)]
async fn reserve_stock(_order: &OrderPlaced) {}

fn main() {}
