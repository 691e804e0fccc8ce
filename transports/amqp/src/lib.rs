//! RabbitMQ (`amqp://`), on lapin: an exchange per event, a quorum queue per subscriber shared
//! by its instances in every process (one per partition of the key when `ordered`), publisher
//! confirms, retries through TTL delay queues, dead letters in a queue of their own. See
//! `topology` for the names and kinds.

mod consumer;
mod dead_letters;
mod existing;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod idle;
mod link;
mod publish;
mod retry;
mod settings;
mod tail;
mod topology;

use std::sync::Arc;

pub use consumer::AmqpConsumer;
pub(crate) use settings::Settings;

use self::link::Link;
use self::topology::routing_key;
use tidings_core::Result;
use tidings_core::Subscriber;
use tidings_core::transport::partition::partition;
use tidings_core::transport::{Capabilities, Connect, Outgoing, Transport, TransportUrl};
use tidings_core::{DeadLetter, DeadLetterId};

/// The RabbitMQ transport; `amqp://` URLs open it.
pub struct AmqpTransport {
    link: Arc<Link>,
    /// The bus's queue capacity: what one subscriber's queue holds before publishes wait.
    capacity: usize,
}

impl std::fmt::Debug for AmqpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpTransport").finish_non_exhaustive()
    }
}

impl Connect for AmqpTransport {
    /// Connects (or joins this process's connection to the same URL).
    async fn connect(url: TransportUrl, capacity: usize) -> Result<AmqpTransport> {
        Ok(AmqpTransport {
            link: link::open(Settings::parse(&url)?).await?,
            capacity,
        })
    }
}

impl Transport for AmqpTransport {
    type Consumer = AmqpConsumer;

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            scheme: "amqp://",
            ordered: true,
            // Retries are republished, not redelivered, so the broker's delivery limit does
            // not bound them.
            max_retries: None,
            max_backoff: Some(retry::LONGEST),
        }
    }

    async fn subscribe(&self, subscriber: &Subscriber, workers: usize) -> Result<AmqpConsumer> {
        AmqpConsumer::start(&self.link, subscriber, workers, self.capacity).await
    }

    async fn publish(&self, outgoing: Outgoing<'_>) -> Result<()> {
        let envelope = outgoing.to_envelope()?;
        let exchange = self.link.event_exchange(outgoing.event_name).await?;
        let properties = publish::properties(&envelope, &[]);
        let partition = partition(outgoing.meta.key_hash);
        self.link
            .publish_waiting(
                &exchange,
                routing_key(partition),
                properties,
                &envelope.data,
            )
            .await?;
        Ok(())
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        dead_letters::list(&self.link).await
    }

    async fn dead_letter(&self, id: &DeadLetterId) -> Result<Option<DeadLetter>> {
        dead_letters::get(&self.link, id).await
    }

    async fn replay(&self, id: &DeadLetterId) -> Result<()> {
        dead_letters::replay(&self.link, id).await
    }

    async fn discard(&self, id: &DeadLetterId) -> Result<()> {
        dead_letters::discard(&self.link, id).await
    }

    async fn replay_many(
        &self,
        ids: &[DeadLetterId],
    ) -> Result<Vec<(DeadLetterId, tidings_core::Error)>> {
        dead_letters::replay_many(&self.link, ids).await
    }

    async fn discard_many(
        &self,
        ids: &[DeadLetterId],
    ) -> Result<Vec<(DeadLetterId, tidings_core::Error)>> {
        dead_letters::discard_many(&self.link, ids).await
    }

    async fn tail(&self, event_name: &str) -> Result<tidings_core::Tail> {
        tail::open(&self.link, event_name).await
    }

    async fn wait_idle(&self) {
        idle::wait(&self.link).await;
    }

    async fn close(&self, consumers: &[AmqpConsumer]) -> Result<usize> {
        let mut unfinished = 0;
        for consumer in consumers {
            unfinished += consumer.0.close().await;
        }
        link::release(&self.link).await;
        Ok(unfinished)
    }
}
