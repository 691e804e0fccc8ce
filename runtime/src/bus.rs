//! [`Bus`]: publish events, wait for quiet, inspect stats and dead letters, shut down.

use std::any::TypeId;
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::task::JoinHandle;
use tracing::Instrument;
use tracing::field::Empty;

use crate::builder::BusBuilder;
use crate::dead_letter::{DeadLetterId, DeadLetters, Envelope};
use crate::delivery::{Meta, Payload};
use crate::error::{Error, Result};
use crate::event::{Event, EventId};
use crate::metrics::PublishCounters;
use crate::recorder::{PublishedRecord, Recorder};
use crate::state::StateMap;
use crate::stats::Stats;
use crate::subscriber::Subscriber;
use crate::tail::Tail;
use crate::trace::{self, TraceParent};
use crate::transport::{AnyConsumer, AnyTransport, Outgoing};
use crate::worker::Running;

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
    pub(crate) transport: AnyTransport,
    /// The subscribers this bus runs, in start-up order.
    pub(crate) subscribers: Vec<Attached>,
    pub(crate) state: StateMap,
    pub(crate) source: String,
    /// The URL the bus was built with (`memory://` when none was given).
    pub(crate) url: String,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) workers: Mutex<Vec<JoinHandle<()>>>,
    /// `tidings_published_total`, per event name.
    pub(crate) published: PublishCounters,
    /// Only on a test bus (`tidings::testing`).
    pub(crate) recorder: Option<Arc<Recorder>>,
}

/// A subscriber this bus runs: where its workers pull from, and their counters.
pub(crate) struct Attached {
    pub(crate) subscriber: Subscriber,
    pub(crate) running: Arc<Running>,
    pub(crate) consumer: AnyConsumer,
}

const RUNNING: u8 = 0;
const DRAINING: u8 = 1;
const STOPPED: u8 = 2;

