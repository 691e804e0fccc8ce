//! Where one bus's workers of a subscriber take deliveries from and settle them. The bus
//! decides each outcome; the consumer only carries it out.

use std::collections::VecDeque;
use std::sync::Arc;

use tidings_core::transport::{Consumer, Delivery, Outcome};

use crate::engine::Engine;
use crate::queue::SubscriberQueue;

/// One bus's workers of one subscriber, on the queue every bus running that subscriber shares.
#[derive(Debug, Clone)]
pub struct TwinConsumer {
    pub(crate) queue: Arc<SubscriberQueue>,
    pub(crate) engine: Arc<Engine>,
    /// How many workers this bus runs on the queue, given back when the bus closes.
    pub(crate) workers: usize,
}

impl Consumer for TwinConsumer {
    /// Nothing to settle with: the queue is in this process.
    type Receipt = ();

    async fn fetch(&self, batch: &mut VecDeque<(Delivery, ())>) {
        self.queue.take(batch).await;
    }

    async fn settle(&self, delivery: Delivery, (): (), outcome: Outcome) {
        match outcome {
            Outcome::Handled => self.queue.finish(delivery.meta.key_hash),
            Outcome::Retry { delay } => self.queue.retry_after(delivery, delay),
            Outcome::DeadLettered(letter) => {
                let key_hash = delivery.meta.key_hash;
                self.engine.dead_letters.keep(*letter, delivery);
                self.queue.finish(key_hash);
            }
        }
    }

    fn unfinished(&self) -> usize {
        self.queue.unfinished()
    }
}
