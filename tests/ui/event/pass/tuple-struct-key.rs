#![deny(warnings)]

use serde::{Deserialize, Serialize};
use tidings::{Event, Key};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "users.renamed")]
struct UserRenamed(u32, #[event(key)] String);

fn main() {
    assert_eq!(UserRenamed(1, "ada".into()).key(), Some(Key::Str("ada")));
}