/// Where a published event sits in its causal chain.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Lineage {
    pub(crate) correlation_id: Option<EventId>,
    pub(crate) causation_id: Option<EventId>,
    /// The trace a follow-up continues: its handler's span.
    pub(crate) trace: Option<TraceParent>,
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
        let key_hash = event.key().map(|key| key.hash64());
        let span = tracing::info_span!("tidings.publish", event = E::NAME, %id, trace_id = Empty);
        let lineage = Lineage {
            trace: Some(trace::publishing(&span, lineage.trace)),
            ..lineage
        };
        let outgoing = Outgoing {
            event_name: E::NAME,
            event_type: Some(TypeId::of::<E>()),
            meta: Meta::new(id, time, E::VERSION, lineage, key_hash),
            payload: Payload::Shared(Arc::new(event)),
            source: self.source(),
        };
        let recorded = self.recorder().map(|_| PublishedRecord::of(&outgoing));
        self.inner
            .transport
            .publish(outgoing)
            .instrument(span)
            .await?;
        self.inner.published.increment(E::NAME);
        self.record_accepted(recorded);
        Ok(id)
    }

    /// Publishes an event given as an envelope (its payload JSON-encoded), for bridges and
    /// producers outside Rust. Subscribers decode it; a payload they cannot decode is
    /// dead-lettered with the decode error.
    ///
    /// The envelope's `traceparent` travels as given; without one, the event gets one as a
    /// typed publish would. One that is not W3C's is refused with
    /// [`Error::InvalidTraceparent`]; a `time` before 1970 or after year 9999 (which no
    /// CloudEvents reader could take back) with [`Error::InvalidTime`].
    pub async fn publish_envelope(&self, mut envelope: Envelope) -> Result<EventId> {
        self.check_intake(RUNNING)?;
        let given: Option<TraceParent> = envelope
            .traceparent
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(Error::InvalidTraceparent)?;
        crate::wire::time::writable(envelope.time).map_err(Error::InvalidTime)?;
        if envelope.source.is_empty() {
            envelope.source = self.source().to_owned();
        }
        let (id, event_type) = (envelope.id, std::mem::take(&mut envelope.event_type));
        let span =
            tracing::info_span!("tidings.publish", event = event_type, %id, trace_id = Empty);
        let (mut meta, payload) = Meta::from_envelope(envelope);
        meta.trace = Some(match given {
            Some(given) => {
                span.record("trace_id", tracing::field::display(given.trace_id()));
                given
            }
            None => trace::publishing(&span, None),
        });
        let outgoing = Outgoing {
            event_name: &event_type,
            event_type: None,
            meta,
            payload,
            source: self.source(),
        };
        let recorded = self.recorder().map(|_| PublishedRecord::of(&outgoing));
        self.inner
            .transport
            .publish(outgoing)
            .instrument(span)
            .await?;
        self.inner.published.increment(&event_type);
        self.record_accepted(recorded);
        Ok(id)
    }

    fn record_accepted(&self, recorded: Option<PublishedRecord>) {
        if let (Some(recorder), Some(recorded)) = (self.recorder(), recorded) {
            recorder.published(recorded);
        }
    }

    fn check_intake(&self, latest_allowed: u8) -> Result<()> {
        if self.inner.lifecycle.load(Ordering::Acquire) > latest_allowed {
            return Err(Error::ShutDown);
        }
        Ok(())
    }

    /// Returns once every queue is empty and nothing is in flight or waiting to retry.
    pub async fn wait_idle(&self) {
        self.inner.transport.wait_idle().await;
    }

    /// A live view of the events called `event_name` as they are published from now on, by
    /// any process where the transport spans processes (brokers), else on this transport.
    ///
    /// Fails with [`Error::InvalidName`] for a name no event can have (`../stats`).
    pub async fn tail(&self, event_name: &str) -> Result<Tail> {
        crate::name::check_event_name(event_name)?;
        self.inner.transport.tail(event_name).await
    }

    /// The dead letters of every subscriber.
    pub fn dead_letters(&self) -> DeadLetters<'_> {
        DeadLetters { bus: self }
    }

    pub(crate) async fn replay(&self, id: &DeadLetterId) -> Result<()> {
        self.check_intake(RUNNING)?;
        self.inner.transport.replay(id).await
    }

    pub(crate) async fn discard(&self, id: &DeadLetterId) -> Result<()> {
        self.inner.transport.discard(id).await
    }

    pub(crate) async fn replay_many(
        &self,
        ids: &[DeadLetterId],
    ) -> Result<Vec<(DeadLetterId, Error)>> {
        self.check_intake(RUNNING)?;
        self.inner.transport.replay_many(ids).await
    }

    pub(crate) async fn discard_many(
        &self,
        ids: &[DeadLetterId],
    ) -> Result<Vec<(DeadLetterId, Error)>> {
        self.inner.transport.discard_many(ids).await
    }

    /// Counters for every subscriber.
    pub fn stats(&self) -> Stats {
        Stats {
            subscribers: self
                .inner
                .subscribers
                .iter()
                .map(|attached| attached.running.stats(attached.consumer.unfinished()))
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
        // Once drained the workers are idle, so stopping them loses nothing; past the deadline
        // whatever they still run is abandoned and reported below.
        let workers = std::mem::take(&mut *self.inner.workers.lock().expect("workers lock"));
        for worker in &workers {
            worker.abort();
        }
        for worker in workers {
            let _ = worker.await;
        }
        let consumers: Vec<AnyConsumer> = self
            .inner
            .subscribers
            .iter()
            .map(|attached| attached.consumer.clone())
            .collect();
        match self.inner.transport.close(&consumers).await? {
            0 => Ok(()),
            unfinished => Err(Error::ShutdownTimeout { unfinished }),
        }
    }

    pub(crate) fn set_workers(&self, workers: Vec<JoinHandle<()>>) {
        *self.inner.workers.lock().expect("workers lock") = workers;
    }

    pub(crate) fn subscribers(&self) -> &[Attached] {
        &self.inner.subscribers
    }

    pub(crate) fn transport(&self) -> &AnyTransport {
        &self.inner.transport
    }

    /// The CloudEvents `source` of events published here.
    pub(crate) fn source(&self) -> &str {
        &self.inner.source
    }

    pub(crate) fn url(&self) -> &str {
        &self.inner.url
    }

    pub(crate) fn state(&self) -> &StateMap {
        &self.inner.state
    }

    pub(crate) fn recorder(&self) -> Option<&Recorder> {
        self.inner.recorder.as_deref()
    }

    /// Whether retry delays get jitter: not on a test bus, so that a test sees the same delays
    /// on every run.
    pub(crate) fn jitter(&self) -> bool {
        self.inner.recorder.is_none()
    }
}

impl fmt::Debug for Bus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subscribers: Vec<_> = self
            .inner
            .subscribers
            .iter()
            .map(|attached| attached.subscriber.name())
            .collect();
        f.debug_struct("Bus")
            .field("transport", &self.inner.transport.capabilities().scheme)
            .field("subscribers", &subscribers)
            .finish()
    }
}
