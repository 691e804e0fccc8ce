//! The in-process transport: a bounded queue per subscriber, deliveries share the publisher's
//! `Arc<E>`, nothing is serialized on the way.

mod dead_letters;
pub(crate) mod idle;
mod queue;
mod rate;
pub(crate) mod worker;

use std::collections::HashMap;
use std::sync::Arc;

pub(crate) use dead_letters::DeadLetterStore;
pub(crate) use queue::SubscriberQueue;

use crate::subscriber::Subscriber;

pub(crate) struct MemoryTransport {
    /// Every subscriber's queue, in start-up order.
    pub(crate) queues: Vec<(Subscriber, Arc<SubscriberQueue>)>,
    /// Event name → the queues of its subscribers.
    routes: HashMap<&'static str, Vec<Arc<SubscriberQueue>>>,
    pub(crate) dead_letters: DeadLetterStore,
}

impl MemoryTransport {
    pub(crate) fn new(queues: Vec<(Subscriber, Arc<SubscriberQueue>)>) -> Self {
        let mut routes: HashMap<&'static str, Vec<Arc<SubscriberQueue>>> = HashMap::new();
        for (_, queue) in &queues {
            routes
                .entry(queue.event_name)
                .or_default()
                .push(Arc::clone(queue));
        }
        MemoryTransport {
            queues,
            routes,
            dead_letters: DeadLetterStore::default(),
        }
    }

    /// The queues subscribed to `event_name`.
    pub(crate) fn route(&self, event_name: &str) -> &[Arc<SubscriberQueue>] {
        self.routes.get(event_name).map_or(&[], Vec::as_slice)
    }
}
