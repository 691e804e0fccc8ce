use serde::{Deserialize, Serialize};
use tidings::prelude::*;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct OrderPlaced {
    pub order_id: u64,
}

struct Stock;

impl Stock {
    #[subscriber]
    async fn reserve(&self, _order: &OrderPlaced) {}
}

fn main() {}
