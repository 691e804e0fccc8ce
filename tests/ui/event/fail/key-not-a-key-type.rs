use serde::{Deserialize, Serialize};
use tidings::Event;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
struct BlobStored {
    #[event(key)]
    digest: Vec<u8>,
}

fn main() {}
