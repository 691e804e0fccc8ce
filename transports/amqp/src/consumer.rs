//! A subscriber's consumer on its queue: a pump task turns broker deliveries into
//! [`Delivery`]s for the bus's workers, and `settle` carries out what the worker decided.
//!
//! Prefetch (`basic.qos`) is the subscriber's concurrency, so the broker hands this process no
//! more than its workers can run and the rest stays in the queue for other instances. An
//! `ordered` subscriber is different: it consumes one queue per partition, each with a single
//! active consumer (one instance at a time owns a partition; the others stand by) and a window
//! of [`window`] deliveries, which pass through per-key [`Lanes`]: a delivery whose key has an
//! earlier one unsettled (running, or waiting for its retry) parks behind it, every other key
//! runs at once. A retry waits here, its message unacknowledged, and so does everything parked:
//! a failing key holds back only its own later events, and the broker keeps every one of them
//! until it is handled.
//!
//! What the broker does with unsettled messages decides the rest (RabbitMQ 3.10's quorum queue,
//! `rabbit_fifo.erl`): when the channel or connection goes down (a crash, a lost connection, a
//! closed channel) it returns the consumer's unsettled messages in delivery order to the front
//! of the queue *before* it activates the next single active consumer, so the next owner gets
//! them in their original order. A `basic.cancel` instead activates the next consumer while the
//! cancelled one still holds its messages, and a rejected message goes to the back of the
//! queue: an ordered consumer therefore never cancels (it closes its channel) and never returns
//! a single delivery.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use lapin::message::Delivery as Message;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Acker, Channel};
use tokio::task::JoinHandle;

use super::dead_letters;
use super::link::Link;
use super::publish::LONG_CONTENT_TYPE;
use super::publish::PREFIX;
use super::retry::{ATTEMPT, FIRST_FAILED_AT};
use super::topology::{WorkQueue, partition_queue, short, work_queue};
use tidings_core::Envelope;
use tidings_core::EventId;
use tidings_core::Result;
use tidings_core::Subscriber;
use tidings_core::WireError;
use tidings_core::transport::partition::PARTITIONS;
use tidings_core::transport::wire::ATTRIBUTES;
use tidings_core::transport::{Consumer, Outcome};
use tidings_core::transport::{Delivery, Inbox, InboxSender, Lanes, inbox};

/// How often a consumer refreshes its queue's message count for `stats()`.
const COUNT_EVERY: Duration = Duration::from_millis(200);

/// How often an `ordered` consumer tries again to store a dead letter the broker refused: the
/// event keeps its key's lane meanwhile, since returning it would put it behind later events.
const DEAD_LETTER_AGAIN: Duration = Duration::from_secs(1);

/// The window of an `ordered` subscriber's partition queue (its prefetch): half of the
/// partition's share of the bus's queue capacity, the other half waiting on the broker, so that
/// what this process holds plus what is ready stays within the capacity (1024 by default: a
/// window of 32 per partition, 512 deliveries over the 16). A failing key can park up to the
/// window's worth of its own later events before its partition stops taking more.
pub(crate) fn window(capacity: usize) -> usize {
    (capacity / PARTITIONS as usize / 2).clamp(1, usize::from(u16::MAX))
}

#[derive(Clone)]
/// A subscriber's consumer on its RabbitMQ queue (or partition queues).
pub struct AmqpConsumer(pub(crate) Arc<ConsumerState>);

impl std::fmt::Debug for AmqpConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpConsumer").finish_non_exhaustive()
    }
}

