//! What tidings keeps on the broker, and its names under the URL's namespace `ns`:
//!
//! | what | name | kind |
//! |---|---|---|
//! | an event's exchange | `ns/event/{event}` | direct: an event goes out under its partition's routing key, `p0` … `p15` |
//! | a subscriber's queue | `ns.{group}.{subscriber}` | quorum, bound under every partition's key, shared by every instance |
//! | an `ordered` subscriber's queues | `ns.{group}.{subscriber}/p{n}` | quorum, one per partition, bound under its key, single active consumer |
//! | dead letters | `ns/dead-letters` (exchange and queue) | quorum queue, read by get-all-and-requeue |
//! | retry delays | `ns/delay/{ms}ms` (exchange and queue) | quorum queue with a message TTL, dead-lettering back |
//!
//! The partition is the key's ([`tidings_core::transport::partition`]), the same as on NATS.
//! `/` never occurs in event, group or subscriber names, so tidings' own names cannot collide
//! with a subscriber's queue.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{Channel, ExchangeKind};

use super::link::Link;
use tidings_core::transport::partition::PARTITIONS;
use tidings_core::{Error, Result};

/// Deliveries a subscriber's queue allows before the broker gives up on a message that no
/// consumer ever settles (a handler crashing its process every time): a safety net, far above
/// any retry count, because tidings settles and retries by itself. Fixed, because the broker
/// refuses to redeclare a queue with different arguments.
const DELIVERY_LIMIT: i32 = 20;

pub(crate) fn event_exchange(namespace: &str, event: &str) -> String {
    format!("{namespace}/event/{event}")
}

pub(crate) fn work_queue(namespace: &str, group: &str, subscriber: &str) -> String {
    format!("{namespace}.{group}.{subscriber}")
}

/// The queue of partition `partition` of an `ordered` subscriber whose queue would be `work_queue`.
pub(crate) fn partition_queue(work_queue: &str, partition: u64) -> String {
    format!("{work_queue}/p{partition}")
}

/// The routing key of a partition on an event's exchange.
pub(crate) fn routing_key(partition: u64) -> &'static str {
    const KEYS: [&str; PARTITIONS as usize] = [
        "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10", "p11", "p12", "p13",
        "p14", "p15",
    ];
    KEYS[partition as usize]
}

pub(crate) fn dead_letter_queue(namespace: &str) -> String {
    format!("{namespace}/dead-letters")
}

pub(crate) fn delay_queue(namespace: &str, millis: u64) -> String {
    format!("{namespace}/delay/{millis}ms")
}

/// A name as AMQP carries it (at most 255 bytes).
pub(crate) fn short(name: &str) -> Result<ShortString> {
    ShortString::try_new(name).map_err(|_| {
        Error::Build(vec![format!(
            "the AMQP name `{name}` is longer than 255 bytes; use a shorter namespace, group or \
             subscriber name"
        )])
    })
}

fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(value.into())
}

fn durable() -> ExchangeDeclareOptions {
    ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    }
}

/// How one subscriber's queue is declared: what decides its arguments.
pub(crate) struct WorkQueue<'a> {
    pub(crate) name: &'a str,
    pub(crate) event: &'a str,
    pub(crate) group: &'a str,
    pub(crate) subscriber: &'a str,
    /// Ready messages beyond which publishes are refused (and wait).
    pub(crate) max_ready: u32,
    /// `ordered`: the one partition this queue takes, consumed by one instance at a time.
    /// Otherwise the queue takes every partition.
    pub(crate) partition: Option<u64>,
}

impl Link {
    /// Declares `name` once per link (the broker keeps it; lapin re-declares it on recovery).
    pub(crate) async fn once(
        &self,
        name: &str,
        declare: impl AsyncFnOnce(&Link, Channel) -> Result<()>,
    ) -> Result<()> {
        if self.declared.lock().expect("declared lock").contains(name) {
            return Ok(());
        }
        declare(self, self.topology().await?).await?;
        self.declared
            .lock()
            .expect("declared lock")
            .insert(name.to_owned());
        Ok(())
    }

