//! A subscriber's durable pull consumer. A pump task ([`super::pump`]) pulls what its workers
//! have room for into a channel, and the workers take them one at a time.
//!
//! An `ordered` subscriber has one consumer per partition instead, each allowed one
//! unacknowledged message (`max_ack_pending = 1`): the server hands out a partition's next event
//! only once the previous one is settled, across every instance. A failing key must not hold
//! its partition, so it is *parked*:
//!
//! - A retry of a keyed event is not `nak`ed: a copy goes to the key's subject in the parked
//!   stream (`{ns}.parked.{consumer}.p{partition}.{key hash}`) with the attempts made, the first
//!   failure time and the time it is due as headers, and once the stream has stored it the
//!   original is acknowledged: the partition moves on at once.
//! - A keyed event whose key has anything on its parked subject joins it there the same way,
//!   behind the key's earlier events, and never reaches a worker from the partition.
//! - Each partition has a consumer of its parked subjects too (`{consumer}-p{n}-parked`, also
//!   `max_ack_pending = 1`, so the parked stream's order, which is each key's publish order, is
//!   kept). A parked event is handled like any other; acknowledging it removes it from the work
//!   queue, and once a key's last parked event is gone the key is no longer parked. A retry of
//!   a parked event is a `nak` with the delay: it stays its key's head.
//!
//! Why per-key order holds in every interleaving: a key gets a parked event only from its
//! partition's one message in hand (parked before that message is acknowledged, so the
//! partition's next message already sees it), and a parked event leaves only once handled or
//! dead-lettered. So when the partition looks a key up while its last parked event is being
//! acknowledged, either it still sees it, and the new event goes behind it, or it does not,
//! and that event was settled already. Crashes: a copy is stored before its original is
//! acknowledged (a crash in between delivers the original again, and its copy's `Nats-Msg-Id`,
//! the partition consumer and stream sequence, stores it once if it is still parked; if its
//! copy was handled meanwhile, the event runs again: at least once); a parked event in hand when
//! its process dies comes back after the ack deadline, still its key's head. Attempts and the
//! first failure time travel in the copy's headers, so they survive the crash too.
//!
//! Events without a key all share partition 0 and keep the plain `nak` with the delay. So do
//! two keys failing at once in one partition: the second's parked events wait behind the first
//! key's parked head (one parked message in hand per partition); keys that do not fail are
//! never delayed.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_nats::header::NATS_MESSAGE_ID;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::message::Acker;
use async_nats::jetstream::stream::LastRawMessageErrorKind;
use async_nats::jetstream::{self, AckKind};
use tokio::time::Instant;

use super::names::PARTITIONS;
use super::publish::{REPLAY_FOR, header_pairs, read_envelope};
use super::pump::Pump;
use super::{Shared, dead_letters, timed};
use tidings_core::Subscriber;
use tidings_core::transport::wire::{from_millis, millis};
use tidings_core::transport::{Consumer, DeadLetterStoreFailures, Outcome};
use tidings_core::transport::{Delivery, Inbox, inbox};
use tidings_core::{Error, Result};

/// How long a message may stay unacknowledged beyond the subscriber's attempt timeout before
/// the server gives it to another instance: what a killed instance costs its group in delay.
/// A message that waited in the channel longer than half of it is marked in progress when a
/// worker takes it, which restarts the server's clock.
const ACK_MARGIN: Duration = Duration::from_secs(5);
/// When a partition cannot tell whether a key is parked (or cannot park it): how soon its
/// message is tried again. Never guessed: delivering it could overtake the key's parked events.
const PARK_RETRY: Duration = Duration::from_millis(500);

/// Headers of a parked retry: attempts made so far, the first failure and when it is due
/// (milliseconds since the Unix epoch).
const PARKED_ATTEMPTS: &str = "tidings-parked-attempts";
const PARKED_FIRST_FAILED: &str = "tidings-parked-first-failed";
const PARKED_DUE: &str = "tidings-parked-due";

/// Which stream a server-side consumer reads, and so what its messages are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Source {
    /// Every event of an unordered subscriber.
    Events,
    /// One partition of an ordered subscriber's events.
    Partition(u64),
    /// That partition's parked keys.
    Parked(u64),
}