pub(crate) struct ConsumerState {
    pub(crate) link: Arc<Link>,
    /// The subscriber's queue, or its partitions' queues when `ordered`.
    pub(crate) queues: Vec<String>,
    /// What each queue takes: every partition, or (`ordered`) one.
    partitions: Vec<Option<u64>>,
    /// Retries wait here rather than in a delay queue, holding their key's lane.
    ordered: bool,
    subscriber: String,
    /// Counts the dead letters the broker refused (the subscriber's stats).
    store_failures: tidings_core::transport::DeadLetterStoreFailures,
    group: String,
    pub(crate) event_name: &'static str,
    prefetch: u16,
    max_ready: u32,
    /// The channel consuming the queues, and the link generation it was opened on.
    channel: Mutex<Option<Channel>>,
    generation: AtomicU64,
    /// One consumer tag per queue.
    tags: Vec<String>,
    /// Deliveries ready for a worker, with their receipts.
    to_workers: InboxSender<AmqpReceipt>,
    inbox: Inbox<AmqpReceipt>,
    /// Deliveries taken from the broker and not yet settled.
    held: Mutex<Held>,
    next_seq: AtomicU64,
    /// The channel was closed under the consumer (the broker's consumer timeout, …) though the
    /// connection lives: the link's watchdog subscribes it again.
    lost: AtomicBool,
    /// `close` began: nothing subscribes again.
    closed: AtomicBool,
    /// Ready messages in the queue when last counted.
    pub(crate) queued_on_broker: AtomicUsize,
    /// Retries sent to a delay queue, by event id and attempt, until they come back here or
    /// their due time (plus a grace) passed, when another instance likely took them.
    pub(crate) retrying: Mutex<HashMap<(EventId, u32), Instant>>,
    pump: Mutex<Option<JoinHandle<()>>>,
    counter: Mutex<Option<JoinHandle<()>>>,
}

/// What settles one delivery: its acknowledgement handle, and the number this consumer gave
/// it, by which it knows whether the delivery is still held (its channel may have been lost
/// since, and a new channel's deliveries hold the lanes).
pub struct AmqpReceipt {
    seq: u64,
    acker: Acker,
}

impl std::fmt::Debug for AmqpReceipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpReceipt")
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

/// What a consumer holds unsettled: running or waiting to retry (by receipt number), and,
/// when `ordered`, parked behind its key. One lock, so that a delivery moving from parked to
/// running is always counted once.
#[derive(Default)]
struct Held {
    running: HashSet<u64>,
    lanes: Lanes<AmqpReceipt>,
}

impl AmqpConsumer {
    /// Declares `subscriber`'s queues (or joins them) and starts consuming them.
    pub(crate) async fn start(
        link: &Arc<Link>,
        subscriber: &Subscriber,
        workers: usize,
        capacity: usize,
    ) -> Result<AmqpConsumer> {
        let ordered = subscriber.is_ordered();
        let base = work_queue(
            &link.settings.namespace,
            subscriber.group_name(),
            subscriber.name(),
        );
        let partitions: Vec<Option<u64>> = match ordered {
            true => (0..PARTITIONS).map(Some).collect(),
            false => vec![None],
        };
        let queues: Vec<String> = partitions
            .iter()
            .map(|partition| partition.map_or_else(|| base.clone(), |p| partition_queue(&base, p)))
            .collect();
        if ordered {
            link.mark_ordered(&base).await?;
        }
        // Per consumer, so per partition when ordered: the window its keys' lanes take from.
        let prefetch = match ordered {
            true => window(capacity),
            false => workers.clamp(1, capacity.clamp(1, usize::from(u16::MAX))),
        };
        // The broker lets one more message in than `x-max-length` before refusing, and counts
        // only ready ones: prefetched + ready then stays within the bus's queue capacity.
        let max_ready = (capacity / queues.len()).saturating_sub(prefetch + 1);
        let tags = queues
            .iter()
            .map(|_| format!("tidings.{}.{:x}", std::process::id(), fastrand::u64(..)))
            .collect();
        // Room for everything the broker may send at once, so that handing a delivery over
        // never waits (see `dispatch`).
        let (to_workers, inbox) = inbox(prefetch.max(1) * queues.len());
        let state = Arc::new(ConsumerState {
            link: Arc::clone(link),
            queues,
            partitions,
            ordered,
            subscriber: subscriber.name().to_owned(),
            store_failures: subscriber.dead_letter_store_failures(),
            group: subscriber.group_name().to_owned(),
            event_name: subscriber.event_name(),
            prefetch: u16::try_from(prefetch).unwrap_or(u16::MAX),
            max_ready: u32::try_from(max_ready).unwrap_or(u32::MAX),
            channel: Mutex::default(),
            generation: AtomicU64::new(0),
            tags,
            to_workers,
            inbox,
            held: Mutex::default(),
            next_seq: AtomicU64::new(1),
            lost: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            queued_on_broker: AtomicUsize::new(0),
            retrying: Mutex::default(),
            pump: Mutex::default(),
            counter: Mutex::default(),
        });
        state.subscribe().await?;
        let weak = Arc::downgrade(&state);
        *state.counter.lock().expect("counter lock") =
            Some(tokio::spawn(count_queue(weak.clone())));
        link.consumers.lock().expect("consumers lock").push(weak);
        Ok(AmqpConsumer(state))
    }
}

