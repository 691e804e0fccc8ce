//! Knows when the whole bus is quiet, for `wait_idle` and shutdown. Counts busy queues rather
//! than deliveries, so the shared counter is touched only when a queue turns busy or quiet.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

#[derive(Debug, Default)]
pub(crate) struct IdleTracker {
    busy_queues: AtomicUsize,
    became_idle: Notify,
}

impl IdleTracker {
    pub(crate) fn queue_busy(&self) {
        self.busy_queues.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn queue_quiet(&self) {
        if self.busy_queues.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.became_idle.notify_waiters();
        }
    }

    fn is_idle(&self) -> bool {
        self.busy_queues.load(Ordering::SeqCst) == 0
    }

    /// Returns once nothing is queued, in flight or waiting to retry.
    pub(crate) async fn wait(&self) {
        loop {
            let idle = self.became_idle.notified();
            tokio::pin!(idle);
            // Register before checking, so a notification between the check and the await is kept.
            idle.as_mut().enable();
            if self.is_idle() {
                return;
            }
            idle.await;
        }
    }
}
