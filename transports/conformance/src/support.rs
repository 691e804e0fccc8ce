//! What the cases share, public so that a transport's own tests can use the same: a log that
//! handlers append to, and the two events the suite publishes.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tidings::Event;

/// A thread-safe list that handlers append to and tests read back.
#[derive(Debug)]
pub struct Log<T>(Arc<Mutex<Vec<T>>>);

impl<T> Clone for Log<T> {
    fn clone(&self) -> Self {
        Log(Arc::clone(&self.0))
    }
}

impl<T> Default for Log<T> {
    fn default() -> Self {
        Log(Arc::default())
    }
}

impl<T: Clone> Log<T> {
    pub fn push(&self, item: T) {
        self.0.lock().unwrap().push(item);
    }

    pub fn items(&self) -> Vec<T> {
        self.0.lock().unwrap().clone()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An event keyed by `key`, numbered by `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Event)]
#[event(name = "test.ping")]
pub struct Ping {
    #[event(key)]
    pub key: String,
    pub seq: u32,
}

impl Ping {
    pub fn new(key: &str, seq: u32) -> Self {
        Ping {
            key: key.to_owned(),
            seq,
        }
    }
}

/// A second event type, to check routing by type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Event)]
#[event(name = "test.pong", version = 2)]
pub struct Pong {
    pub seq: u32,
}
