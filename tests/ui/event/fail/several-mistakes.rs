use serde::{Deserialize, Serialize};
use tidings::Event;

// Every mistake is reported at once, and the impl still exists (no error at the assert).
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "orders/placed", version = -1, retries = 3)]
struct OrderPlaced {
    #[event(key)]
    order_id: u64,
    #[event(key)]
    sku: String,
}

const _: &str = OrderPlaced::NAME;

fn main() {}