    /// The event's exchange, declared if need be; returns its name.
    pub(crate) async fn event_exchange(&self, event: &str) -> Result<String> {
        let name = event_exchange(&self.settings.namespace, event);
        let key = format!("exchange {name}");
        self.once(&key, async |link, channel| {
            if link.settings.must_exist {
                return link
                    .expect_exchange(&channel, &name, ExchangeKind::Direct)
                    .await;
            }
            link.declare_exchange(&channel, &name, ExchangeKind::Direct)
                .await
        })
        .await?;
        Ok(name)
    }

    /// The dead-letter exchange and queue, declared if need be; returns their name.
    pub(crate) async fn dead_letter_queue(&self) -> Result<String> {
        let name = dead_letter_queue(&self.settings.namespace);
        self.once(&name.clone(), async |link, channel| {
            if link.settings.must_exist {
                return link.expect_queue(&name).await;
            }
            let mut arguments = FieldTable::default();
            arguments.insert("x-queue-type".into(), text("quorum"));
            // Listing returns every letter to the queue, which counts as a delivery; RabbitMQ
            // 4 defaults quorum queues to a limit of 20, which would drop letters after 20
            // listings. This limit is never reached.
            arguments.insert("x-delivery-limit".into(), AMQPValue::LongInt(i32::MAX));
            link.declare_queue(&channel, &name, arguments, "").await?;
            link.declare_exchange(&channel, &name, ExchangeKind::Fanout)
                .await?;
            link.bind(&channel, &name, &name, "").await
        })
        .await?;
        Ok(name)
    }

