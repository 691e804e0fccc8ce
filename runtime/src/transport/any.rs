//! The transport a bus holds: the in-process engine (memory and file), called directly so that
//! nothing is boxed on its hot path, or a transport linked in by URL scheme, called through
//! trait objects.

use std::sync::Arc;

use super::dynamic::{DynConsumer, DynTransport};
use super::memory::{LocalConsumer, LocalTransport};
use super::{Capabilities, Consumer, Outgoing, Transport};
use crate::dead_letter::{DeadLetter, DeadLetterId};
use crate::error::{Error, Result};
use crate::letter_summary::DeadLetterSummary;
use crate::subscriber::Subscriber;
use crate::tail::Tail;

pub(crate) enum AnyTransport {
    /// `memory://` and `file://`.
    Local(LocalTransport),
    /// A scheme registered with `register_scheme!` (`nats://`, `amqp://`, …).
    Linked(Arc<dyn DynTransport>),
}

#[derive(Clone)]
pub(crate) enum AnyConsumer {
    Local(LocalConsumer),
    Linked(Arc<dyn DynConsumer>),
}

/// Runs `$call` on whichever transport (or consumer) `$self` holds.
macro_rules! forward {
    ($self:expr, $inner:ident => $call:expr) => {
        match $self {
            Self::Local($inner) => $call,
            Self::Linked($inner) => $call,
        }
    };
}

/// The transport's methods, forwarded; `Transport` itself is not implemented, since its
/// consumers have receipts of different types.
impl AnyTransport {
    pub(crate) fn capabilities(&self) -> Capabilities {
        forward!(self, t => t.capabilities())
    }

    pub(crate) async fn subscribe(
        &self,
        subscriber: &Subscriber,
        workers: usize,
    ) -> Result<AnyConsumer> {
        match self {
            Self::Local(t) => Transport::subscribe(t, subscriber, workers)
                .await
                .map(AnyConsumer::Local),
            Self::Linked(t) => DynTransport::subscribe(&**t, subscriber, workers)
                .await
                .map(AnyConsumer::Linked),
        }
    }

    pub(crate) async fn publish(&self, outgoing: Outgoing<'_>) -> Result<()> {
        forward!(self, t => t.publish(outgoing).await)
    }

    pub(crate) async fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        forward!(self, t => t.dead_letters().await)
    }

    pub(crate) async fn dead_letter_summaries(&self) -> Result<Vec<DeadLetterSummary>> {
        forward!(self, t => t.dead_letter_summaries().await)
    }

    pub(crate) async fn dead_letter(&self, id: &DeadLetterId) -> Result<Option<DeadLetter>> {
        forward!(self, t => t.dead_letter(id).await)
    }

    pub(crate) async fn replay(&self, id: &DeadLetterId) -> Result<()> {
        forward!(self, t => t.replay(id).await)
    }

    pub(crate) async fn tail(&self, event_name: &str) -> Result<Tail> {
        forward!(self, t => t.tail(event_name).await)
    }

    pub(crate) async fn discard(&self, id: &DeadLetterId) -> Result<()> {
        forward!(self, t => t.discard(id).await)
    }

    pub(crate) async fn replay_many(
        &self,
        ids: &[DeadLetterId],
    ) -> Result<Vec<(DeadLetterId, Error)>> {
        forward!(self, t => t.replay_many(ids).await)
    }

    pub(crate) async fn discard_many(
        &self,
        ids: &[DeadLetterId],
    ) -> Result<Vec<(DeadLetterId, Error)>> {
        forward!(self, t => t.discard_many(ids).await)
    }

    pub(crate) async fn wait_idle(&self) {
        forward!(self, t => t.wait_idle().await)
    }

    pub(crate) async fn close(&self, consumers: &[AnyConsumer]) -> Result<usize> {
        match self {
            Self::Local(t) => {
                let own: Vec<LocalConsumer> = consumers
                    .iter()
                    .filter_map(|consumer| match consumer {
                        AnyConsumer::Local(consumer) => Some(consumer.clone()),
                        AnyConsumer::Linked(_) => None,
                    })
                    .collect();
                Transport::close(t, &own).await
            }
            Self::Linked(t) => {
                let own: Vec<Arc<dyn DynConsumer>> = consumers
                    .iter()
                    .filter_map(|consumer| match consumer {
                        AnyConsumer::Linked(consumer) => Some(Arc::clone(consumer)),
                        AnyConsumer::Local(_) => None,
                    })
                    .collect();
                DynTransport::close(&**t, &own).await
            }
        }
    }
}

impl AnyConsumer {
    pub(crate) fn unfinished(&self) -> usize {
        match self {
            Self::Local(consumer) => consumer.unfinished(),
            Self::Linked(consumer) => consumer.unfinished(),
        }
    }
}
