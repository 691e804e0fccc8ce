//! Counts unfinished deliveries across the bus so `wait_idle` and shutdown can wait for zero.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

#[derive(Debug, Default)]
pub(crate) struct IdleTracker {
    unfinished: AtomicUsize,
    became_idle: Notify,
}

impl IdleTracker {
    pub(crate) fn begin(&self) {
        self.unfinished.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn end(&self) {
        if self.unfinished.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.became_idle.notify_waiters();
        }
    }

    pub(crate) fn unfinished(&self) -> usize {
        self.unfinished.load(Ordering::SeqCst)
    }

    /// Returns once nothing is queued, in flight or waiting to retry.
    pub(crate) async fn wait(&self) {
        loop {
            let idle = self.became_idle.notified();
            tokio::pin!(idle);
            // Register before checking, so a notification between the check and the await is kept.
            idle.as_mut().enable();
            if self.unfinished() == 0 {
                return;
            }
            idle.await;
        }
    }
}
