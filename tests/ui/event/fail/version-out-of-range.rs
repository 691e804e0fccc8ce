use serde::{Deserialize, Serialize};
use tidings::Event;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(version = 4294967296)]
struct OrderPlaced {
    order_id: u64,
}

fn main() {}
