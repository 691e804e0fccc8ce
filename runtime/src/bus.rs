//! [`Bus`]: publish events, wait for quiet, inspect stats and dead letters, shut down.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::builder::BusBuilder;
use crate::dead_letter::{DeadLetterId, DeadLetters, Envelope};
use crate::delivery::{Delivery, Meta, Payload};
use crate::error::{Error, Result};
use crate::event::{Event, EventId};
use crate::state::StateMap;
use crate::stats::Stats;
use crate::transport::durable::Journal;
use crate::transport::memory::idle::IdleTracker;
use crate::transport::memory::{LocalEngine, SubscriberQueue};
use crate::wire;

/// A running event bus. Cheap to clone; every clone is the same bus.
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use tidings::prelude::*;
/// # #[derive(Debug, Clone, Serialize, Deserialize, Event)]
/// # struct OrderPlaced { order_id: u64 }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tidings::Error> {
/// let bus = Bus::builder().build().await?;
/// let id = bus.publish(OrderPlaced { order_id: 7 }).await?;
/// bus.wait_idle().await;
/// bus.shutdown().await?;
/// # let _ = id; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) lifecycle: AtomicU8,
    pub(crate) engine: LocalEngine,
    pub(crate) state: StateMap,
    pub(crate) idle: Arc<IdleTracker>,
    pub(crate) source: String,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) workers: Mutex<Vec<JoinHandle<()>>>,
}

const RUNNING: u8 = 0;
const DRAINING: u8 = 1;
const STOPPED: u8 = 2;

/// Where a published event sits in its causal chain.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Lineage {
    pub(crate) correlation_id: Option<EventId>,
    pub(crate) causation_id: Option<EventId>,
}

impl Bus {
    /// Starts configuring a bus.
    pub fn builder() -> BusBuilder {
        BusBuilder::default()
    }

    pub(crate) fn new(inner: Inner) -> Self {
        Bus {
            inner: Arc::new(inner),
        }
    }

    /// Publishes an event to every subscriber of its type and returns its id once each
    /// subscriber's queue accepted it. Waits while a queue is full.
    pub async fn publish<E: Event>(&self, event: E) -> Result<EventId> {
        self.publish_as(event, Lineage::default(), RUNNING).await
    }

    /// Publishes from inside a handler: also allowed while the bus drains.
    pub(crate) async fn publish_within<E: Event>(
        &self,
        event: E,
        lineage: Lineage,
    ) -> Result<EventId> {
        self.publish_as(event, lineage, DRAINING).await
    }

    async fn publish_as<E: Event>(
        &self,
        event: E,
        lineage: Lineage,
        latest_allowed: u8,
    ) -> Result<EventId> {
        self.check_intake(latest_allowed)?;
        let time = SystemTime::now();
        let id = EventId::at(time);
        let queues = self.inner.engine.route_typed::<E>();
        if queues.is_empty() {
            tracing::trace!(event = E::NAME, %id, "published with no subscriber");
            return Ok(id);
        }
        let key_hash = event.key().map(|key| key.hash64());
        let meta = Meta::new(id, time, E::VERSION, lineage, key_hash);
        let span = tracing::info_span!("tidings.publish", event = E::NAME, %id);
        async {
            let seq = match self.journal() {
                Some(journal) => {
                    let record = wire::typed_cloudevent_json(&event, &meta, self.source())
                        .map_err(|source| Error::Serialize {
                            event: E::NAME,
                            source,
                        })?;
                    journal.append(record, names(queues)).await?
                }
                None => 0,
            };
            self.enqueue_all(queues, meta, Payload::Shared(Arc::new(event)), seq)
                .await
        }
        .instrument(span)
        .await?;
        Ok(id)
    }

    /// Publishes an event given as an envelope (its payload JSON-encoded), for bridges and
    /// producers outside Rust. Subscribers decode it; a payload they cannot decode is
    /// dead-lettered with the decode error.
    pub async fn publish_envelope(&self, mut envelope: Envelope) -> Result<EventId> {
        self.check_intake(RUNNING)?;
        if envelope.source.is_empty() {
            envelope.source = self.source().to_owned();
        }
        let queues = self.inner.engine.route(&envelope.event_type);
        let seq = match self.journal() {
            Some(journal) if !queues.is_empty() => {
                journal
                    .append(envelope.to_cloudevent_json(), names(queues))
                    .await?
            }
            _ => 0,
        };
        let (id, event_type) = (envelope.id, envelope.event_type.clone());
        let (meta, payload) = Meta::from_envelope(envelope);
        let span = tracing::info_span!("tidings.publish", event = event_type, %id);
        self.enqueue_all(queues, meta, payload, seq)
            .instrument(span)
            .await?;
        Ok(id)
    }

    fn check_intake(&self, latest_allowed: u8) -> Result<()> {
        if self.inner.lifecycle.load(Ordering::Acquire) > latest_allowed {
            return Err(Error::ShutDown);
        }
        Ok(())
    }

