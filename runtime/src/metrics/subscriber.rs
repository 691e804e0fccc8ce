//! The metrics of one subscriber, resolved once when the bus starts it.

use std::time::Instant;

use metrics::{Counter, Gauge, Histogram};

use super::{
    DEAD_LETTERED, HANDLE_DURATION, HANDLED, IN_FLIGHT, QUEUE_DEPTH, RETRIED, recorder_is_noop,
};

pub(crate) struct SubscriberMetrics {
    pub(crate) handled: Counter,
    pub(crate) retried: Counter,
    pub(crate) dead_lettered: Counter,
    /// `None` without a recorder: then attempts are not timed at all, sparing two clock reads.
    handle_duration: Option<Histogram>,
    queue_depth: Gauge,
    in_flight: Gauge,
}

impl SubscriberMetrics {
    /// Handles from the recorder installed now (no-ops without one).
    pub(crate) fn resolve(subscriber: &str, group: &str, event: &'static str) -> Self {
        let labels = [
            ("event", event.to_owned()),
            ("subscriber", subscriber.to_owned()),
            ("group", group.to_owned()),
        ];
        SubscriberMetrics {
            handled: metrics::counter!(HANDLED, &labels),
            retried: metrics::counter!(RETRIED, &labels),
            dead_lettered: metrics::counter!(DEAD_LETTERED, &labels),
            handle_duration: (!recorder_is_noop())
                .then(|| metrics::histogram!(HANDLE_DURATION, &labels[..2])),
            queue_depth: metrics::gauge!(QUEUE_DEPTH, &labels),
            in_flight: metrics::gauge!(IN_FLIGHT, &labels),
        }
    }

    /// When an attempt starts, if its duration is recorded.
    pub(crate) fn attempt_started(&self) -> Option<Instant> {
        self.handle_duration.as_ref().map(|_| Instant::now())
    }

    pub(crate) fn attempt_ended(&self, started: Option<Instant>) {
        if let (Some(histogram), Some(started)) = (&self.handle_duration, started) {
            histogram.record(started.elapsed());
        }
    }

    pub(crate) fn set_gauges(&self, queued: usize, in_flight: usize) {
        self.queue_depth.set(queued as f64);
        self.in_flight.set(in_flight as f64);
    }
}
