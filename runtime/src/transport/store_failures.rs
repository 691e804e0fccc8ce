//! How a transport reports a dead letter it could not store: the delivery is kept (delivered
//! again later), and the subscriber's `dead_letter_store_failures` counter, its stats and the
//! `tidings_dead_letter_store_failures_total` metric say so, rather than a log line alone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// One subscriber's count of dead letters its transport failed to store: a clone shares it.
#[derive(Clone, Default)]
pub struct DeadLetterStoreFailures(Arc<Inner>);

#[derive(Default)]
struct Inner {
    count: AtomicU64,
    /// Resolved when the bus starts the subscriber, with its labels.
    metric: OnceLock<metrics::Counter>,
}

impl DeadLetterStoreFailures {
    /// Counts one failed attempt to store a dead letter.
    pub fn record(&self) {
        self.0.count.fetch_add(1, Ordering::Relaxed);
        if let Some(metric) = self.0.metric.get() {
            metric.increment(1);
        }
    }

    /// Failed attempts so far.
    pub fn count(&self) -> u64 {
        self.0.count.load(Ordering::Relaxed)
    }

    pub(crate) fn set_metric(&self, metric: metrics::Counter) {
        let _ = self.0.metric.set(metric);
    }
}

impl std::fmt::Debug for DeadLetterStoreFailures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeadLetterStoreFailures({})", self.count())
    }
}
