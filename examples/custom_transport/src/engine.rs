//! The engine behind `twin://NAME`: the queues of the subscribers running on it, their dead
//! letters, the open tails, and what is unfinished. Every bus in this process that names the
//! same NAME shares one engine, as instances of a service share a broker.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, Weak};

use tidings_core::transport::{Outgoing, TailSender, tail_channel};
use tidings_core::{Error, Result, Subscriber, Tail};

use crate::dead_letters::DeadLetterStore;
use crate::idle::Idle;
use crate::queue::SubscriberQueue;

#[derive(Debug)]
pub(crate) struct Engine {
    /// The bound on each subscriber's unfinished deliveries.
    capacity: usize,
    /// One queue per running subscriber, in the order they started.
    queues: Mutex<Vec<Arc<SubscriberQueue>>>,
    pub(crate) dead_letters: DeadLetterStore,
    pub(crate) idle: Arc<Idle>,
    /// Open tails and the event each watches.
    tails: Mutex<Vec<(String, TailSender)>>,
}

/// The engines open in this process, by name; an engine lives while a bus uses it.
static OPEN: LazyLock<Mutex<HashMap<String, Weak<Engine>>>> = LazyLock::new(Mutex::default);

/// The engine called `name`: the one open already, or a new one whose subscribers may each
/// have `capacity` deliveries unfinished.
pub(crate) fn open(name: &str, capacity: usize) -> Arc<Engine> {
    let mut open = OPEN.lock().expect("open engines lock");
    if let Some(engine) = open.get(name).and_then(Weak::upgrade) {
        return engine;
    }
    let engine = Arc::new(Engine {
        capacity,
        queues: Mutex::default(),
        dead_letters: DeadLetterStore::default(),
        idle: Arc::default(),
        tails: Mutex::default(),
    });
    open.insert(name.to_owned(), Arc::downgrade(&engine));
    engine
}

impl Engine {
    /// The queue of `subscriber`: the one another bus opened already (its instances compete
    /// for the work), or a new one.
    pub(crate) fn queue_for(&self, subscriber: &Subscriber) -> Result<Arc<SubscriberQueue>> {
        let mut queues = self.queues();
        match queues
            .iter()
            .find(|queue| queue.subscriber == subscriber.name())
        {
            Some(queue) if queue.event_name != subscriber.event_name() => {
                Err(Error::Build(vec![format!(
                    "subscriber `{}` already runs on this engine for event `{}`, not `{}`",
                    subscriber.name(),
                    queue.event_name,
                    subscriber.event_name()
                )]))
            }
            Some(queue) => Ok(Arc::clone(queue)),
            None => {
                let queue = Arc::new(SubscriberQueue::new(
                    subscriber.name(),
                    subscriber.event_name(),
                    subscriber.is_ordered(),
                    self.capacity,
                    Arc::clone(&self.idle),
                ));
                queues.push(Arc::clone(&queue));
                Ok(queue)
            }
        }
    }

    /// The queues of every subscriber of `event_name`.
    pub(crate) fn subscribers_of(&self, event_name: &str) -> Vec<Arc<SubscriberQueue>> {
        self.queues()
            .iter()
            .filter(|queue| queue.event_name == event_name)
            .cloned()
            .collect()
    }

    pub(crate) fn queue_named(&self, subscriber: &str) -> Option<Arc<SubscriberQueue>> {
        self.queues()
            .iter()
            .find(|queue| queue.subscriber == subscriber)
            .cloned()
    }

    /// No bus runs the queue's subscriber any more: later events no longer go to it.
    pub(crate) fn remove(&self, queue: &Arc<SubscriberQueue>) {
        self.queues().retain(|open| !Arc::ptr_eq(open, queue));
    }

    pub(crate) fn open_tail(&self, event_name: &str) -> Tail {
        let (sender, tail) = tail_channel();
        self.tails().push((event_name.to_owned(), sender));
        tail
    }

    /// Shows an event to the tails watching it, and forgets tails that were dropped.
    pub(crate) fn show(&self, outgoing: &Outgoing<'_>) {
        let mut tails = self.tails();
        let watched = tails.iter().any(|(name, _)| name == outgoing.event_name);
        // Encoded only when a tail shows it: publishing to an unwatched event costs nothing.
        let envelope = watched.then(|| outgoing.to_envelope().ok()).flatten();
        tails.retain(|(name, sender)| match &envelope {
            Some(envelope) if name == outgoing.event_name => sender.offer(envelope.clone()),
            _ => !sender.is_closed(),
        });
    }

    fn queues(&self) -> MutexGuard<'_, Vec<Arc<SubscriberQueue>>> {
        self.queues.lock().expect("queues lock")
    }

    fn tails(&self) -> MutexGuard<'_, Vec<(String, TailSender)>> {
        self.tails.lock().expect("tails lock")
    }
}
