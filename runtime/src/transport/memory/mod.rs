//! The in-process engine: a bounded queue per subscriber, deliveries share the publisher's
//! `Arc<E>`, nothing is serialized on the way. It is the memory transport, and with a journal
//! (see `transport::durable`) the durable one.
//!
//! Bus instances that open the same `memory://NAME` or `file://PATH` in one process share one
//! engine (see `registry`): a subscriber run by several of them has one queue, whose work their
//! workers share.

mod consumer;
mod dead_letters;
mod idle;
mod queue;
#[cfg(feature = "durable")]
mod recovery;
mod registry;
mod routes;
mod transport;
mod unrouted;

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

pub(crate) use consumer::LocalConsumer;
pub(crate) use queue::SubscriberQueue;
#[cfg(feature = "durable")]
pub(crate) use registry::open_durable;
pub(crate) use registry::open_memory;
pub(crate) use transport::LocalTransport;

use dead_letters::DeadLetterStore;
use idle::IdleTracker;
use routes::Routes;
use unrouted::Unrouted;

use crate::transport::durable::Journal;

pub(crate) struct LocalEngine {
    /// Event → the queues of its subscribers, read by every publish, replaced when a
    /// subscriber's queue opens or closes.
    routes: ArcSwap<Routes>,
    /// Every open queue, in the order subscribers started; its lock serialises route changes.
    queues: Mutex<Vec<Arc<SubscriberQueue>>>,
    dead_letters: DeadLetterStore,
    /// Event names published with no subscriber, warned about once each.
    unrouted: Unrouted,
    /// The durable transport's journal (`file://`); `None` in memory.
    journal: Option<Journal>,
    idle: Arc<IdleTracker>,
    capacity: usize,
    /// What a reopened journal still owes, by subscriber: handed over when that subscriber's
    /// queue opens.
    #[cfg(feature = "durable")]
    owed: Mutex<std::collections::HashMap<String, Vec<super::durable::PendingDelivery>>>,
    /// How the registry knows this engine, if it is shared (`memory://NAME`, `file://`).
    registry_key: Option<String>,
    /// Live views of events as they are published here (`tidings tail`).
    taps: crate::tail::Taps,
    /// Bus instances using the engine; changed under the registry's lock.
    buses: Mutex<usize>,
}

/// The namespace of a `memory://` URL: `None` for a bus of its own, `Some(NAME)` for one that
/// buses naming it share.
pub(crate) fn parse_name(url: &crate::transport::TransportUrl) -> crate::Result<Option<&str>> {
    let name = url.address();
    if !url.options().is_empty() || url.user().is_some() {
        return Err(url.unsupported("`memory://` takes no options or credentials"));
    }
    if name.is_empty() {
        return Ok(None);
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(url.unsupported(
            "a memory namespace is made of letters, digits, `_`, `-` and `.`: \
             `memory://` for a private bus, `memory://orders` for one buses share",
        ));
    }
    Ok(Some(name))
}

impl LocalEngine {
    fn new(journal: Option<Journal>, capacity: usize, registry_key: Option<String>) -> Self {
        LocalEngine {
            routes: ArcSwap::default(),
            queues: Mutex::new(Vec::new()),
            dead_letters: DeadLetterStore::default(),
            unrouted: Unrouted::default(),
            journal,
            idle: Arc::new(IdleTracker::default()),
            capacity,
            #[cfg(feature = "durable")]
            owed: Mutex::default(),
            registry_key,
            taps: crate::tail::Taps::default(),
            buses: Mutex::new(1),
        }
    }

    fn queues(&self) -> std::sync::MutexGuard<'_, Vec<Arc<SubscriberQueue>>> {
        self.queues.lock().expect("queues lock")
    }

    fn queue_named(&self, name: &str) -> Option<Arc<SubscriberQueue>> {
        self.queues()
            .iter()
            .find(|queue| &*queue.name == name)
            .cloned()
    }
}
