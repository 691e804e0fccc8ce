#![deny(warnings)]

use serde::{Deserialize, Serialize};
use tidings::{Event, Key};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "orders.placed-v_2", version = 3)]
pub struct OrderPlaced {
    #[event(key)]
    pub order_id: u64,
    pub sku: String,
}

/// The options may be split over several attributes.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "accounts.opened")]
#[event(version = 0)]
struct AccountOpened {
    #[serde(rename = "owner")]
    #[event(key)]
    holder: Box<str>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
struct Adjusted {
    #[event(key)]
    delta: i32,
}

fn main() {
    assert_eq!(OrderPlaced::NAME, "orders.placed-v_2");
    assert_eq!(OrderPlaced::VERSION, 3);
    let order = OrderPlaced {
        order_id: 7,
        sku: "apple".into(),
    };
    assert_eq!(order.key(), Some(Key::Unsigned(7)));

    assert_eq!(AccountOpened::NAME, "accounts.opened");
    assert_eq!(AccountOpened::VERSION, 0);
    assert_eq!(
        AccountOpened {
            holder: "ada".into()
        }
        .key(),
        Some(Key::Str("ada"))
    );

    assert_eq!(Adjusted { delta: -3 }.key(), Some(Key::Signed(-3)));
}
