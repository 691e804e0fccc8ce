use serde::{Deserialize, Serialize};
use tidings::prelude::*;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct OrderPlaced {
    pub order_id: u64,
}

pub struct StockDb;

#[subscriber]
async fn reserve_stock(_order: &OrderPlaced, State(_db): State<StockDb>) {}

fn main() {}
