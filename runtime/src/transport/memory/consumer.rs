//! A subscriber's workers on the in-process engine: they take from its queue and settle into
//! the engine (and its journal, on `file://`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::SystemTime;

use super::LocalEngine;
use super::queue::SubscriberQueue;
use crate::delivery::Delivery;
use crate::letter_summary::DeadLetterSummary;
use crate::transport::{Consumer, Outcome};
use crate::wire::StoredLetter;

#[derive(Clone)]
pub(crate) struct LocalConsumer {
    pub(crate) queue: Arc<SubscriberQueue>,
    pub(crate) engine: Arc<LocalEngine>,
    /// How many workers this bus runs on the queue.
    pub(crate) workers: usize,
}

impl Consumer for LocalConsumer {
    /// Nothing: a delivery's journal position travels in the delivery itself, since the
    /// queue keeps it there for retries anyway.
    type Receipt = ();

    async fn fetch(&self, batch: &mut VecDeque<(Delivery, ())>) {
        self.queue.take(batch).await;
    }

    async fn settle(&self, mut delivery: Delivery, (): (), outcome: Outcome) {
        let (queue, journal) = (&self.queue, self.engine.journal.as_ref());
        match outcome {
            Outcome::Handled => {
                if let Some(journal) = journal {
                    journal.acked(&queue.name, delivery.seq);
                }
                // Released at once: a handler that publishes into a full queue must never wait
                // on capacity its own worker is sitting on.
                queue.finish(delivery.meta.key_hash);
            }
            Outcome::Retry { delay } => {
                if let Some(journal) = journal {
                    journal.retrying(
                        &queue.name,
                        delivery.seq,
                        delivery.attempt,
                        SystemTime::now() + delay,
                        delivery.first_failed_at.unwrap_or_else(SystemTime::now),
                    );
                }
                delivery.attempt = delivery.attempt.saturating_add(1);
                queue.retry_after(delivery, delay);
            }
            Outcome::DeadLettered(letter) => {
                if let Some(journal) = journal {
                    let id = letter.id.to_bytes();
                    let stored = StoredLetter::from(&*letter);
                    let summary = DeadLetterSummary::of(&letter);
                    journal.dead_lettered(&queue.name, delivery.seq, id, stored, summary);
                }
                let key_hash = delivery.meta.key_hash;
                self.engine.dead_letters.keep(*letter, delivery);
                queue.finish(key_hash);
            }
        }
    }

    fn unfinished(&self) -> usize {
        self.queue.unfinished()
    }
}
