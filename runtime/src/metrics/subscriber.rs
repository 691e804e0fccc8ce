//! The metrics of one subscriber, resolved once when the bus starts it.

use std::time::Duration;

use metrics::{Counter, Gauge, Histogram};

use super::{DEAD_LETTERED, HANDLE_DURATION, HANDLED, IN_FLIGHT, QUEUE_DEPTH, RETRIED};

pub(crate) struct SubscriberMetrics {
    pub(crate) handled: Counter,
    pub(crate) retried: Counter,
    pub(crate) dead_lettered: Counter,
    handle_duration: Histogram,
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
            handle_duration: metrics::histogram!(HANDLE_DURATION, &labels[..2]),
            queue_depth: metrics::gauge!(QUEUE_DEPTH, &labels),
            in_flight: metrics::gauge!(IN_FLIGHT, &labels),
        }
    }

    pub(crate) fn attempt_took(&self, duration: Duration) {
        self.handle_duration.record(duration);
    }

    pub(crate) fn set_gauges(&self, queued: usize, in_flight: usize) {
        self.queue_depth.set(queued as f64);
        self.in_flight.set(in_flight as f64);
    }
}