    /// A subscriber's queue, bound to its event's exchange under the partitions it takes.
    pub(crate) async fn declare_work_queue(&self, queue: &WorkQueue<'_>) -> Result<()> {
        let dead_letters = self.dead_letter_queue().await?;
        let exchange = self.event_exchange(queue.event).await?;
        let mut arguments = FieldTable::default();
        arguments.insert("x-queue-type".into(), text("quorum"));
        arguments.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongInt(DELIVERY_LIMIT),
        );
        // Publishes beyond the bound are refused (a nack) rather than dropping old messages:
        // the publisher waits, which is the backpressure DESIGN asks for.
        arguments.insert(
            "x-max-length".into(),
            AMQPValue::LongInt(i32::try_from(queue.max_ready).unwrap_or(i32::MAX)),
        );
        arguments.insert("x-overflow".into(), text("reject-publish"));
        // The safety net: what the broker gives up on becomes a dead letter, which the routing
        // key names the subscriber of; at-least-once keeps it until the dead letters took it.
        arguments.insert("x-dead-letter-exchange".into(), text(&dead_letters));
        arguments.insert(
            "x-dead-letter-routing-key".into(),
            text(&format!("{}/{}", queue.group, queue.subscriber)),
        );
        arguments.insert("x-dead-letter-strategy".into(), text("at-least-once"));
        if queue.partition.is_some() {
            arguments.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
        }
        let channel = self.topology().await?;
        let hint = "its subscriber's `ordered` or `concurrency`, or the bus's `queue_capacity`, \
                    changed since it was declared: restore them, or delete the queue (and its \
                    partition queues `/p0`..`/p15`) once drained";
        self.declare_queue(&channel, queue.name, arguments, hint)
            .await?;
        match queue.partition {
            Some(partition) => {
                self.bind(&channel, queue.name, &exchange, routing_key(partition))
                    .await
            }
            None => {
                for partition in 0..PARTITIONS {
                    self.bind(&channel, queue.name, &exchange, routing_key(partition))
                        .await?;
                }
                Ok(())
            }
        }
    }

    /// Marks an `ordered` subscriber's base queue name as taken by the partitioned shape: an
    /// empty, unbound queue whose arguments differ from the plain shape's. If the subscriber
    /// was declared without `ordered` before, or is declared without it later, the broker
    /// refuses the other shape's declaration: otherwise the old queues, still bound, would
    /// take a copy of every event until they fill up and then hold every publish back.
    pub(crate) async fn mark_ordered(&self, base: &str) -> Result<()> {
        let mut arguments = FieldTable::default();
        arguments.insert("x-queue-type".into(), text("quorum"));
        arguments.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
        let channel = self.topology().await?;
        let hint = "this subscriber is `ordered` now but was declared without it before: \
                    restore the option, or delete the queue once it is drained";
        self.declare_queue(&channel, base, arguments, hint).await
    }

    /// A retry delay's exchange and queue, declared if need be; returns the exchange's name.
    pub(crate) async fn delay_exchange(&self, millis: u64) -> Result<String> {
        let name = delay_queue(&self.settings.namespace, millis);
        self.once(&name.clone(), async |link, channel| {
            let mut arguments = FieldTable::default();
            // Quorum, for at-least-once dead-lettering: an expired message stays until its
            // subscriber's queue took it, even when that queue is full.
            arguments.insert("x-queue-type".into(), text("quorum"));
            arguments.insert(
                "x-message-ttl".into(),
                AMQPValue::LongInt(i32::try_from(millis).unwrap_or(i32::MAX)),
            );
            // Expired messages go through the default exchange under the routing key they were
            // published with: their subscriber's queue.
            arguments.insert("x-dead-letter-exchange".into(), text(""));
            arguments.insert("x-dead-letter-strategy".into(), text("at-least-once"));
            arguments.insert("x-overflow".into(), text("reject-publish"));
            link.declare_queue(&channel, &name, arguments, "").await?;
            link.declare_exchange(&channel, &name, ExchangeKind::Fanout)
                .await?;
            link.bind(&channel, &name, &name, "").await?;
            let mut delay_queues = link.delay_queues.lock().expect("delay queues lock");
            if !delay_queues.contains(&name) {
                delay_queues.push(name.clone());
            }
            Ok(())
        })
        .await?;
        Ok(name)
    }

    async fn declare_queue(
        &self,
        channel: &Channel,
        name: &str,
        arguments: FieldTable,
        hint: &str,
    ) -> Result<()> {
        let declare =
            channel.queue_declare(short(name)?, QueueDeclareOptions::durable(), arguments);
        match self.call(&format!("declare queue `{name}`"), declare).await {
            Err(Error::Broker {
                url,
                problem,
                source,
            }) if problem.contains("PRECONDITION_FAILED") => Err(Error::Broker {
                url,
                source,
                problem: format!(
                    "{problem}: the queue exists with other arguments; {}",
                    if hint.is_empty() {
                        "it was declared by another version of tidings: delete it"
                    } else {
                        hint
                    }
                ),
            }),
            other => other.map(drop),
        }
    }

    async fn declare_exchange(
        &self,
        channel: &Channel,
        name: &str,
        kind: ExchangeKind,
    ) -> Result<()> {
        let declare =
            channel.exchange_declare(short(name)?, kind, durable(), FieldTable::default());
        match self
            .call(&format!("declare exchange `{name}`"), declare)
            .await
        {
            Err(Error::Broker {
                url,
                problem,
                source,
            }) if problem.contains("PRECONDITION_FAILED") => Err(Error::Broker {
                url,
                source,
                problem: format!(
                    "{problem}: the exchange exists with another kind; it was declared by \
                         another version of tidings: delete it"
                ),
            }),
            other => other,
        }
    }

    pub(crate) async fn bind(
        &self,
        channel: &Channel,
        queue: &str,
        exchange: &str,
        routing_key: &str,
    ) -> Result<()> {
        let bind = channel.queue_bind(
            short(queue)?,
            short(exchange)?,
            short(routing_key)?,
            QueueBindOptions::default(),
            FieldTable::default(),
        );
        self.call(&format!("bind queue `{queue}` to `{exchange}`"), bind)
            .await
    }

    /// Ready messages in `queue` and its consumers, by a passive declare.
    pub(crate) async fn count(&self, queue: &str) -> Result<(u32, u32)> {
        let channel = self.topology().await?;
        let declare = channel.queue_declare(
            short(queue)?,
            QueueDeclareOptions::default().passive(),
            FieldTable::default(),
        );
        let declared = self
            .call(&format!("count the messages in `{queue}`"), declare)
            .await?;
        Ok((declared.message_count(), declared.consumer_count()))
    }
}