impl ConsumerState {
    /// The link generation this consumer last subscribed on.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Whether the consumer should subscribe again: the link connected anew since, or its
    /// channel was closed under it.
    pub(crate) fn needs_subscribe(&self, link_generation: u64) -> bool {
        !self.closed.load(Ordering::SeqCst)
            && (self.generation() < link_generation || self.lost.load(Ordering::SeqCst))
    }

    /// Declares the queues and consumes them on a channel of the link's current connection
    /// (again, after the link connected anew: what the old channel held is redelivered).
    pub(crate) async fn subscribe(self: &Arc<Self>) -> Result<()> {
        let link = &self.link;
        let generation = link.generation();
        for (queue, partition) in self.queues.iter().zip(&self.partitions) {
            link.declare_work_queue(&WorkQueue {
                name: queue,
                event: self.event_name,
                group: &self.group,
                subscriber: &self.subscriber,
                max_ready: self.max_ready,
                partition: *partition,
            })
            .await?;
        }
        let channel = link.open_channel().await?;
        let qos = channel.basic_qos(self.prefetch, BasicQosOptions::default());
        link.call("set the prefetch", qos).await?;
        let mut streams = Vec::with_capacity(self.queues.len());
        for (queue, tag) in self.queues.iter().zip(&self.tags) {
            let consume = channel.basic_consume(
                short(queue)?,
                short(tag)?,
                BasicConsumeOptions::default(),
                FieldTable::default(),
            );
            streams.push(link.call(&format!("consume `{queue}`"), consume).await?);
        }
        if let Some(old) = self.pump.lock().expect("pump lock").take() {
            old.abort();
        }
        // What the old channel held the broker gives back (in order, to whichever instance
        // owns each queue next): forget it, so that a late retry or settle of it touches
        // nothing that the new channel holds.
        let forgotten = {
            let mut held = self.held.lock().expect("held lock");
            held.lanes.clear();
            std::mem::take(&mut held.running).len()
        };
        if forgotten > 0 {
            tracing::debug!(
                subscriber = self.subscriber,
                forgotten,
                "subscribing again; the broker redelivers what the old channel held"
            );
        }
        self.lost.store(false, Ordering::SeqCst);
        let pump = tokio::spawn(pump(
            Arc::downgrade(self),
            futures_util::stream::select_all(streams),
        ));
        *self.pump.lock().expect("pump lock") = Some(pump);
        *self.channel.lock().expect("channel lock") = Some(channel);
        self.generation.store(generation, Ordering::SeqCst);
        Ok(())
    }
}

/// Moves broker deliveries to the workers until the consumer is cancelled.
async fn pump(
    state: Weak<ConsumerState>,
    mut stream: futures_util::stream::SelectAll<lapin::Consumer>,
) {
    while let Some(next) = stream.next().await {
        let Some(state) = state.upgrade() else { return };
        match next {
            Ok(message) => state.receive(message).await,
            // The channel or the connection is lost: the link's watchdog subscribes again
            // (on a new connection if need be).
            Err(error) => {
                if !state.closed.load(Ordering::SeqCst) {
                    tracing::warn!(subscriber = state.subscriber, %error, "AMQP consumer stopped");
                    state.lost.store(true, Ordering::SeqCst);
                }
                return;
            }
        }
    }
    // The broker cancelled the consumers or closed their channel (its consumer timeout, a
    // deleted queue) without `close` asking for it: subscribe again.
    if let Some(state) = state.upgrade()
        && !state.closed.load(Ordering::SeqCst)
    {
        tracing::warn!(
            subscriber = state.subscriber,
            "AMQP consumer ended by the broker"
        );
        state.lost.store(true, Ordering::SeqCst);
    }
}