/// What settling a delivery needs: how to acknowledge it, where it came from, when it was
/// pulled, and (from a partition, keyed) the message itself, to park a copy of it.
pub struct NatsReceipt {
    acker: Acker,
    source: Source,
    /// Its stream sequence, in its own stream.
    sequence: u64,
    pulled_at: Instant,
    parkable: Option<(async_nats::Message, u64)>,
}

impl NatsReceipt {
    /// Gives the message back to the server unhandled, for another instance to take now.
    pub(super) async fn hand_back(self) {
        let _ = self.acker.ack_with(AckKind::Nak(None)).await;
    }
}

impl std::fmt::Debug for NatsReceipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsReceipt")
            .field("source", &self.source)
            .field("sequence", &self.sequence)
            .finish_non_exhaustive()
    }
}

/// A retry to park: the headers of the copy.
struct Retry {
    attempts: u32,
    first_failed: SystemTime,
    due: SystemTime,
}

/// A time header: milliseconds since the Unix epoch.
fn time_header(text: &str) -> Option<SystemTime> {
    text.parse().ok().map(from_millis)
}

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
    /// The subscriber's consumer name, which partition consumers and parked subjects extend.
    base: String,
    /// Every server-side consumer with its filter: one, or two per partition when ordered.
    consumers: Vec<(String, String)>,
    subscriber: Arc<str>,
    inbox: Inbox<NatsReceipt>,
    /// When each retried delivery first failed, by source and stream sequence, where no header
    /// says it: the server keeps only the delivery count.
    first_failed: Mutex<HashMap<(Source, u64), SystemTime>>,
    /// Pulled and not yet settled.
    pub(super) outstanding: AtomicUsize,
    pumps: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Counts the dead letters the dead-letter stream refused (the subscriber's stats).
    store_failures: DeadLetterStoreFailures,
}

impl NatsConsumer {
    pub(crate) async fn open(
        shared: Arc<Shared>,
        subscriber: &Subscriber,
        workers: usize,
    ) -> Result<Self> {
        let base = shared.names.consumer(subscriber.name());
        let event_name = subscriber.event_name();
        let ordered = subscriber.is_ordered();
        let consumers: Vec<(String, String, Source)> = if ordered {
            let partitions = (0..PARTITIONS).map(|p| {
                let filter = shared.names.partition_filter(event_name, p);
                (format!("{base}-p{p}"), filter, Source::Partition(p))
            });
            let parked = (0..PARTITIONS).map(|p| {
                let filter = shared.names.parked_filter(&base, p);
                (format!("{base}-p{p}-parked"), filter, Source::Parked(p))
            });
            partitions.chain(parked).collect()
        } else {
            vec![(
                base.clone(),
                shared.names.filter(event_name),
                Source::Events,
            )]
        };
        let mut pumps = Vec::with_capacity(consumers.len());
        for (name, filter, source) in &consumers {
            let parked = matches!(source, Source::Parked(_));
            let config = pull::Config {
                durable_name: Some(name.clone()),
                filter_subject: filter.clone(),
                ack_policy: AckPolicy::Explicit,
                ack_wait: subscriber.attempt_timeout() + ACK_MARGIN,
                // Past the bus's own `retries`, with room for naks while a dead letter cannot
                // be stored: only what the client cannot read (or never settles) reaches it,
                // and `unreadable` makes a dead letter of what the server gives up on.
                max_deliver: if parked {
                    // Parked retries are nak'ed until due, any number of times.
                    -1
                } else {
                    super::unreadable::max_deliver(subscriber.retry_limit())
                },
                max_ack_pending: if ordered { 1 } else { 0 },
                deliver_policy: if parked {
                    // A work queue holds only what is still to do.
                    DeliverPolicy::All
                } else {
                    // A new group starts with the events published from now on, as in memory.
                    DeliverPolicy::New
                },
                ..Default::default()
            };
            let stream = if parked {
                &shared.parked
            } else {
                &shared.events
            };
            let consumer: PullConsumer = timed(
                &shared.config,
                "declare a consumer",
                stream.get_or_create_consumer(name, config.clone()),
            )
            .await?;
            pumps.push(Pump::new(
                consumer,
                stream.clone(),
                *source,
                name.clone(),
                config,
            ));
        }
        let (sender, inbox) = inbox(workers);
        let watched: Vec<(String, Source)> = consumers
            .iter()
            .map(|(name, _, source)| (name.clone(), *source))
            .collect();
        let inner = Arc::new(Inner {
            shared,
            name: consumers[0].0.clone(),
            base,
            consumers: consumers
                .into_iter()
                .map(|(name, filter, _)| (name, filter))
                .collect(),
            subscriber: Arc::from(subscriber.name()),
            inbox,
            first_failed: Mutex::default(),
            outstanding: AtomicUsize::new(0),
            pumps: Mutex::new(Vec::new()),
            store_failures: subscriber.dead_letter_store_failures(),
        });
        let mut pumps: Vec<_> = pumps
            .into_iter()
            .map(|pump| tokio::spawn(pump.run(sender.clone(), Arc::clone(&inner), event_name)))
            .collect();
        for (name, source) in &watched {
            let stream = match source {
                Source::Parked(_) => continue,
                Source::Events | Source::Partition(_) => inner.shared.names.events_stream(),
            };
            let owner = super::unreadable::Owner {
                subscriber: subscriber.name().to_owned(),
                group: subscriber.group_name().to_owned(),
                event_name,
                consumer: name.clone(),
                letters: inner.name.clone(),
                store_failures: subscriber.dead_letter_store_failures(),
            };
            let shared = Arc::clone(&inner.shared);
            pumps.push(tokio::spawn(super::unreadable::watch(
                shared, stream, owner,
            )));
        }
        *inner.pumps.lock().expect("pumps lock") = pumps;
        Ok(NatsConsumer { inner })
    }

