//! Knows when nothing is left to do anywhere on the engine, for `Bus::wait_idle` and shutdown.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

#[derive(Debug, Default)]
pub(crate) struct Idle {
    /// Deliveries accepted by any queue and not yet handled or dead-lettered.
    unfinished: AtomicUsize,
    became_idle: Notify,
}

impl Idle {
    pub(crate) fn started(&self) {
        self.unfinished.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn finished(&self, deliveries: usize) {
        if deliveries > 0 && self.unfinished.fetch_sub(deliveries, Ordering::SeqCst) == deliveries {
            self.became_idle.notify_waiters();
        }
    }

    /// Returns once nothing is queued, in flight or waiting to retry.
    pub(crate) async fn wait(&self) {
        loop {
            let idle = self.became_idle.notified();
            tokio::pin!(idle);
            // Registered before looking, so turning idle between the look and the wait wakes us.
            idle.as_mut().enable();
            if self.unfinished.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}