    async fn enqueue_all(
        &self,
        queues: &[Arc<SubscriberQueue>],
        meta: Meta,
        payload: Payload,
        seq: u64,
    ) -> Result<()> {
        for queue in queues {
            let delivery = Delivery {
                meta: meta.clone(),
                payload: payload.clone(),
                attempt: 1,
                first_failed_at: None,
                seq,
            };
            queue.enqueue(delivery).await.map_err(|_| Error::ShutDown)?;
        }
        Ok(())
    }

    /// Returns once every queue is empty and nothing is in flight or waiting to retry.
    pub async fn wait_idle(&self) {
        self.inner.idle.wait().await;
    }

    /// The dead letters of every subscriber.
    pub fn dead_letters(&self) -> DeadLetters<'_> {
        DeadLetters { bus: self }
    }

    pub(crate) async fn replay(&self, id: &DeadLetterId) -> Result<()> {
        self.check_intake(RUNNING)?;
        let dead_letters = &self.inner.engine.dead_letters;
        let stored = dead_letters.take(id)?;
        let Some(queue) = stored.queue.clone() else {
            let subscriber = stored.letter.subscriber.clone();
            dead_letters.restore(stored.letter, stored.delivery, None);
            return Err(Error::SubscriberNotRunning {
                id: *id,
                subscriber,
            });
        };
        let mut delivery = Delivery {
            attempt: 1,
            first_failed_at: None,
            ..stored.delivery
        };
        if let Some(journal) = self.journal() {
            let record = stored.letter.envelope.to_cloudevent_json();
            let revived =
                journal.append_reviving(record, vec![Arc::clone(&queue.name)], Some(id.to_bytes()));
            delivery.seq = revived.await?;
        }
        queue.enqueue(delivery).await.map_err(|_| Error::ShutDown)
    }

    pub(crate) fn discard(&self, id: &DeadLetterId) -> Result<()> {
        self.inner.engine.dead_letters.take(id)?;
        if let Some(journal) = self.journal() {
            journal.discarded(id.to_bytes());
        }
        Ok(())
    }

    /// Counters for every subscriber.
    pub fn stats(&self) -> Stats {
        Stats {
            subscribers: self
                .inner
                .engine
                .queues
                .iter()
                .map(|(_, queue)| queue.stats())
                .collect(),
        }
    }

    /// Stops intake, lets accepted work finish (retries included) within the shutdown timeout,
    /// then stops the workers. Handlers may still publish follow-ups while the bus drains.
    ///
    /// Fails with [`Error::ShutdownTimeout`] if work was still unfinished at the deadline.
    pub async fn shutdown(&self) -> Result<()> {
        if self
            .inner
            .lifecycle
            .compare_exchange(RUNNING, DRAINING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Ok(());
        }
        let _ = tokio::time::timeout(self.inner.shutdown_timeout, self.wait_idle()).await;
        self.inner.lifecycle.store(STOPPED, Ordering::Release);
        for (_, queue) in &self.inner.engine.queues {
            queue.close();
        }
        // Once drained the workers are idle, so stopping them loses nothing; past the deadline
        // whatever they still run is abandoned and reported below.
        let workers = std::mem::take(&mut *self.inner.workers.lock().expect("workers lock"));
        for worker in &workers {
            worker.abort();
        }
        for worker in workers {
            let _ = worker.await;
        }
        if let Some(journal) = self.journal() {
            journal.close().await?;
        }
        let unfinished: usize = self
            .inner
            .engine
            .queues
            .iter()
            .map(|(_, queue)| queue.unfinished())
            .sum();
        match unfinished {
            0 => Ok(()),
            unfinished => Err(Error::ShutdownTimeout { unfinished }),
        }
    }

    pub(crate) fn set_workers(&self, workers: Vec<JoinHandle<()>>) {
        *self.inner.workers.lock().expect("workers lock") = workers;
    }

    pub(crate) fn journal(&self) -> Option<&Journal> {
        self.inner.engine.journal.as_ref()
    }

    pub(crate) fn engine(&self) -> &LocalEngine {
        &self.inner.engine
    }

    /// The CloudEvents `source` of events published here.
    pub(crate) fn source(&self) -> &str {
        &self.inner.source
    }

    pub(crate) fn state(&self) -> &StateMap {
        &self.inner.state
    }
}

impl fmt::Debug for Bus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subscribers: Vec<_> = self
            .inner
            .engine
            .queues
            .iter()
            .map(|(s, _)| s.name())
            .collect();
        let transport = if self.journal().is_some() {
            "file"
        } else {
            "memory"
        };
        f.debug_struct("Bus")
            .field("transport", &transport)
            .field("subscribers", &subscribers)
            .finish()
    }
}

/// The subscribers' names, for the journal's delivery records.
fn names(queues: &[Arc<SubscriberQueue>]) -> Vec<Arc<str>> {
    queues.iter().map(|queue| Arc::clone(&queue.name)).collect()
}
