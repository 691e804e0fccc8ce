use serde::{Deserialize, Serialize};
use tidings::prelude::*;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct OrderPlaced {
    pub order_id: u64,
}

#[subscriber(timeout = "2 seconds")]
async fn reserve_stock(_order: &OrderPlaced) {}

fn main() {}
