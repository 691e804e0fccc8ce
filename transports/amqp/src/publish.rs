//! Publishing with publisher confirms: a publish returns once the broker stored the message
//! ("accepted"), and waits while a subscriber's queue is full.

use std::time::{Duration, SystemTime};

use lapin::options::BasicPublishOptions;
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Confirmation};

use super::link::Link;
use super::topology::short;
use tidings_core::Envelope;
use tidings_core::Result;

pub(crate) use tidings_core::transport::wire::AMQP_PREFIX as PREFIX;
/// Carries a content type longer than the `content-type` property's 255 bytes (one read from
/// a structured-mode document can be any length): `read_envelope` reads it back.
pub(crate) const LONG_CONTENT_TYPE: &str = "tidings-datacontenttype";

/// How long a publish refused by a full queue waits before it tries again.
const FULL_QUEUE_PAUSE: Duration = Duration::from_millis(20);

/// What the broker did with a confirmed publish.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Stored {
    /// In every queue it was routed to (or routed nowhere, with no queue bound).
    Yes,
    /// A `mandatory` publish that no queue took.
    Unroutable,
    /// A queue refused it: full (`x-overflow = reject-publish`).
    Refused,
}

/// The message properties of `envelope` in binary mode, plus tidings' own `extra` headers.
pub(crate) fn properties(envelope: &Envelope, extra: &[(&str, String)]) -> BasicProperties {
    let mut headers = FieldTable::default();
    let attributes = envelope.to_binary_headers(PREFIX);
    let content_type = lapin::types::ShortString::try_new(envelope.datacontenttype.as_str());
    let long_content_type = content_type.is_err().then(|| {
        (
            LONG_CONTENT_TYPE.to_owned(),
            envelope.datacontenttype.clone(),
        )
    });
    let extra = extra
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .chain(long_content_type);
    for (name, value) in attributes.into_iter().chain(extra) {
        // Names longer than AMQP allows cannot travel; the event keeps its other headers.
        if let Ok(name) = lapin::types::ShortString::try_new(name) {
            // RabbitMQ refuses short strings in tables (and closes the connection): long only.
            headers.insert(name, AMQPValue::LongString(value.into()));
        }
    }
    let millis = envelope
        .time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let properties = BasicProperties::default()
        .with_message_id(envelope.id.to_string().into())
        .with_delivery_mode(2) // persistent
        .with_timestamp(millis.as_secs())
        .with_headers(headers);
    match content_type {
        Ok(content_type) => properties.with_content_type(content_type),
        Err(_) => properties,
    }
}

impl Link {
    /// Publishes once into the queue `routing_key` names through `exchange` (the default
    /// exchange, or a delay queue's), and waits for the broker's confirm: `Unroutable` if no
    /// such queue exists.
    pub(crate) async fn publish_once(
        &self,
        exchange: &str,
        routing_key: &str,
        properties: BasicProperties,
        body: &[u8],
    ) -> Result<Stored> {
        self.publish(exchange, routing_key, true, properties, body)
            .await
    }

    async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        mandatory: bool,
        properties: BasicProperties,
        body: &[u8],
    ) -> Result<Stored> {
        let what = format!("publish to `{exchange}`");
        let options = BasicPublishOptions {
            mandatory,
            ..BasicPublishOptions::default()
        };
        let (exchange, routing_key) = (short(exchange)?, short(routing_key)?);
        loop {
            let generation = self.generation();
            let channel = self.publishing().await?;
            let publish = async {
                let sent = channel.basic_publish(
                    exchange.clone(),
                    routing_key.clone(),
                    options,
                    body,
                    properties.clone(),
                );
                sent.await?.await
            };
            let error = match tokio::time::timeout(self.settings.timeout, publish).await {
                Ok(Ok(Confirmation::Ack(Some(_)))) => return Ok(Stored::Unroutable),
                Ok(Ok(Confirmation::Ack(None) | Confirmation::NotRequested)) => {
                    return Ok(Stored::Yes);
                }
                Ok(Ok(Confirmation::Nack(_))) => return Ok(Stored::Refused),
                Ok(Err(error)) => error,
                Err(_) => return Err(self.timed_out(&what)),
            };
            // The connection was lost: publish again once the link connected anew (the broker
            // may then hold two copies: at-least-once).
            if self.connection_lost() {
                self.reconnected(generation, &what).await?;
                continue;
            }
            return Err(self.error(format!("refused to {what}: {error}")));
        }
    }

    /// Publishes an event to its exchange, under its partition's `routing_key` (stored in
    /// every queue bound there, or in none if none is), waiting while a queue refuses it for
    /// being full.
    ///
    /// A fanned-out publish that one full queue refused is stored by the others already, so the
    /// next try can hand them a second copy: at-least-once, as DESIGN allows, and only under
    /// backpressure.
    pub(crate) async fn publish_waiting(
        &self,
        exchange: &str,
        routing_key: &str,
        properties: BasicProperties,
        body: &[u8],
    ) -> Result<Stored> {
        loop {
            match self
                .publish(exchange, routing_key, false, properties.clone(), body)
                .await?
            {
                Stored::Refused => tokio::time::sleep(FULL_QUEUE_PAUSE).await,
                stored => return Ok(stored),
            }
        }
    }
}