/// Keeps `queued_on_broker` fresh for `stats()`.
async fn count_queue(state: Weak<ConsumerState>) {
    loop {
        tokio::time::sleep(COUNT_EVERY).await;
        let Some(state) = state.upgrade() else { return };
        if let Ok(ready) = state.ready_on_broker().await {
            state.queued_on_broker.store(ready, Ordering::Relaxed);
        }
    }
}

impl ConsumerState {
    async fn receive(&self, message: Message) {
        let headers = message.properties.headers().as_ref();
        let retried = headers.and_then(|headers| header_u32(headers, ATTEMPT));
        // Redeliveries after a lost connection or a crash count as attempts too.
        let redelivered = headers
            .and_then(|headers| header_u32(headers, "x-delivery-count"))
            .unwrap_or(0);
        let first_failed_at = headers
            .and_then(|headers| header_text(headers, FIRST_FAILED_AT))
            .and_then(|text| humantime::parse_rfc3339_weak(&text).ok());
        let delivery = Delivery::received(
            read_envelope(&message, self.event_name),
            &message.data,
            self.event_name,
            retried.unwrap_or(1).saturating_add(redelivered),
            first_failed_at,
        );
        let id = delivery.meta.id;
        let receipt = AmqpReceipt {
            seq: self.next_seq.fetch_add(1, Ordering::Relaxed),
            acker: message.acker,
        };
        // Held (running or parked) first, then no longer on its way back: `wait_idle` always
        // sees one of the two.
        let runnable = {
            let mut held = self.held.lock().expect("held lock");
            let runnable = match self.ordered {
                true => held.lanes.admit(delivery, receipt),
                false => Some((delivery, receipt)),
            };
            if let Some((_, receipt)) = &runnable {
                held.running.insert(receipt.seq);
            }
            runnable
        };
        if let Some(attempt) = retried {
            self.retrying
                .lock()
                .expect("retrying lock")
                .remove(&(id, attempt));
        }
        if let Some((delivery, receipt)) = runnable {
            self.dispatch(delivery, receipt);
        }
    }

    /// Hands `delivery` to the workers. The inbox has room for all the broker may send, so
    /// this does not wait; should it ever be full, a task waits for room rather than drop it.
    fn dispatch(&self, delivery: Delivery, receipt: AmqpReceipt) {
        if let Err((delivery, receipt)) = self.to_workers.try_send(delivery, receipt) {
            let to_workers = self.to_workers.clone();
            tokio::spawn(async move { to_workers.send(delivery, receipt).await });
        }
    }

    /// Ready messages in the subscriber's queues, counted on the broker.
    pub(crate) async fn ready_on_broker(&self) -> Result<usize> {
        let mut ready = 0;
        for queue in &self.queues {
            ready += self.link.count(queue).await?.0 as usize;
        }
        Ok(ready)
    }

    /// The delivery is settled: forget it and, when `ordered`, let the next delivery parked
    /// behind its key run. Until then it counts as held, so `wait_idle` sees it while a retry
    /// or dead letter of it is in no queue yet. A delivery no longer held (its channel was
    /// lost since) releases nothing: its key's lane, if any, belongs to the new channel's.
    fn forget(&self, delivery: &Delivery, receipt: &AmqpReceipt) {
        let next = {
            let mut held = self.held.lock().expect("held lock");
            if !held.running.remove(&receipt.seq) || !self.ordered {
                return;
            }
            let next = held.lanes.release(delivery.meta.key_hash);
            if let Some((_, receipt)) = &next {
                held.running.insert(receipt.seq);
            }
            next
        };
        if let Some((next, receipt)) = next {
            self.dispatch(next, receipt);
        }
    }