    /// The names of its consumers on the server, parked keys' included.
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
        for (_, receipt) in self.inner.inbox.close().await {
            receipt.hand_back().await;
            self.inner.outstanding.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Inner {
    /// The delivery a message carries; `None` for one that is not for a worker now: not for
    /// this subscriber (a replay for another: acknowledged and skipped), of a parked key (parked
    /// behind it), or a parked retry not yet due (`nak`ed until it is).
    pub(super) async fn receive(
        &self,
        message: jetstream::Message,
        event_name: &'static str,
        source: Source,
    ) -> Option<(Delivery, NatsReceipt)> {
        let (delivered, sequence) = match message.info() {
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
        let header = |name: &str| {
            headers
                .iter()
                .find(|(found, _)| *found == name)
                .map(|(_, value)| *value)
        };
        let mut attempt = delivered;
        let mut first_failed_at = None;
        if let Source::Parked(_) = source {
            let attempts = header(PARKED_ATTEMPTS).and_then(|text| text.parse::<u32>().ok());
            let due = header(PARKED_DUE).and_then(time_header);
            if let (Some(attempts), Some(due)) = (attempts, due) {
                // A parked retry's first delivery is always its timer, so its attempt number
                // is exact: attempts made, plus the deliveries since, less the timer.
                if delivered <= 1 {
                    let wait = due.duration_since(SystemTime::now()).unwrap_or_default();
                    let wait = (!wait.is_zero()).then_some(wait);
                    if let Err(error) = acker.ack_with(AckKind::Nak(wait)).await {
                        // Delivered again after the ack deadline: a later timer, same count.
                        tracing::warn!(consumer = self.name, sequence, %error, "cannot schedule a parked retry");
                    }
                    return None;
                }
                attempt = attempts.saturating_add(delivered - 1);
                first_failed_at = header(PARKED_FIRST_FAILED).and_then(time_header);
            }
        }
        let envelope = read_envelope(&headers, &message.payload, event_name);
        let first_failed_at = first_failed_at.or_else(|| {
            let first_failed = self.first_failed.lock().expect("lock");
            first_failed.get(&(source, sequence)).copied()
        });
        let delivery = Delivery::received(
            envelope,
            &message.payload,
            event_name,
            attempt,
            first_failed_at,
        );
        let parkable = match (source, delivery.meta.key_hash) {
            (Source::Partition(partition), Some(key_hash)) => {
                match self.parked(partition, key_hash).await {
                    Ok(false) => Some((message, key_hash)),
                    Ok(true) => {
                        // Behind the key's parked events; it never reaches a worker from here.
                        let parked = self.park(partition, key_hash, sequence, &message, None);
                        match parked.await {
                            Ok(()) => self.acknowledge(&acker, AckKind::Ack, sequence).await,
                            Err(error) => {
                                tracing::warn!(consumer = self.name, sequence, %error, "cannot park an event of a parked key; trying again");
                                let again = AckKind::Nak(Some(PARK_RETRY));
                                self.acknowledge(&acker, again, sequence).await;
                            }
                        }
                        return None;
                    }
                    Err(error) => {
                        tracing::warn!(consumer = self.name, sequence, %error, "cannot tell whether a key is parked; trying again");
                        let again = AckKind::Nak(Some(PARK_RETRY));
                        self.acknowledge(&acker, again, sequence).await;
                        return None;
                    }
                }
            }
            _ => None,
        };
        let receipt = NatsReceipt {
            acker,
            source,
            sequence,
            pulled_at: Instant::now(),
            parkable,
        };
        Some((delivery, receipt))
    }

    /// Whether key `key_hash` of `partition` has parked events: the last message on its
    /// subject, if any.
    async fn parked(&self, partition: u64, key_hash: u64) -> Result<bool> {
        let subject = self.shared.names.parked(&self.base, partition, key_hash);
        let last = tokio::time::timeout(
            super::CALL_TIMEOUT,
            self.shared.parked.get_last_raw_message_by_subject(&subject),
        )
        .await;
        match last {
            Ok(Ok(_)) => Ok(true),
            Ok(Err(error)) if error.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(false),
            Ok(Err(error)) => Err(self.failed("look up a parked key", error.to_string())),
            Err(_) => Err(self.failed("look up a parked key", "no answer".to_owned())),
        }
    }

    /// Stores a copy of `message` (stream sequence `sequence` of `partition`) at the end of its
    /// key's parked subject, marked as a retry if it is one; returns once the stream has it.
    async fn park(
        &self,
        partition: u64,
        key_hash: u64,
        sequence: u64,
        message: &async_nats::Message,
        retry: Option<Retry>,
    ) -> Result<()> {
        let mut headers = message.headers.clone().unwrap_or_default();
        // One copy per partition message, however often it is parked: not the event id, which
        // a replayed dead letter shares with its first delivery.
        let id = format!("{}-p{partition}/{sequence}", self.base);
        headers.insert(NATS_MESSAGE_ID, id.as_str());
        if let Some(retry) = retry {
            headers.insert(PARKED_ATTEMPTS, retry.attempts.to_string().as_str());
            let first_failed = millis(retry.first_failed).to_string();
            headers.insert(PARKED_FIRST_FAILED, first_failed.as_str());
            headers.insert(PARKED_DUE, millis(retry.due).to_string().as_str());
        }
        let subject = self.shared.names.parked(&self.base, partition, key_hash);
        let config = &self.shared.config;
        let sent = self
            .shared
            .js
            .publish_with_headers(subject, headers, message.payload.clone());
        let ack = timed(config, "park an event", sent).await?;
        timed(config, "confirm a parked event", ack.into_future()).await?;
        Ok(())
    }

    fn failed(&self, action: &str, message: String) -> Error {
        Error::broker(
            &self.shared.config.url,
            format!("failed to {action}: {message}"),
        )
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

    fn remember_first_failure(&self, taken: &NatsReceipt, at: SystemTime) {
        let mut first_failed = self.first_failed.lock().expect("lock");
        first_failed.insert((taken.source, taken.sequence), at);
    }

    fn forget_first_failure(&self, taken: &NatsReceipt) {
        let mut first_failed = self.first_failed.lock().expect("lock");
        first_failed.remove(&(taken.source, taken.sequence));
    }
}

impl Consumer for NatsConsumer {
    type Receipt = NatsReceipt;

    async fn fetch(&self, batch: &mut VecDeque<(Delivery, NatsReceipt)>) {
        self.inner.inbox.fetch(batch).await;
        if let Some((_, receipt)) = batch.back()
            && receipt.pulled_at.elapsed() > ACK_MARGIN / 2
        {
            // Restart the server's ack clock: the attempt starts only now.
            let _ = receipt.acker.ack_with(AckKind::Progress).await;
        }
    }

    async fn settle(&self, delivery: Delivery, taken: NatsReceipt, outcome: Outcome) {
        let inner = &self.inner;
        let sequence = taken.sequence;
        match outcome {
            Outcome::Handled => {
                inner.forget_first_failure(&taken);
                // From the parked stream, this also removes it: the key's next parked event,
                // if any, is its head now.
                inner
                    .acknowledge(&taken.acker, AckKind::Ack, sequence)
                    .await;
            }
            Outcome::Retry { delay } => {
                let first = delivery.first_failed_at.unwrap_or_else(SystemTime::now);
                let parked = match (&taken.parkable, taken.source) {
                    (Some((message, key_hash)), Source::Partition(partition)) => {
                        let now = SystemTime::now();
                        let retry = Retry {
                            attempts: delivery.attempt,
                            first_failed: first,
                            due: now + delay,
                        };
                        let parked =
                            inner.park(partition, *key_hash, sequence, message, Some(retry));
                        match parked.await {
                            Ok(()) => true,
                            Err(error) => {
                                // Retried in place instead: its partition waits, order holds.
                                tracing::warn!(consumer = inner.name, sequence, %error, "cannot park a failing key; retrying in its partition");
                                false
                            }
                        }
                    }
                    _ => false,
                };
                if parked {
                    inner
                        .acknowledge(&taken.acker, AckKind::Ack, sequence)
                        .await;
                } else {
                    // Unordered, keyless, or already parked (it stays its key's head).
                    inner.remember_first_failure(&taken, first);
                    let retry = AckKind::Nak(Some(delay));
                    inner.acknowledge(&taken.acker, retry, sequence).await;
                }
            }
            Outcome::DeadLettered(letter) => {
                inner.forget_first_failure(&taken);
                match dead_letters::keep(&inner.shared, &inner.name, &letter).await {
                    // Stored: now the original may go (from the parked stream: acknowledged,
                    // which removes it and releases its key).
                    Ok(()) => {
                        let done = match taken.source {
                            Source::Parked(_) => AckKind::Ack,
                            Source::Events | Source::Partition(_) => AckKind::Term,
                        };
                        inner.acknowledge(&taken.acker, done, sequence).await;
                    }
                    Err(error) => {
                        // Kept, not lost: back to the server, coming again later and later
                        // while the dead-letter stream refuses (a stream at its limits, a
                        // lost server), and counted where `tidings stats` shows it.
                        inner.store_failures.record();
                        let again = store_again_after(delivery.attempt);
                        tracing::error!(
                            consumer = inner.name, %error, attempt = delivery.attempt, ?again,
                            "cannot store a dead letter; the event is kept and comes again. \
                             Check the dead-letter stream `{}` (its limits: max_msgs, \
                             max_bytes, discard policy; the server's disk), then it is stored \
                             on its next delivery",
                            inner.shared.names.dead_stream()
                        );
                        let retry = AckKind::Nak(Some(again));
                        inner.acknowledge(&taken.acker, retry, sequence).await;
                    }
                }
            }
        }
        inner.outstanding.fetch_sub(1, Ordering::SeqCst);
    }

    /// The group's backlog as the server last reported it (parked keys included), or at least
    /// what is in hand here.
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

/// How long an event whose dead letter could not be stored waits before it comes again:
/// doubling from a second with each delivery, up to a minute.
fn store_again_after(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(6);
    Duration::from_secs(1 << doublings).min(Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unstorable_dead_letter_comes_again_later_and_later() {
        let waits: Vec<u64> = (1..=9).map(|n| store_again_after(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(store_again_after(0).as_secs(), 1);
    }

    #[test]
    fn parked_headers_are_the_transports_own_not_the_events() {
        for name in [PARKED_ATTEMPTS, PARKED_FIRST_FAILED, PARKED_DUE] {
            assert!(super::super::publish::reserved(name), "{name}");
        }
        let at = std::time::UNIX_EPOCH + Duration::from_millis(1_765_000_000_123);
        assert_eq!(time_header(&millis(at).to_string()), Some(at));
    }
}
