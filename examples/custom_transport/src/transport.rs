//! [`TwinTransport`]: the engine as a [`Transport`], and how a `twin://NAME` URL opens it.

use std::sync::Arc;

use tidings_core::transport::{Capabilities, Connect, Outgoing, Transport, TransportUrl};
use tidings_core::{DeadLetter, DeadLetterId, Error, Result, Subscriber, Tail};

use crate::consumer::TwinConsumer;
use crate::engine::{self, Engine};

/// `twin://NAME`: an in-process transport; every bus of this process naming NAME shares it.
#[derive(Debug)]
pub struct TwinTransport {
    engine: Arc<Engine>,
}

impl Connect for TwinTransport {
    async fn connect(url: TransportUrl, queue_capacity: usize) -> Result<Self> {
        let name = url.address();
        if name.is_empty() || url.user().is_some() || !url.options().is_empty() {
            return Err(url.unsupported(
                "a twin URL is `twin://NAME`: a name that buses sharing the engine give, \
                 without credentials or options",
            ));
        }
        Ok(TwinTransport {
            engine: engine::open(name, queue_capacity),
        })
    }
}

impl Transport for TwinTransport {
    type Consumer = TwinConsumer;

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            scheme: "twin://",
            ordered: true,
            max_retries: None,
            max_backoff: None,
        }
    }

    async fn subscribe(&self, subscriber: &Subscriber, workers: usize) -> Result<TwinConsumer> {
        let queue = self.engine.queue_for(subscriber)?;
        queue.attach(workers);
        Ok(TwinConsumer {
            queue,
            engine: Arc::clone(&self.engine),
            workers,
        })
    }

    async fn publish(&self, outgoing: Outgoing<'_>) -> Result<()> {
        self.engine.show(&outgoing);
        // Fan-out: a delivery for every subscriber, each waiting for room in its queue. An
        // event with no subscriber is accepted and goes nowhere, as on any transport.
        for queue in self.engine.subscribers_of(outgoing.event_name) {
            // In one process the event itself travels: the subscriber gets the publisher's
            // `Arc`. A transport across processes would send `outgoing.to_envelope()`.
            queue
                .enqueue(outgoing.delivery())
                .await
                .map_err(|_| Error::ShutDown)?;
        }
        Ok(())
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        Ok(self.engine.dead_letters.list())
    }

    async fn dead_letter(&self, id: &DeadLetterId) -> Result<Option<DeadLetter>> {
        Ok(self.engine.dead_letters.get(id))
    }

    async fn replay(&self, id: &DeadLetterId) -> Result<()> {
        let dead_letters = &self.engine.dead_letters;
        let kept = dead_letters.take(id)?;
        let Some(queue) = self.engine.queue_named(&kept.letter.subscriber) else {
            let subscriber = kept.letter.subscriber.clone();
            dead_letters.keep(kept.letter, kept.delivery);
            return Err(Error::SubscriberNotRunning {
                id: *id,
                subscriber,
            });
        };
        // To that subscriber's queue only, as a first attempt.
        let mut delivery = kept.delivery.clone();
        delivery.attempt = 1;
        delivery.first_failed_at = None;
        if queue.enqueue(delivery).await.is_err() {
            dead_letters.keep(kept.letter, kept.delivery);
            return Err(Error::ShutDown);
        }
        Ok(())
    }

    async fn discard(&self, id: &DeadLetterId) -> Result<()> {
        self.engine.dead_letters.take(id).map(drop)
    }

    async fn tail(&self, event_name: &str) -> Result<Tail> {
        Ok(self.engine.open_tail(event_name))
    }

    async fn wait_idle(&self) {
        self.engine.idle.wait().await;
    }

    async fn close(&self, consumers: &[TwinConsumer]) -> Result<usize> {
        let mut unfinished = 0;
        for consumer in consumers {
            // Only when no other bus runs the subscriber is its queue closed, and what it
            // still holds reported.
            if let Some(left) = consumer.queue.detach(consumer.workers) {
                self.engine.remove(&consumer.queue);
                unfinished += left;
            }
        }
        Ok(unfinished)
    }
}
