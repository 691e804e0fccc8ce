//! The transports compiled into this build, as one type the bus holds. Each method forwards to
//! the transport in use: static dispatch, so nothing is boxed on the way.

use std::collections::VecDeque;

#[cfg(feature = "amqp")]
use super::amqp::{AmqpConsumer, AmqpTransport};
use super::memory::{LocalConsumer, LocalTransport};
use super::{Capabilities, Consumer, Outcome, Outgoing, Transport};
use crate::dead_letter::{DeadLetter, DeadLetterId};
use crate::delivery::Delivery;
use crate::error::Result;
use crate::subscriber::Subscriber;
use crate::tail::Tail;

pub(crate) enum AnyTransport {
    /// `memory://` and `file://`.
    Local(LocalTransport),
    /// `amqp://`.
    #[cfg(feature = "amqp")]
    Amqp(AmqpTransport),
    #[cfg(feature = "nats")]
    Nats(super::nats::NatsTransport),
}

#[derive(Clone)]
pub(crate) enum AnyConsumer {
    Local(LocalConsumer),
    #[cfg(feature = "amqp")]
    Amqp(AmqpConsumer),
    #[cfg(feature = "nats")]
    Nats(super::nats::NatsConsumer),
}

/// Runs `$call` on whichever transport (or consumer) `$self` holds.
macro_rules! forward {
    ($self:expr, $inner:ident => $call:expr) => {
        match $self {
            Self::Local($inner) => $call,
            #[cfg(feature = "amqp")]
            Self::Amqp($inner) => $call,
            #[cfg(feature = "nats")]
            Self::Nats($inner) => $call,
        }
    };
}

/// Each transport's own consumers among `consumers` (a bus holds those of one transport).
macro_rules! own {
    ($consumers:expr, $variant:ident) => {
        $consumers
            .iter()
            .filter_map(|consumer| match consumer {
                AnyConsumer::$variant(consumer) => Some(consumer.clone()),
                #[allow(unreachable_patterns)]
                _ => None,
            })
            .collect::<Vec<_>>()
    };
}

impl Transport for AnyTransport {
    type Consumer = AnyConsumer;

    fn capabilities(&self) -> Capabilities {
        forward!(self, t => t.capabilities())
    }

    async fn subscribe(&self, subscriber: &Subscriber, workers: usize) -> Result<AnyConsumer> {
        match self {
            Self::Local(t) => t
                .subscribe(subscriber, workers)
                .await
                .map(AnyConsumer::Local),
            #[cfg(feature = "amqp")]
            Self::Amqp(t) => t
                .subscribe(subscriber, workers)
                .await
                .map(AnyConsumer::Amqp),
            #[cfg(feature = "nats")]
            Self::Nats(t) => t
                .subscribe(subscriber, workers)
                .await
                .map(AnyConsumer::Nats),
        }
    }

    async fn publish(&self, outgoing: Outgoing<'_>) -> Result<()> {
        forward!(self, t => t.publish(outgoing).await)
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        forward!(self, t => t.dead_letters().await)
    }

    async fn dead_letter(&self, id: &DeadLetterId) -> Result<Option<DeadLetter>> {
        forward!(self, t => t.dead_letter(id).await)
    }

    async fn replay(&self, id: &DeadLetterId) -> Result<()> {
        forward!(self, t => t.replay(id).await)
    }

    async fn tail(&self, event_name: &str) -> Result<Tail> {
        forward!(self, t => t.tail(event_name).await)
    }

    async fn discard(&self, id: &DeadLetterId) -> Result<()> {
        forward!(self, t => t.discard(id).await)
    }

    async fn wait_idle(&self) {
        forward!(self, t => t.wait_idle().await)
    }

    async fn close(&self, consumers: &[AnyConsumer]) -> Result<usize> {
        match self {
            Self::Local(t) => t.close(&own!(consumers, Local)).await,
            #[cfg(feature = "amqp")]
            Self::Amqp(t) => t.close(&own!(consumers, Amqp)).await,
            #[cfg(feature = "nats")]
            Self::Nats(t) => t.close(&own!(consumers, Nats)).await,
        }
    }
}

impl Consumer for AnyConsumer {
    async fn fetch(&self, batch: &mut VecDeque<Delivery>) {
        forward!(self, c => c.fetch(batch).await)
    }

    async fn settle(&self, delivery: Delivery, outcome: Outcome) {
        forward!(self, c => c.settle(delivery, outcome).await)
    }

    fn unfinished(&self) -> usize {
        forward!(self, c => c.unfinished())
    }
}
