//! The deliveries ready for a subscriber's workers: a FIFO shared by several consumers.
//!
//! Written here rather than taken from a channel crate because the hot path must not allocate:
//! tokio's `Notify` keeps its waiters inside the waiting futures, and the `VecDeque` stops
//! growing once it reached the subscriber's capacity (the permits bound how many are queued).

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::Notify;

use crate::delivery::Delivery;

#[derive(Default)]
pub(crate) struct ReadyQueue {
    items: Mutex<VecDeque<Delivery>>,
    pushed: Notify,
}

impl ReadyQueue {
    pub(crate) fn push(&self, delivery: Delivery) {
        self.items
            .lock()
            .expect("ready queue lock")
            .push_back(delivery);
        self.pushed.notify_one();
    }

    pub(crate) async fn pop(&self) -> Delivery {
        loop {
            let pushed = self.pushed.notified();
            tokio::pin!(pushed);
            // Register before looking, so a push between the look and the wait still wakes us.
            pushed.as_mut().enable();
            if let Some(delivery) = self.items.lock().expect("ready queue lock").pop_front() {
                return delivery;
            }
            pushed.await;
        }
    }
}
