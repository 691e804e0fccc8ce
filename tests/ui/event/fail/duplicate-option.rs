use serde::{Deserialize, Serialize};
use tidings::Event;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "orders.placed", version = 1, name = "orders.created")]
struct OrderPlaced {
    order_id: u64,
}

fn main() {}
