//! One subscriber as this bus runs it: its options, rate limiter and its workers' counters.
//! Transport-independent: the same counters whether deliveries come from memory or a broker.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;

use super::rate::RateLimiter;
use crate::metrics::SubscriberMetrics;
use crate::options::Options;
use crate::stats::{Latency, SubscriberStats};
use crate::subscriber::Subscriber;

pub(crate) struct Running {
    pub(crate) name: Arc<str>,
    pub(crate) group: Arc<str>,
    pub(crate) event_name: &'static str,
    pub(crate) options: Options,
    pub(crate) limiter: Option<RateLimiter>,
    pub(crate) workers: Vec<WorkerStats>,
    pub(crate) metrics: SubscriberMetrics,
    pub(crate) store_failures: crate::transport::DeadLetterStoreFailures,
}

impl Running {
    pub(crate) fn new(subscriber: &Subscriber) -> Self {
        let options = subscriber.options.clone();
        let group = subscriber.group_name();
        let store_failures = subscriber.dead_letter_store_failures();
        store_failures.set_metric(crate::metrics::store_failures_counter(
            subscriber.name(),
            group,
            subscriber.event_name(),
        ));
        Running {
            store_failures,
            metrics: SubscriberMetrics::resolve(subscriber.name(), group, subscriber.event_name()),
            name: Arc::clone(&subscriber.name),
            group: group.into(),
            event_name: subscriber.event_name(),
            limiter: options.rate.map(RateLimiter::new),
            workers: (0..options.concurrency)
                .map(|_| WorkerStats::new())
                .collect(),
            options,
        }
    }

    /// The counters, with `unfinished` as the transport counts it (queued plus in flight).
    pub(crate) fn stats(&self, unfinished: usize) -> SubscriberStats {
        let sum = |counter: fn(&WorkerStats) -> &AtomicU64| -> u64 {
            self.workers
                .iter()
                .map(|w| counter(w).load(Ordering::Relaxed))
                .sum()
        };
        let (queued, in_flight) = self.queued_and_in_flight(unfinished);
        let mut merged = histogram();
        for worker in &self.workers {
            merged
                .add(&*worker.latency.lock().expect("latency lock"))
                .expect("same bounds");
        }
        let at = |q| Duration::from_micros(merged.value_at_quantile(q));
        let latency = (!merged.is_empty()).then(|| Latency {
            p50: at(0.5),
            p99: at(0.99),
            max: Duration::from_micros(merged.max()),
        });
        SubscriberStats {
            name: self.name.to_string(),
            group: self.group.to_string(),
            event: self.event_name,
            handled: sum(|w| &w.handled),
            retried: sum(|w| &w.retried),
            dead_lettered: sum(|w| &w.dead_lettered),
            dead_letter_store_failures: self.store_failures.count(),
            in_flight,
            queued,
            latency,
        }
    }

    /// Deliveries waiting and attempts running, given `unfinished` as the transport counts it
    /// (queued plus in flight).
    pub(crate) fn queued_and_in_flight(&self, unfinished: usize) -> (usize, usize) {
        let in_flight = self
            .workers
            .iter()
            .filter(|w| w.busy.load(Ordering::Relaxed))
            .count();
        (unfinished.saturating_sub(in_flight), in_flight)
    }
}

/// One worker's counters: written by that worker alone, so updates need no atomic read-modify-
/// write; `stats()` sums them.
pub(crate) struct WorkerStats {
    handled: AtomicU64,
    retried: AtomicU64,
    dead_lettered: AtomicU64,
    busy: AtomicBool,
    /// Publish → handled, in microseconds.
    latency: Mutex<Histogram<u64>>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 2).expect("valid histogram bounds")
}

fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

impl WorkerStats {
    fn new() -> Self {
        WorkerStats {
            handled: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            dead_lettered: AtomicU64::new(0),
            busy: AtomicBool::new(false),
            latency: Mutex::new(histogram()),
        }
    }

    pub(crate) fn set_busy(&self, busy: bool) {
        self.busy.store(busy, Ordering::Relaxed);
    }

    pub(crate) fn handled(&self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        self.latency
            .lock()
            .expect("latency lock")
            .saturating_record(micros);
        bump(&self.handled);
    }

    pub(crate) fn retried(&self) {
        bump(&self.retried);
    }

    pub(crate) fn dead_lettered(&self) {
        bump(&self.dead_lettered);
    }
}
