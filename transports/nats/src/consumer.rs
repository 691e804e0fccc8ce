//! A subscriber's durable pull consumer. A pump task ([`super::pump`]) pulls what its workers
//! have room for into a channel, and the workers take them one at a time.
//!
//! An `ordered` subscriber has one consumer per partition instead, each allowed one
//! unacknowledged message (`max_ack_pending = 1`): the server hands out a partition's next event
//! only once the previous one is settled, and a message `nak`ed for a retry still counts as
//! unacknowledged, so a failing key holds back its own partition only, across every instance.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::message::Acker;
use async_nats::jetstream::{self, AckKind};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::names::PARTITIONS;
use super::publish::{REPLAY_FOR, header_pairs, read_envelope};
use super::pump::Pump;
use super::{Shared, dead_letters, timed};
use tidings_core::Envelope;
use tidings_core::Result;
use tidings_core::Subscriber;
use tidings_core::transport::{Consumer, Outcome};
use tidings_core::transport::{Delivery, Meta, Payload};

/// How long a message may stay unacknowledged beyond the subscriber's attempt timeout before
/// the server gives it to another instance: what a killed instance costs its group in delay.
/// A message that waited in the channel longer than half of it is marked in progress when a
/// worker takes it, which restarts the server's clock.
const ACK_MARGIN: Duration = Duration::from_secs(5);

/// A pulled message: its delivery, its acknowledgement handle, and when it was pulled.
pub(super) type Ready = (Delivery, Acker, Instant);

#[derive(Clone)]
/// A subscriber's durable pull consumer (or one per partition when ordered).
pub struct NatsConsumer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for NatsConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsConsumer").finish_non_exhaustive()
    }
}

pub(super) struct Inner {
    pub(super) shared: Arc<Shared>,
    /// The durable consumer's name on the server (the first partition's, when ordered).
    name: String,
    /// Every server-side consumer with its filter: one, or one per partition when ordered.
    consumers: Vec<(String, String)>,
    subscriber: Arc<str>,
    ready: tokio::sync::Mutex<mpsc::Receiver<Ready>>,
    /// Acknowledgement handles of the deliveries workers hold, by stream sequence.
    in_hand: Mutex<HashMap<u64, Acker>>,
    /// When each retried delivery first failed: the server keeps only the delivery count.
    first_failed: Mutex<HashMap<u64, SystemTime>>,
    /// Pulled and not yet settled.
    pub(super) outstanding: AtomicUsize,
    pumps: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl NatsConsumer {
    pub(crate) async fn open(
        shared: Arc<Shared>,
        subscriber: &Subscriber,
        workers: usize,
    ) -> Result<Self> {
        let base = shared.names.consumer(subscriber.name());
        let event_name = subscriber.event_name();
        let consumers: Vec<(String, String)> = if subscriber.is_ordered() {
            (0..PARTITIONS)
                .map(|p| {
                    (
                        format!("{base}-p{p}"),
                        shared.names.partition_filter(event_name, p),
                    )
                })
                .collect()
        } else {
            vec![(base, shared.names.filter(event_name))]
        };
        let mut pumps = Vec::with_capacity(consumers.len());
        for (name, filter) in &consumers {
            let config = pull::Config {
                durable_name: Some(name.clone()),
                filter_subject: filter.clone(),
                ack_policy: AckPolicy::Explicit,
                ack_wait: subscriber.attempt_timeout() + ACK_MARGIN,
                // Unlimited: the bus dead-letters after `retries`; a server-side limit would
                // drop events silently instead.
                max_deliver: -1,
                max_ack_pending: if subscriber.is_ordered() { 1 } else { 0 },
                // A new group starts with the events published from now on, as in memory.
                deliver_policy: DeliverPolicy::New,
                ..Default::default()
            };
            let consumer: PullConsumer = timed(
                &shared.config,
                "declare a consumer",
                shared.events.get_or_create_consumer(name, config.clone()),
            )
            .await?;
            pumps.push(Pump::new(consumer, name.clone(), config));
        }
        let (sender, receiver) = mpsc::channel(workers.max(1));
        let inner = Arc::new(Inner {
            shared,
            name: consumers[0].0.clone(),
            consumers,
            subscriber: Arc::from(subscriber.name()),
            ready: tokio::sync::Mutex::new(receiver),
            in_hand: Mutex::default(),
            first_failed: Mutex::default(),
            outstanding: AtomicUsize::new(0),
            pumps: Mutex::new(Vec::new()),
        });
        let pumps = pumps
            .into_iter()
            .map(|pump| tokio::spawn(pump.run(sender.clone(), Arc::clone(&inner), event_name)))
            .collect();
        *inner.pumps.lock().expect("pumps lock") = pumps;
        Ok(NatsConsumer { inner })
    }

    /// The names of its consumers on the server.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.inner.consumers.iter().map(|(name, _)| name.as_str())
    }

    pub(crate) fn nothing_in_hand(&self) -> bool {
        self.inner.outstanding.load(Ordering::SeqCst) == 0
    }

