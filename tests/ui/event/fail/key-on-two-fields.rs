use serde::{Deserialize, Serialize};
use tidings::Event;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
struct OrderPlaced {
    #[event(key)]
    order_id: u64,
    #[event(key)]
    customer: String,
}

fn main() {}
