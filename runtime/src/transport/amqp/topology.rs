//! What tidings keeps on the broker, and its names under the URL's namespace `ns`:
//!
//! | what | name | kind |
//! |---|---|---|
//! | an event's exchange | `ns/event/{event}` | fanout: every subscriber queue bound to it gets a copy |
//! | a subscriber's queue | `ns.{group}.{subscriber}` | quorum, shared by every instance of the subscriber |
//! | dead letters | `ns/dead-letters` (exchange and queue) | quorum queue, read by get-all-and-requeue |
//! | retry delays | `ns/delay/{ms}ms` (exchange and queue) | quorum queue with a message TTL, dead-lettering back |
//!
//! `/` never occurs in event, group or subscriber names, so tidings' own names cannot collide
//! with a subscriber's queue.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{Channel, ExchangeKind};

use super::link::Link;
use crate::error::{Error, Result};

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
    /// One consumer at a time, for per-key order.
    pub(crate) ordered: bool,
}

impl Link {
    /// Declares `name` once per link (the broker keeps it; lapin re-declares it on recovery).
    async fn once(
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
            let declare = channel.exchange_declare(
                short(&name)?,
                ExchangeKind::Fanout,
                durable(),
                FieldTable::default(),
            );
            link.call(&format!("declare exchange `{name}`"), declare)
                .await
        })
        .await?;
        Ok(name)
    }

    /// The dead-letter exchange and queue, declared if need be; returns their name.
    pub(crate) async fn dead_letter_queue(&self) -> Result<String> {
        let name = dead_letter_queue(&self.settings.namespace);
        self.once(&name.clone(), async |link, channel| {
            let mut arguments = FieldTable::default();
            arguments.insert("x-queue-type".into(), text("quorum"));
            // Listing returns every letter to the queue, which counts as a delivery; RabbitMQ
            // 4 defaults quorum queues to a limit of 20, which would drop letters after 20
            // listings. This limit is never reached.
            arguments.insert("x-delivery-limit".into(), AMQPValue::LongInt(i32::MAX));
            let queue = short(&name)?;
            link.declare_queue(&channel, &name, arguments, "").await?;
            let exchange = channel.exchange_declare(
                queue.clone(),
                ExchangeKind::Fanout,
                durable(),
                FieldTable::default(),
            );
            link.call(&format!("declare exchange `{name}`"), exchange)
                .await?;
            link.bind(&channel, &name, &name).await
        })
        .await?;
        Ok(name)
    }

    /// A subscriber's queue, bound to its event's exchange.
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
            AMQPValue::LongInt(queue.max_ready as i32),
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
        if queue.ordered {
            arguments.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
        }
        let channel = self.topology().await?;
        let hint = "its subscriber's `ordered` or `concurrency`, or the bus's `queue_capacity`, \
                    changed since it was declared: restore them, or delete the queue";
        self.declare_queue(&channel, queue.name, arguments, hint)
            .await?;
        self.bind(&channel, queue.name, &exchange).await
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
            let exchange = channel.exchange_declare(
                short(&name)?,
                ExchangeKind::Fanout,
                durable(),
                FieldTable::default(),
            );
            link.call(&format!("declare exchange `{name}`"), exchange)
                .await?;
            link.bind(&channel, &name, &name).await?;
            link.delay_queues
                .lock()
                .expect("delay queues lock")
                .push(name.clone());
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
            Err(Error::Broker { url, problem }) if problem.contains("PRECONDITION_FAILED") => {
                Err(Error::Broker {
                    url,
                    problem: format!(
                        "{problem}: the queue exists with other arguments; {}",
                        if hint.is_empty() {
                            "it was declared by another version of tidings: delete it"
                        } else {
                            hint
                        }
                    ),
                })
            }
            other => other.map(drop),
        }
    }

    async fn bind(&self, channel: &Channel, queue: &str, exchange: &str) -> Result<()> {
        let bind = channel.queue_bind(
            short(queue)?,
            short(exchange)?,
            "".into(),
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
