use serde::{Deserialize, Serialize};
use tidings::Event;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
struct Created<T> {
    item: T,
}

fn main() {}