    /// Whether the delivery of `receipt` is still held here (its channel not lost since).
    fn is_held(&self, receipt: &AmqpReceipt) -> bool {
        self.held
            .lock()
            .expect("held lock")
            .running
            .contains(&receipt.seq)
    }

    async fn acknowledge(&self, acker: &Acker) {
        match self
            .link
            .call(
                "acknowledge a delivery",
                acker.ack(BasicAckOptions::default()),
            )
            .await
        {
            Ok(true) => {}
            // The channel was recovered since: the broker delivers the message again.
            Ok(false) => tracing::warn!(
                subscriber = self.subscriber,
                "an acknowledgement was lost with its channel; the broker redelivers the event"
            ),
            Err(error) => {
                tracing::warn!(subscriber = self.subscriber, %error, "acknowledging a delivery")
            }
        }
    }

    /// Returns a message to the queue as a failed delivery (the broker counts it).
    async fn requeue(&self, acker: &Acker) {
        let reject = acker.reject(BasicRejectOptions { requeue: true });
        if let Err(error) = self.link.call("return a delivery", reject).await {
            tracing::warn!(subscriber = self.subscriber, %error, "returning a delivery");
        }
    }

    /// Retries waiting in a delay queue that should still come back here.
    fn pending_retries(&self) -> usize {
        let mut retrying = self.retrying.lock().expect("retrying lock");
        let now = Instant::now();
        retrying.retain(|_, expected_by| *expected_by > now);
        retrying.len()
    }

    /// Deliveries this process holds and has not settled: running, waiting to retry, or
    /// parked behind their key.
    pub(crate) fn held(&self) -> usize {
        let held = self.held.lock().expect("held lock");
        held.running.len() + held.lanes.parked()
    }

    /// Nothing held here and no retry of ours on its way back.
    pub(crate) fn is_quiet(&self) -> bool {
        self.held() == 0 && self.pending_retries() == 0
    }

    /// Stops consuming; returns how many deliveries are left unfinished if no other consumer
    /// (here or in another process) carries on with the queue.
    pub(crate) async fn close(&self) -> usize {
        self.closed.store(true, Ordering::SeqCst);
        let pump = self.pump.lock().expect("pump lock").take();
        if let Some(counter) = self.counter.lock().expect("counter lock").take() {
            counter.abort();
        }
        let Some(channel) = self.channel.lock().expect("channel lock").clone() else {
            return self.held();
        };
        // Consumers of the queue (every partition has the same ones), this one included.
        let consumers_before = self
            .link
            .count(&self.queues[0])
            .await
            .map_or(1, |(_, n)| n.max(1));
        if self.ordered {
            // No `basic.cancel`: a cancelled single active consumer keeps its messages while
            // the broker already hands the queue's next ones to the standby, which would then
            // run a key's later events before the earlier ones this process still holds.
            // Closing the channel (below) returns them first, in order, then switches over.
            // The workers have stopped, so nothing is settled any more: what the broker sent
            // and the pump did not take yet goes back with the rest.
            if let Some(pump) = pump {
                pump.abort();
            }
        } else {
            for tag in &self.tags {
                let cancel = channel.basic_cancel(
                    short(tag).unwrap_or_default(),
                    BasicCancelOptions::default(),
                );
                if let Err(error) = self.link.call("cancel a consumer", cancel).await {
                    tracing::debug!(subscriber = self.subscriber, %error, "cancelling a consumer");
                }
            }
            // After the cancel the stream ends once what the broker already sent is pumped,
            // so those deliveries are counted below.
            if let Some(mut pump) = pump
                && tokio::time::timeout(Duration::from_secs(1), &mut pump)
                    .await
                    .is_err()
            {
                pump.abort();
            }
        }
        let mut unfinished = self.held();
        // A quorum queue keeps counting a cancelled consumer while it holds unacknowledged
        // messages, so whether others carry on is judged from the count before the cancel.
        if consumers_before <= 1
            && let Ok(ready) = self.ready_on_broker().await
        {
            unfinished += ready + self.pending_retries();
        }
        // Closing the channel returns what it held (parked deliveries included) to the queue,
        // for the next consumer.
        let closing = channel.close(200, "tidings bus closed".into());
        if let Err(error) = self.link.call("close a channel", closing).await {
            tracing::debug!(subscriber = self.subscriber, %error, "closing a consumer's channel");
        }
        unfinished
    }
}

