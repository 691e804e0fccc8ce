use serde::{Deserialize, Serialize};
use tidings::Event;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
struct OrderPlaced {
    #[event(partition)]
    order_id: u64,
}

fn main() {}
