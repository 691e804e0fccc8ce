//! Transports linked in by URL scheme, called through trait objects: one boxed future per call,
//! which a broker's network round trip dwarfs. The memory and file transports never come here.

use std::any::Any;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::{Capabilities, Consumer, Outcome, Outgoing, Transport, TransportUrl};
use crate::dead_letter::{DeadLetter, DeadLetterId};
use crate::delivery::Delivery;
use crate::error::{Error, Result};
use crate::letter_summary::DeadLetterSummary;

/// The dead letters a `replay_many` or `discard_many` could not act on, with why.
pub(crate) type Failed = Vec<(DeadLetterId, Error)>;
use crate::subscriber::Subscriber;
use crate::tail::Tail;

/// Opens a transport from its URL: what makes a [`Transport`] selectable by URL scheme (see
/// [`register_scheme!`](crate::register_scheme)).
pub trait Connect: Transport + Sized {
    /// Connects (or opens) the transport `url` names. `queue_capacity` is the bus's bound on
    /// what one subscriber may have waiting: a publish waits while a subscriber is that far
    /// behind. Errors name the URL redacted ([`TransportUrl`]'s `Display`), never its password.
    fn connect(
        url: TransportUrl,
        queue_capacity: usize,
    ) -> impl Future<Output = Result<Self>> + Send;
}

/// [`Transport`] as a trait object.
pub(crate) trait DynTransport: Send + Sync + 'static {
    fn capabilities(&self) -> Capabilities;
    fn subscribe<'a>(
        &'a self,
        subscriber: &'a Subscriber,
        workers: usize,
    ) -> BoxFuture<'a, Result<Arc<dyn DynConsumer>>>;
    fn publish<'a>(&'a self, outgoing: Outgoing<'a>) -> BoxFuture<'a, Result<()>>;
    fn dead_letters(&self) -> BoxFuture<'_, Result<Vec<DeadLetter>>>;
    fn dead_letter_summaries(&self) -> BoxFuture<'_, Result<Vec<DeadLetterSummary>>>;
    fn dead_letter<'a>(&'a self, id: &'a DeadLetterId)
    -> BoxFuture<'a, Result<Option<DeadLetter>>>;
    fn replay<'a>(&'a self, id: &'a DeadLetterId) -> BoxFuture<'a, Result<()>>;
    fn discard<'a>(&'a self, id: &'a DeadLetterId) -> BoxFuture<'a, Result<()>>;
    fn replay_many<'a>(&'a self, ids: &'a [DeadLetterId]) -> BoxFuture<'a, Result<Failed>>;
    fn discard_many<'a>(&'a self, ids: &'a [DeadLetterId]) -> BoxFuture<'a, Result<Failed>>;
    fn tail<'a>(&'a self, event_name: &'a str) -> BoxFuture<'a, Result<Tail>>;
    fn wait_idle(&self) -> BoxFuture<'_, ()>;
    fn close<'a>(&'a self, consumers: &'a [Arc<dyn DynConsumer>]) -> BoxFuture<'a, Result<usize>>;
}

/// A transport or consumer behind a trait object: the wrapper keeps [`DynTransport`]'s
/// methods off every [`Transport`] (the memory engine's included), so calls never meet two
/// candidates.
pub(crate) struct Dyn<T>(pub(crate) T);

/// A receipt behind a trait object: the transport's own, boxed by [`Dyn`] and unboxed again
/// before its `settle` sees it.
pub(crate) type AnyReceipt = Box<dyn Any + Send>;

/// [`Consumer`] as a trait object.
pub(crate) trait DynConsumer: Send + Sync + 'static {
    fn fetch<'a>(&'a self, batch: &'a mut VecDeque<(Delivery, AnyReceipt)>) -> BoxFuture<'a, ()>;
    fn settle(
        &self,
        delivery: Delivery,
        receipt: AnyReceipt,
        outcome: Outcome,
    ) -> BoxFuture<'_, ()>;
    fn unfinished(&self) -> usize;
    /// The transport's own consumer, for its `close`.
    fn as_any(&self) -> &dyn Any;
}

