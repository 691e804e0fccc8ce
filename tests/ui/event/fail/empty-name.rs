use serde::{Deserialize, Serialize};
use tidings::Event;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "")]
struct OrderPlaced {
    order_id: u64,
}

fn main() {}
