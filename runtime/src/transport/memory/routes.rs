//! Which queues an event goes to: by name, and by Rust type so that a typed publish finds its
//! queues without hashing the name.

use std::any::TypeId;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use super::queue::SubscriberQueue;

#[derive(Default)]
pub(crate) struct Routes {
    by_name: HashMap<&'static str, Vec<Arc<SubscriberQueue>>>,
    by_type: HashMap<TypeId, Vec<Arc<SubscriberQueue>>, BuildHasherDefault<TypeIdHasher>>,
}

impl Routes {
    pub(crate) fn new(queues: &[Arc<SubscriberQueue>]) -> Self {
        let mut by_name: HashMap<&'static str, Vec<Arc<SubscriberQueue>>> = HashMap::new();
        for queue in queues {
            by_name
                .entry(queue.event_name)
                .or_default()
                .push(Arc::clone(queue));
        }
        let by_type = queues
            .iter()
            .map(|queue| (queue.event_type, by_name[queue.event_name].clone()))
            .collect();
        Routes { by_name, by_type }
    }

    /// The queues subscribed to `event_name`, found by `event_type` when there is one.
    pub(crate) fn to(
        &self,
        event_name: &str,
        event_type: Option<TypeId>,
    ) -> &[Arc<SubscriberQueue>] {
        if let Some(queues) = event_type.and_then(|t| self.by_type.get(&t)) {
            return queues;
        }
        self.by_name.get(event_name).map_or(&[], Vec::as_slice)
    }
}

/// `TypeId`s are hashes already; use their bits as they are.
#[derive(Default)]
pub(crate) struct TypeIdHasher(u64);

impl Hasher for TypeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_ne_bytes(word);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = self.0.rotate_left(5) ^ n;
    }
}
