//! The contract every transport implements: memory, durable and each broker.
//!
//! A transport stores what is published until every subscriber of it has finished with it,
//! hands deliveries to the bus's workers, and keeps the dead letters. The bus does the rest the
//! same way everywhere: decoding, running handlers under timeouts, catching panics, choosing
//! between handled, retry and dead letter, counters and spans. So a transport decides *where*
//! events wait, never *what happens* to them.
//!
//! Methods return futures from the trait (no boxing): the memory and file transports are
//! called directly, so their publish and fetch box nothing and keep one allocation per event;
//! transports linked in by URL scheme are called through one boxed future per call.

use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use crate::dead_letter::{DeadLetter, DeadLetterId};
use crate::delivery::{Delivery, Meta, Payload};
use crate::error::{Error, Result};
use crate::letter_summary::DeadLetterSummary;
use crate::subscriber::Subscriber;
use crate::tail::Tail;

/// What a transport can honour. `build()` refuses a subscriber whose options fall outside it,
/// naming the option, rather than running it with weaker guarantees than it asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// The transport's name in messages: `memory://`, `file://`, `nats://`.
    pub scheme: &'static str,
    /// Events of one key handled strictly in order, a failing key parking only itself.
    pub ordered: bool,
    /// The most retries a subscriber may ask for (a broker's delivery limit), if bounded.
    pub max_retries: Option<u32>,
    /// The longest retry delay the transport can schedule, if bounded.
    pub max_backoff: Option<Duration>,
}

/// One event on its way into the transport, for every subscriber of it.
#[derive(Debug)]
pub struct Outgoing<'a> {
    pub event_name: &'a str,
    /// The Rust type of a typed publish, which in-process transports route by.
    pub event_type: Option<std::any::TypeId>,
    pub meta: Meta,
    pub payload: Payload,
    /// The CloudEvents `source` of events published on this bus.
    pub source: &'a str,
}

/// What became of one delivery.
#[derive(Debug)]
pub enum Outcome {
    Handled,
    /// Failed: deliver again after `delay`, as attempt `delivery.attempt + 1`.
    Retry {
        delay: Duration,
    },
    /// Failed for good: keep it as this dead letter.
    DeadLettered(Box<DeadLetter>),
}

pub trait Transport: Send + Sync + 'static {
    type Consumer: Consumer;

    fn capabilities(&self) -> Capabilities;

    /// Declares `subscriber`'s queue, or joins it if another bus instance (here or in another
    /// process, where the transport allows) runs the same subscriber, and returns what its
    /// `workers` pull deliveries from.
    fn subscribe(
        &self,
        subscriber: &Subscriber,
        workers: usize,
    ) -> impl Future<Output = Result<Self::Consumer>> + Send;

    /// Stores an event for every subscriber of it; resolves once it is stored as durably as
    /// the transport stores anything ("accepted"). Waits while a subscriber is full.
    fn publish(&self, outgoing: Outgoing<'_>) -> impl Future<Output = Result<()>> + Send;

    /// Every dead letter, oldest first.
    fn dead_letters(&self) -> impl Future<Output = Result<Vec<DeadLetter>>> + Send;

    /// Every dead letter's summary, oldest first: what a listing shows. A transport whose
    /// store can read the summaries without the payloads overrides this.
    fn dead_letter_summaries(&self) -> impl Future<Output = Result<Vec<DeadLetterSummary>>> + Send {
        async move {
            let letters = self.dead_letters().await?;
            Ok(letters.iter().map(DeadLetterSummary::of).collect())
        }
    }

    fn dead_letter(
        &self,
        id: &DeadLetterId,
    ) -> impl Future<Output = Result<Option<DeadLetter>>> + Send;

    /// Delivers a dead letter's event again, from attempt 1, to its subscriber only, and
    /// removes the dead letter.
    fn replay(&self, id: &DeadLetterId) -> impl Future<Output = Result<()>> + Send;

    fn discard(&self, id: &DeadLetterId) -> impl Future<Output = Result<()>> + Send;

    /// [`replay`](Self::replay)s each of `ids`, returning those that failed with why. The
    /// default takes them one by one; a transport whose lookup of one letter reads them all
    /// overrides it to read them once, so that replaying every letter stays linear.
    fn replay_many(
        &self,
        ids: &[DeadLetterId],
    ) -> impl Future<Output = Result<Vec<(DeadLetterId, Error)>>> + Send {
        async move {
            let mut failed = Vec::new();
            for id in ids {
                if let Err(error) = self.replay(id).await {
                    failed.push((*id, error));
                }
            }
            Ok(failed)
        }
    }

    /// [`discard`](Self::discard)s each of `ids`, returning those that failed with why; see
    /// [`replay_many`](Self::replay_many).
    fn discard_many(
        &self,
        ids: &[DeadLetterId],
    ) -> impl Future<Output = Result<Vec<(DeadLetterId, Error)>>> + Send {
        async move {
            let mut failed = Vec::new();
            for id in ids {
                if let Err(error) = self.discard(id).await {
                    failed.push((*id, error));
                }
            }
            Ok(failed)
        }
    }

    /// A live view of `event_name` as it is published, from now on.
    fn tail(&self, event_name: &str) -> impl Future<Output = Result<Tail>> + Send;

    /// Returns once nothing is queued, in flight or waiting to retry.
    fn wait_idle(&self) -> impl Future<Output = ()> + Send;

    /// The bus is stopping and its workers have stopped: detach its consumers, and close the
    /// transport if no other bus uses it. Returns how many deliveries were left unfinished.
    fn close(&self, consumers: &[Self::Consumer]) -> impl Future<Output = Result<usize>> + Send;
}

/// Where one subscriber's workers take deliveries from, and report back to.
pub trait Consumer: Clone + Send + Sync + 'static {
    /// What settles one delivery on the transport (an ack handle, an offset, a journal
    /// position): handed out by [`fetch`](Self::fetch) beside its delivery and given back to
    /// [`settle`](Self::settle), so a transport keeps no table of what its workers hold.
    type Receipt: Send + 'static;

    /// Moves one or more ready deliveries, each with its receipt, into `batch`, waiting for at
    /// least one.
    fn fetch(
        &self,
        batch: &mut VecDeque<(Delivery, Self::Receipt)>,
    ) -> impl Future<Output = ()> + Send;

    /// Settles a delivery with its receipt; it leaves the subscriber's queue unless it is to be
    /// retried.
    fn settle(
        &self,
        delivery: Delivery,
        receipt: Self::Receipt,
        outcome: Outcome,
    ) -> impl Future<Output = ()> + Send;

    /// Deliveries accepted and not yet finished (queued, in flight, or waiting to retry), as
    /// far as this process knows.
    fn unfinished(&self) -> usize;
}
