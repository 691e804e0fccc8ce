#![deny(warnings)]

use serde::{Deserialize, Serialize};
use tidings::Event;

/// No `#[event(..)]` at all: the name is the `snake_case` type name, the version 1, no key.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct OrderPlaced {
    pub order_id: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(version = 4)]
struct HTTPRequestSeen;

fn main() {
    assert_eq!(OrderPlaced::NAME, "order_placed");
    assert_eq!(OrderPlaced::VERSION, 1);
    assert_eq!(OrderPlaced { order_id: 7 }.key(), None);
    assert_eq!(HTTPRequestSeen::NAME, "http_request_seen");
    assert_eq!(HTTPRequestSeen::VERSION, 4);
}