impl<T: Transport> DynTransport for Dyn<T> {
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }

    fn subscribe<'a>(
        &'a self,
        subscriber: &'a Subscriber,
        workers: usize,
    ) -> BoxFuture<'a, Result<Arc<dyn DynConsumer>>> {
        Box::pin(async move {
            let consumer = self.0.subscribe(subscriber, workers).await?;
            Ok(Arc::new(Dyn(consumer)) as Arc<dyn DynConsumer>)
        })
    }

    fn publish<'a>(&'a self, outgoing: Outgoing<'a>) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.0.publish(outgoing))
    }

    fn dead_letters(&self) -> BoxFuture<'_, Result<Vec<DeadLetter>>> {
        Box::pin(self.0.dead_letters())
    }

    fn dead_letter_summaries(&self) -> BoxFuture<'_, Result<Vec<DeadLetterSummary>>> {
        Box::pin(self.0.dead_letter_summaries())
    }

    fn dead_letter<'a>(
        &'a self,
        id: &'a DeadLetterId,
    ) -> BoxFuture<'a, Result<Option<DeadLetter>>> {
        Box::pin(self.0.dead_letter(id))
    }

    fn replay<'a>(&'a self, id: &'a DeadLetterId) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.0.replay(id))
    }

    fn discard<'a>(&'a self, id: &'a DeadLetterId) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.0.discard(id))
    }

    fn replay_many<'a>(&'a self, ids: &'a [DeadLetterId]) -> BoxFuture<'a, Result<Failed>> {
        Box::pin(self.0.replay_many(ids))
    }

    fn discard_many<'a>(&'a self, ids: &'a [DeadLetterId]) -> BoxFuture<'a, Result<Failed>> {
        Box::pin(self.0.discard_many(ids))
    }

    fn tail<'a>(&'a self, event_name: &'a str) -> BoxFuture<'a, Result<Tail>> {
        Box::pin(self.0.tail(event_name))
    }

    fn wait_idle(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.0.wait_idle())
    }

    fn close<'a>(&'a self, consumers: &'a [Arc<dyn DynConsumer>]) -> BoxFuture<'a, Result<usize>> {
        let own: Vec<T::Consumer> = consumers
            .iter()
            .filter_map(|consumer| consumer.as_any().downcast_ref::<Dyn<T::Consumer>>())
            .map(|consumer| consumer.0.clone())
            .collect();
        Box::pin(async move { self.0.close(&own).await })
    }
}

impl<C: Consumer> DynConsumer for Dyn<C> {
    fn fetch<'a>(&'a self, batch: &'a mut VecDeque<(Delivery, AnyReceipt)>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let mut fetched = VecDeque::new();
            self.0.fetch(&mut fetched).await;
            batch.extend(
                fetched
                    .into_iter()
                    .map(|(delivery, receipt)| (delivery, Box::new(receipt) as AnyReceipt)),
            );
        })
    }

    fn settle(
        &self,
        delivery: Delivery,
        receipt: AnyReceipt,
        outcome: Outcome,
    ) -> BoxFuture<'_, ()> {
        match receipt.downcast::<C::Receipt>() {
            Ok(receipt) => Box::pin(self.0.settle(delivery, *receipt, outcome)),
            // Receipts only ever come back to the consumer that fetched them.
            Err(_) => unreachable!("a receipt settled on another consumer than its own"),
        }
    }

    fn unfinished(&self) -> usize {
        self.0.unfinished()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Workers run on a linked transport's consumer through this impl.
impl Consumer for Arc<dyn DynConsumer> {
    type Receipt = AnyReceipt;

    async fn fetch(&self, batch: &mut VecDeque<(Delivery, AnyReceipt)>) {
        DynConsumer::fetch(&**self, batch).await;
    }

    async fn settle(&self, delivery: Delivery, receipt: AnyReceipt, outcome: Outcome) {
        DynConsumer::settle(&**self, delivery, receipt, outcome).await;
    }

    fn unfinished(&self) -> usize {
        DynConsumer::unfinished(&**self)
    }
}