impl Consumer for AmqpConsumer {
    type Receipt = AmqpReceipt;

    async fn fetch(&self, batch: &mut VecDeque<(Delivery, AmqpReceipt)>) {
        // One at a time: a worker that took several would run them in turn while other
        // workers sit idle, and prefetch already bounds what this process holds.
        self.0.inbox.fetch(batch).await;
    }

    async fn settle(&self, mut delivery: Delivery, receipt: AmqpReceipt, outcome: Outcome) {
        let state = &self.0;
        if !state.is_held(&receipt) {
            // Its channel was lost since: the broker delivers it again.
            return;
        }
        match outcome {
            Outcome::Handled => {
                state.acknowledge(&receipt.acker).await;
                state.forget(&delivery, &receipt);
            }
            Outcome::Retry { delay } if state.ordered => {
                // The retry waits here, holding its key's lane (its message unacknowledged),
                // unless its channel was lost meanwhile: the broker then delivers it again.
                delivery.attempt = delivery.attempt.saturating_add(1);
                let weak = Arc::downgrade(state);
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if let Some(state) = weak.upgrade()
                        && state.is_held(&receipt)
                    {
                        state.dispatch(delivery, receipt);
                    }
                });
            }
            Outcome::Retry { delay } => {
                match state.schedule_retry(&delivery, delay).await {
                    Ok(true) => state.acknowledge(&receipt.acker).await,
                    // Full queue or broker trouble: back into the queue now, which the broker
                    // counts as a delivery, so the attempt number still goes up.
                    Ok(false) => state.requeue(&receipt.acker).await,
                    Err(error) => {
                        tracing::warn!(subscriber = state.subscriber, %error, "cannot schedule a retry; returning the delivery to its queue");
                        state.requeue(&receipt.acker).await;
                    }
                }
                state.forget(&delivery, &receipt);
            }
            Outcome::DeadLettered(letter) if state.ordered => {
                // Returned to its queue it would come after its key's later events: it keeps
                // its lane until the dead letter is stored.
                let state = Arc::clone(state);
                let store = async move {
                    while state.is_held(&receipt) {
                        match dead_letters::store(&state.link, &letter).await {
                            Ok(()) => {
                                state.acknowledge(&receipt.acker).await;
                                state.forget(&delivery, &receipt);
                                return;
                            }
                            Err(error) => {
                                state.store_failures.record();
                                tracing::error!(subscriber = state.subscriber, %error, "cannot store a dead letter; trying again, its key waiting");
                                tokio::time::sleep(DEAD_LETTER_AGAIN).await;
                            }
                        }
                    }
                };
                tokio::spawn(store);
            }
            Outcome::DeadLettered(letter) => {
                match dead_letters::store(&state.link, &letter).await {
                    Ok(()) => state.acknowledge(&receipt.acker).await,
                    Err(error) => {
                        state.store_failures.record();
                        tracing::error!(subscriber = state.subscriber, %error, "cannot store a dead letter; returning the delivery to its queue");
                        state.requeue(&receipt.acker).await;
                    }
                }
                state.forget(&delivery, &receipt);
            }
        }
    }

    fn unfinished(&self) -> usize {
        let state = &self.0;
        state.held() + state.queued_on_broker.load(Ordering::Relaxed) + state.pending_retries()
    }
}

/// A message's envelope: binary mode, else structured, else a bare payload of `fallback_type`.
pub(crate) fn read_envelope(message: &Message, fallback_type: &str) -> Result<Envelope, WireError> {
    read_properties(&message.properties, &message.data, fallback_type)
}

