use serde::{Deserialize, Serialize};
use tidings::Event;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum PaymentOutcome {
    Captured {
        #[event(key)]
        payment_id: u64,
    },
    Declined,
}

fn main() {}
