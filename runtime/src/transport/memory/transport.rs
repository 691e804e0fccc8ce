//! The in-process engine as a [`Transport`]: `memory://` and, with a journal, `file://`.

use std::sync::Arc;

use super::routes::Routes;
use super::{LocalConsumer, LocalEngine, SubscriberQueue, registry};
use crate::dead_letter::{DeadLetter, DeadLetterId};
use crate::delivery::Delivery;
use crate::error::{Error, Result};
use crate::letter_summary::DeadLetterSummary;
use crate::subscriber::Subscriber;
use crate::tail::Tail;
use crate::transport::{Capabilities, Outgoing, Transport};

pub(crate) struct LocalTransport(pub(crate) Arc<LocalEngine>);

impl LocalTransport {
    /// Under virtual time: see [`Journal::hold_clock_on_writes`](crate::transport::durable::Journal::hold_clock_on_writes).
    pub(crate) fn hold_clock_on_writes(&self) {
        if let Some(journal) = &self.0.journal {
            journal.hold_clock_on_writes();
        }
    }
}

impl Transport for LocalTransport {
    type Consumer = LocalConsumer;

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            scheme: if self.0.journal.is_some() {
                "file://"
            } else {
                "memory://"
            },
            ordered: true,
            max_retries: None,
            max_backoff: None,
        }
    }

    async fn subscribe(&self, subscriber: &Subscriber, workers: usize) -> Result<LocalConsumer> {
        let engine = &self.0;
        let mut queues = engine.queues();
        let queue = match queues.iter().find(|queue| queue.name == subscriber.name) {
            Some(queue) if queue.event_name != subscriber.event_name() => {
                return Err(Error::Build(vec![format!(
                    "subscriber `{}` already runs on this transport for event `{}`, not `{}`; \
                     instances of one subscriber must handle the same event",
                    subscriber.name(),
                    queue.event_name,
                    subscriber.event_name()
                )]));
            }
            Some(queue) => Arc::clone(queue),
            None => {
                let queue = Arc::new(SubscriberQueue::new(
                    Arc::clone(&subscriber.name),
                    subscriber.event_name(),
                    subscriber.handler.event_type(),
                    subscriber.options.ordered,
                    engine.capacity,
                    Arc::clone(&engine.idle),
                ));
                queues.push(Arc::clone(&queue));
                engine.routes.store(Arc::new(Routes::new(&queues)));
                #[cfg(feature = "durable")]
                engine.hand_over_owed(&queue);
                queue
            }
        };
        queue.attach(workers);
        Ok(LocalConsumer {
            queue,
            engine: Arc::clone(engine),
            workers,
        })
    }

    async fn publish(&self, outgoing: Outgoing<'_>) -> Result<()> {
        if self.0.taps.watching() {
            self.0
                .taps
                .show(outgoing.event_name, || outgoing.to_envelope().ok());
        }
        let routes = self.0.routes.load_full();
        let queues = routes.to(outgoing.event_name, outgoing.event_type);
        if queues.is_empty() {
            tracing::trace!(event = outgoing.event_name, id = %outgoing.meta.id, "published with no subscriber");
            self.0
                .unrouted
                .dropped(outgoing.event_name, self.capabilities().scheme);
            return Ok(());
        }
        let seq = match &self.0.journal {
            Some(journal) => {
                let names = queues.iter().map(|queue| Arc::clone(&queue.name)).collect();
                journal
                    .append(outgoing.to_cloudevent_json()?, names)
                    .await?
            }
            None => 0,
        };
        for queue in queues {
            let delivery = Delivery {
                meta: outgoing.meta.clone(),
                payload: outgoing.payload.clone(),
                attempt: 1,
                first_failed_at: None,
                seq,
            };
            queue.enqueue(delivery).await.map_err(|_| Error::ShutDown)?;
        }
        Ok(())
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        self.0.dead_letters.list(self.0.journal.as_ref()).await
    }

    async fn dead_letter_summaries(&self) -> Result<Vec<DeadLetterSummary>> {
        Ok(self.0.dead_letters.summaries())
    }

    async fn dead_letter(&self, id: &DeadLetterId) -> Result<Option<DeadLetter>> {
        self.0.dead_letters.get(id, self.0.journal.as_ref()).await
    }

    async fn replay(&self, id: &DeadLetterId) -> Result<()> {
        let engine = &self.0;
        let stored = engine
            .dead_letters
            .take(id, engine.journal.as_ref())
            .await?;
        let queue = engine.queue_named(&stored.letter.subscriber);
        if queue.is_none() && engine.journal.is_none() {
            let subscriber = stored.letter.subscriber.clone();
            engine.dead_letters.keep(stored.letter, stored.delivery);
            return Err(Error::SubscriberNotRunning {
                id: *id,
                subscriber,
            });
        }
        // On disk, one write adds the new delivery and revives the letter's event.
        #[cfg_attr(not(feature = "durable"), allow(unused_variables))]
        let (seq, record) = match &engine.journal {
            Some(journal) => {
                let record = stored.letter.envelope.to_cloudevent_json();
                let subscriber: Arc<str> = stored.letter.subscriber.as_str().into();
                let revives = Some(id.to_bytes());
                match journal
                    .append_reviving(record.clone(), vec![subscriber], revives)
                    .await
                {
                    Ok(seq) => (seq, Some(record)),
                    Err(error) => {
                        engine.dead_letters.keep(stored.letter, stored.delivery);
                        return Err(error);
                    }
                }
            }
            None => (0, None),
        };
        let Some(queue) = queue else {
            // Only a journal gets here (see above): no bus here runs the subscriber (the
            // `tidings` CLI on a stopped application's store), which gets the delivery when one
            // does, in this process or after a restart.
            #[cfg(feature = "durable")]
            engine.owe(&stored.letter.subscriber, seq, record);
            return Ok(());
        };
        let delivery = Delivery {
            attempt: 1,
            first_failed_at: None,
            seq,
            ..stored.delivery
        };
        queue.enqueue(delivery).await.map_err(|_| Error::ShutDown)
    }

    async fn discard(&self, id: &DeadLetterId) -> Result<()> {
        self.0
            .dead_letters
            .take(id, self.0.journal.as_ref())
            .await?;
        if let Some(journal) = &self.0.journal {
            journal.discarded(id.to_bytes());
        }
        Ok(())
    }

    async fn tail(&self, event_name: &str) -> Result<Tail> {
        Ok(self.0.taps.open(event_name))
    }

    async fn wait_idle(&self) {
        self.0.idle.wait().await;
    }

    async fn close(&self, consumers: &[LocalConsumer]) -> Result<usize> {
        let engine = &self.0;
        let mut unfinished = 0;
        {
            let mut queues = engine.queues();
            for consumer in consumers {
                if consumer.queue.detach(consumer.workers) == 0 {
                    // No bus runs this subscriber any more: publishers waiting for room get
                    // `ShutDown`, and later events no longer route to it.
                    consumer.queue.close();
                    unfinished += consumer.queue.unfinished();
                    queues.retain(|queue| !Arc::ptr_eq(queue, &consumer.queue));
                }
            }
            engine.routes.store(Arc::new(Routes::new(&queues)));
        }
        if registry::release(engine)
            && let Some(journal) = &engine.journal
        {
            journal.close().await?;
        }
        Ok(unfinished)
    }
}