/// [`read_envelope`] from a message's properties and body.
pub(crate) fn read_properties(
    properties: &lapin::BasicProperties,
    data: &[u8],
    fallback_type: &str,
) -> Result<Envelope, WireError> {
    let mut texts: Vec<(String, String)> = Vec::new();
    if let Some(headers) = properties.headers().as_ref() {
        for (name, value) in headers.inner() {
            if let Some(text) = header_value(name.as_str(), value)? {
                texts.push((name.to_string(), text));
            }
        }
    }
    let long_content_type = texts
        .iter()
        .find(|(name, _)| name == LONG_CONTENT_TYPE)
        .map(|(_, value)| value.as_str());
    let content_type = properties
        .content_type()
        .as_ref()
        .map(|c| c.as_str())
        .or(long_content_type);
    Envelope::from_message(
        texts
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
        PREFIX,
        content_type,
        data,
        fallback_type,
        // The broker's headers (`x-death`, …) and tidings' own are not the event's.
        |name| name.starts_with("x-") || name.starts_with("tidings-"),
    )
}

/// A header's text, `None` for one the event does not carry (a table, a number that is not
/// a CloudEvents attribute), or why a CloudEvents attribute's value cannot be read.
///
/// The CloudEvents AMQP binding maps each attribute's type to an AMQP type, or its canonical
/// string: a String attribute (`id`, `type`, `source`, …) is a string, an Integer one
/// (`version`) a string or an integer. So an integer `cloudEvents:id` is not a CloudEvent's id:
/// reading it as one would quietly make an id the producer never gave, and handling it under a
/// new id (what tidings did) loses its de-duplication; it is a decode error, dead-lettered.
fn header_value(name: &str, value: &AMQPValue) -> Result<Option<String>, WireError> {
    let text = match value {
        AMQPValue::LongString(text) => Some(String::from_utf8_lossy(text.as_bytes()).into_owned()),
        AMQPValue::ShortString(text) => Some(text.as_str().to_owned()),
        _ => None,
    };
    let attribute = name
        .strip_prefix(PREFIX)
        .filter(|attribute| ATTRIBUTES.contains(attribute));
    match (text, attribute) {
        (Some(text), _) => Ok(Some(text)),
        (None, None) => Ok(None),
        (None, Some("version")) => match integer(value) {
            Some(number) => Ok(Some(number.to_string())),
            None => Err(not_a_string(name, "an integer", value)),
        },
        (None, Some(_)) => Err(not_a_string(name, "a string", value)),
    }
}

fn not_a_string(name: &str, expected: &str, value: &AMQPValue) -> WireError {
    WireError::new(format!(
        "header `{name}` is an AMQP {value:?}, not {expected}: the CloudEvents AMQP binding \
         carries this attribute as {expected}; send it as one"
    ))
}

/// A header as text, whatever type a producer gave it.
pub(crate) fn header_text(headers: &FieldTable, name: &str) -> Option<String> {
    match headers.inner().get(name)? {
        AMQPValue::LongString(text) => Some(String::from_utf8_lossy(text.as_bytes()).into_owned()),
        AMQPValue::ShortString(text) => Some(text.as_str().to_owned()),
        other => integer(other).map(|n| n.to_string()),
    }
}

/// A header as a count, read leniently: brokers and producers pick different integer types.
pub(crate) fn header_u32(headers: &FieldTable, name: &str) -> Option<u32> {
    match headers.inner().get(name)? {
        AMQPValue::LongString(text) => std::str::from_utf8(text.as_bytes()).ok()?.parse().ok(),
        other => integer(other).and_then(|n| u32::try_from(n).ok()),
    }
}

fn integer(value: &AMQPValue) -> Option<i64> {
    Some(match *value {
        AMQPValue::ShortShortInt(n) => n.into(),
        AMQPValue::ShortShortUInt(n) => n.into(),
        AMQPValue::ShortInt(n) => n.into(),
        AMQPValue::ShortUInt(n) => n.into(),
        AMQPValue::LongInt(n) => n.into(),
        AMQPValue::LongUInt(n) => n.into(),
        AMQPValue::LongLongInt(n) => n,
        _ => return None,
    })
}
