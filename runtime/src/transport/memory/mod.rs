//! The in-process engine: a bounded queue per subscriber, deliveries share the publisher's
//! `Arc<E>`, nothing is serialized on the way. It is the memory transport, and with a journal
//! (see `transport::durable`) the durable one.

mod dead_letters;
pub(crate) mod idle;
mod queue;
mod rate;
pub(crate) mod worker;

use std::any::TypeId;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

pub(crate) use dead_letters::DeadLetterStore;
pub(crate) use queue::SubscriberQueue;

use crate::event::Event;
use crate::subscriber::Subscriber;
use crate::transport::durable::Journal;

pub(crate) struct LocalEngine {
    /// Every subscriber's queue, in start-up order.
    pub(crate) queues: Vec<(Subscriber, Arc<SubscriberQueue>)>,
    /// Event name → the queues of its subscribers.
    by_name: HashMap<&'static str, Vec<Arc<SubscriberQueue>>>,
    /// The same, by the Rust type of each subscriber's event: a typed publish finds its queues
    /// without hashing the name.
    by_type: HashMap<TypeId, Vec<Arc<SubscriberQueue>>, BuildHasherDefault<TypeIdHasher>>,
    pub(crate) dead_letters: DeadLetterStore,
    /// The durable transport's journal (`file://`); `None` in memory.
    pub(crate) journal: Option<Journal>,
}

impl LocalEngine {
    pub(crate) fn new(
        queues: Vec<(Subscriber, Arc<SubscriberQueue>)>,
        journal: Option<Journal>,
    ) -> Self {
        let mut by_name: HashMap<&'static str, Vec<Arc<SubscriberQueue>>> = HashMap::new();
        for (_, queue) in &queues {
            by_name
                .entry(queue.event_name)
                .or_default()
                .push(Arc::clone(queue));
        }
        let by_type = queues
            .iter()
            .map(|(subscriber, queue)| {
                (
                    subscriber.handler.event_type(),
                    by_name[queue.event_name].clone(),
                )
            })
            .collect();
        LocalEngine {
            queues,
            by_name,
            by_type,
            dead_letters: DeadLetterStore::default(),
            journal,
        }
    }

    /// The queues subscribed to `event_name`.
    pub(crate) fn route(&self, event_name: &str) -> &[Arc<SubscriberQueue>] {
        self.by_name.get(event_name).map_or(&[], Vec::as_slice)
    }

    /// The queues subscribed to events of type `E` (or of any type with its name).
    pub(crate) fn route_typed<E: Event>(&self) -> &[Arc<SubscriberQueue>] {
        match self.by_type.get(&TypeId::of::<E>()) {
            Some(queues) => queues,
            None => self.route(E::NAME),
        }
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