    /// Stops pulling and hands back what was pulled but not started, so other instances get
    /// it at once rather than after the ack deadline.
    pub(crate) async fn stop(&self) {
        for pump in std::mem::take(&mut *self.inner.pumps.lock().expect("pumps lock")) {
            pump.abort();
        }
        let mut ready = self.inner.ready.lock().await;
        ready.close();
        while let Some((_, acker, _)) = ready.recv().await {
            let _ = acker.ack_with(AckKind::Nak(None)).await;
            self.inner.outstanding.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Inner {
    /// The delivery a message carries; `None` for one that is not for this subscriber (a
    /// replay for another), which is acknowledged and skipped.
    pub(super) async fn receive(
        &self,
        message: jetstream::Message,
        event_name: &'static str,
    ) -> Option<Ready> {
        let (attempt, sequence) = match message.info() {
            Ok(info) => (
                u32::try_from(info.delivered).unwrap_or(u32::MAX),
                info.stream_sequence,
            ),
            Err(error) => {
                tracing::error!(consumer = self.name, %error, "a message without delivery info; skipped");
                return None;
            }
        };
        let (message, acker) = message.split();
        let headers = header_pairs(message.headers.as_ref());
        let replay_for = headers.iter().find(|(name, _)| *name == REPLAY_FOR);
        if replay_for.is_some_and(|(_, subscriber)| *subscriber != &*self.subscriber) {
            let _ = acker.ack().await;
            return None;
        }
        let envelope = read_envelope(&headers, &message.payload, event_name);
        let (meta, payload) = match envelope {
            Ok(envelope) => Meta::from_envelope(envelope),
            Err(error) => {
                let bytes: Arc<[u8]> = message.payload.to_vec().into();
                let (meta, _) = Meta::from_envelope(Envelope::new(event_name, bytes.to_vec()));
                let reason = error.to_string().into();
                (meta, Payload::Unreadable { reason, bytes })
            }
        };
        let first_failed_at = self
            .first_failed
            .lock()
            .expect("lock")
            .get(&sequence)
            .copied();
        let delivery = Delivery {
            meta,
            payload,
            attempt,
            first_failed_at,
            seq: sequence,
        };
        Some((delivery, acker, Instant::now()))
    }

    async fn acknowledge(&self, acker: &Acker, kind: AckKind, sequence: u64) {
        let done = timed(
            &self.shared.config,
            "acknowledge",
            acker.double_ack_with(kind),
        )
        .await;
        if let Err(error) = done {
            // The server will deliver it again: at least once, never lost.
            tracing::warn!(consumer = self.name, sequence, %error, "acknowledgement not confirmed");
        }
    }
}

impl Consumer for NatsConsumer {
    async fn fetch(&self, batch: &mut VecDeque<Delivery>) {
        let next = self.inner.ready.lock().await.recv().await;
        match next {
            Some((delivery, acker, pulled_at)) => {
                if pulled_at.elapsed() > ACK_MARGIN / 2 {
                    // Restart the server's ack clock: the attempt starts only now.
                    let _ = acker.ack_with(AckKind::Progress).await;
                }
                self.inner
                    .in_hand
                    .lock()
                    .expect("lock")
                    .insert(delivery.seq, acker);
                batch.push_back(delivery);
            }
            // Stopped: the bus is aborting its workers.
            None => std::future::pending().await,
        }
    }

    async fn settle(&self, delivery: Delivery, outcome: Outcome) {
        let inner = &self.inner;
        let sequence = delivery.seq;
        let Some(acker) = inner.in_hand.lock().expect("lock").remove(&sequence) else {
            return;
        };
        match outcome {
            Outcome::Handled => {
                inner.first_failed.lock().expect("lock").remove(&sequence);
                inner.acknowledge(&acker, AckKind::Ack, sequence).await;
            }
            Outcome::Retry { delay } => {
                let first = delivery.first_failed_at.unwrap_or_else(SystemTime::now);
                inner
                    .first_failed
                    .lock()
                    .expect("lock")
                    .insert(sequence, first);
                inner
                    .acknowledge(&acker, AckKind::Nak(Some(delay)), sequence)
                    .await;
            }
            Outcome::DeadLettered(letter) => {
                inner.first_failed.lock().expect("lock").remove(&sequence);
                match dead_letters::keep(&inner.shared, &inner.name, &letter).await {
                    // Stored: now the original may go.
                    Ok(()) => inner.acknowledge(&acker, AckKind::Term, sequence).await,
                    Err(error) => {
                        tracing::error!(consumer = inner.name, %error, "cannot store a dead letter; the event will be delivered again");
                        let retry = AckKind::Nak(Some(Duration::from_secs(1)));
                        inner.acknowledge(&acker, retry, sequence).await;
                    }
                }
            }
        }
        inner.outstanding.fetch_sub(1, Ordering::SeqCst);
    }

    /// The group's backlog as the server last reported it, or at least what is in hand here.
    fn unfinished(&self) -> usize {
        let inner = &self.inner;
        let in_hand = inner.outstanding.load(Ordering::SeqCst);
        let on_server: u64 = inner
            .consumers
            .iter()
            .filter_map(|(name, filter)| inner.shared.backlog.last_known(name, filter))
            .sum();
        in_hand.max(usize::try_from(on_server).unwrap_or(usize::MAX))
    }
}
