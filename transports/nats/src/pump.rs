//! The pump of one server-side consumer: pulls as many messages as the workers have room for
//! (never more, so that nothing waits here long enough to outlive its ack deadline and the
//! server can hand the rest to other instances), and watches the consumer.
//!
//! The watchdog runs whenever the pump has had room but received nothing for [`WATCHDOG`]. It
//! asks the server about the consumer and recreates it when it is gone (deleted by an operator
//! or lost with a server's state) or stalled: events pending, room to deliver them, and no
//! delivery by anyone since the last check. A recreated consumer starts after the last
//! acknowledged event the watchdog saw, so nothing unacknowledged is skipped; what was
//! acknowledged since may come again (at least once).
//!
//! The same pump serves the events stream's consumers and the parked stream's ones of an
//! `ordered` subscriber ([`Source`]), all into the subscriber's one channel.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::context::ConsumerInfoErrorKind;
use async_nats::jetstream::stream;
use futures_util::StreamExt;
use tokio::time::Instant;

use super::consumer::{Inner, NatsReceipt, Source};
use super::{Shared, timed};
use tidings_core::transport::InboxSender;

/// How long one pull waits on the server for messages before asking again.
const PULL_WAIT: Duration = Duration::from_millis(500);
/// The pause after a failed pull, so that an unreachable server is not asked in a busy loop.
const PULL_RETRY: Duration = Duration::from_millis(200);
/// How long a pump with room may receive nothing before the watchdog looks at its consumer.
const WATCHDOG: Duration = Duration::from_secs(2);

pub(super) struct Pump {
    consumer: PullConsumer,
    /// The stream the consumer reads.
    stream: stream::Stream,
    source: Source,
    name: String,
    /// How the consumer was declared, to declare it again.
    config: pull::Config,
    /// The last stream sequence the server reported acknowledged: a recreated consumer starts
    /// after it.
    ack_floor: u64,
    /// (delivered stream sequence, pending) at the last check: unchanged with work pending
    /// means nobody is being given anything.
    last_seen: Option<(u64, u64)>,
}

impl Pump {
    pub(super) fn new(
        consumer: PullConsumer,
        stream: stream::Stream,
        source: Source,
        name: String,
        config: pull::Config,
    ) -> Self {
        let ack_floor = consumer.cached_info().ack_floor.stream_sequence;
        Pump {
            consumer,
            stream,
            source,
            name,
            config,
            ack_floor,
            last_seen: None,
        }
    }

    pub(super) async fn run(
        mut self,
        sender: InboxSender<NatsReceipt>,
        inner: Arc<Inner>,
        event_name: &'static str,
    ) {
        let mut quiet_since = Instant::now();
        loop {
            // Wait for room, then pull as much as there is room for.
            let Ok(room) = sender.room().await else {
                return;
            };
            let pulled = self
                .consumer
                .fetch()
                .max_messages(room)
                .expires(PULL_WAIT)
                .messages()
                .await;
            let mut received = 0;
            match pulled {
                Ok(mut batch) => {
                    while let Some(message) = batch.next().await {
                        let message = match message {
                            Ok(message) => message,
                            Err(error) => {
                                tracing::warn!(consumer = self.name, %error, "pull interrupted");
                                continue;
                            }
                        };
                        received += 1;
                        if let Some((delivery, receipt)) =
                            inner.receive(message, event_name, self.source).await
                        {
                            inner.outstanding.fetch_add(1, Ordering::SeqCst);
                            if let Err((_, receipt)) = sender.send(delivery, receipt).await {
                                // Stopping: hand it back at once rather than at its deadline.
                                receipt.hand_back().await;
                                inner.outstanding.fetch_sub(1, Ordering::SeqCst);
                                return;
                            }
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(consumer = self.name, %error, "pull failed; retrying");
                    tokio::time::sleep(PULL_RETRY).await;
                }
            }
            if received > 0 {
                quiet_since = Instant::now();
            } else if quiet_since.elapsed() >= WATCHDOG {
                self.check(&inner.shared).await;
                quiet_since = Instant::now();
            }
        }
    }

    /// The watchdog: recreates the consumer if the server lost it or it is stalled.
    async fn check(&mut self, shared: &Shared) {
        let info =
            tokio::time::timeout(super::CALL_TIMEOUT, self.stream.consumer_info(&self.name)).await;
        match info {
            Ok(Ok(info)) => {
                self.ack_floor = info.ack_floor.stream_sequence;
                let seen = (info.delivered.stream_sequence, info.num_pending);
                let room = info.config.max_ack_pending <= 0
                    || (info.num_ack_pending as i64) < info.config.max_ack_pending;
                let stalled = info.num_pending > 0 && room && self.last_seen == Some(seen);
                self.last_seen = Some(seen);
                if stalled {
                    tracing::warn!(
                        consumer = self.name,
                        pending = info.num_pending,
                        "consumer stalled: events pending and none delivered; recreating it"
                    );
                    let _ = self.stream.delete_consumer(&self.name).await;
                    self.recreate(shared).await;
                }
            }
            Ok(Err(error)) if error.kind() == ConsumerInfoErrorKind::NotFound => {
                tracing::warn!(
                    consumer = self.name,
                    after = self.ack_floor,
                    "consumer gone from the server; recreating it after the last acknowledged event"
                );
                self.recreate(shared).await;
            }
            // The server is unreachable or slow: the pulls keep retrying, and so does this.
            Ok(Err(error)) => {
                tracing::warn!(consumer = self.name, %error, "cannot check the consumer");
            }
            Err(_) => tracing::warn!(consumer = self.name, "cannot check the consumer: timed out"),
        }
    }

    async fn recreate(&mut self, shared: &Shared) {
        // The bus's backlog listing may have seen the consumer more recently than the watchdog.
        if let Some(listed) = shared.backlog.ack_floor(&self.name).await {
            self.ack_floor = self.ack_floor.max(listed);
        }
        let deliver_policy = match self.source {
            // A work queue keeps only what is unacknowledged: all of it is to be delivered.
            Source::Parked(_) => DeliverPolicy::All,
            Source::Events | Source::Partition(_) => DeliverPolicy::ByStartSequence {
                start_sequence: self.ack_floor + 1,
            },
        };
        let config = pull::Config {
            deliver_policy,
            ..self.config.clone()
        };
        // Another instance may have recreated it first: then this one joins it.
        match timed(
            &shared.config,
            "recreate a consumer",
            self.stream.get_or_create_consumer(&self.name, config),
        )
        .await
        {
            Ok(consumer) => {
                self.consumer = consumer;
                self.last_seen = None;
            }
            Err(error) => tracing::warn!(consumer = self.name, %error, "will try again"),
        }
    }
}
