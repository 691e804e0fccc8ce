#![deny(warnings)]

use serde::{Deserialize, Serialize};
use tidings::Event;

/// Enums are events too; they have no key.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "payments.outcome", version = 2)]
pub enum PaymentOutcome {
    Captured { amount: u64 },
    Declined(String),
    Cancelled,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum ShipmentState {
    Packed,
}

fn main() {
    assert_eq!(PaymentOutcome::NAME, "payments.outcome");
    assert_eq!(PaymentOutcome::VERSION, 2);
    for outcome in [
        PaymentOutcome::Captured { amount: 1 },
        PaymentOutcome::Declined("no".into()),
        PaymentOutcome::Cancelled,
    ] {
        assert_eq!(outcome.key(), None);
    }
    assert_eq!(ShipmentState::NAME, "shipment_state");
    assert_eq!(ShipmentState::Packed.key(), None);
}
