//! One subscriber's bounded queue: capacity, per-key lanes for `ordered`, and counters.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::sync::Semaphore;

use super::idle::IdleTracker;
use super::rate::RateLimiter;
use super::ready::ReadyQueue;
use crate::delivery::Delivery;
use crate::options::Options;
use crate::stats::{Latency, SubscriberStats};

/// The queue is closed: the bus is shutting down.
#[derive(Debug)]
pub(crate) struct Closed;

pub(crate) struct SubscriberQueue {
    pub(crate) name: Arc<str>,
    pub(crate) group: Arc<str>,
    pub(crate) event_name: &'static str,
    pub(crate) options: Options,
    pub(crate) limiter: Option<RateLimiter>,
    /// One permit per accepted delivery not yet handled or dead-lettered: bounds memory under
    /// any burst, retries and parked keys included.
    capacity: Semaphore,
    ready: ReadyQueue,
    /// For `ordered`: keys with a delivery running or waiting to retry, and what queues behind it.
    lanes: Option<Mutex<HashMap<u64, VecDeque<Delivery>>>>,
    idle: Arc<IdleTracker>,
    pub(crate) counters: Counters,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) handled: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) dead_lettered: AtomicU64,
    pub(crate) in_flight: AtomicUsize,
    /// Accepted and not finished: queued, in flight, or waiting to retry.
    pub(crate) unfinished: AtomicUsize,
    /// Publish → handled, in microseconds.
    latency: Mutex<Option<Histogram<u64>>>,
}

impl SubscriberQueue {
    pub(crate) fn new(
        name: Arc<str>,
        group: Arc<str>,
        event_name: &'static str,
        options: Options,
        capacity: usize,
        idle: Arc<IdleTracker>,
    ) -> Self {
        SubscriberQueue {
            name,
            group,
            event_name,
            limiter: options.rate.map(RateLimiter::new),
            lanes: options.ordered.then(|| Mutex::new(HashMap::new())),
            options,
            capacity: Semaphore::new(capacity),
            ready: ReadyQueue::default(),
            idle,
            counters: Counters {
                latency: Mutex::new(Histogram::new_with_bounds(1, 3_600_000_000, 2).ok()),
                ..Counters::default()
            },
        }
    }

    /// Accepts a delivery, waiting while the queue is full (backpressure).
    pub(crate) async fn enqueue(&self, delivery: Delivery) -> Result<(), Closed> {
        self.capacity.acquire().await.map_err(|_| Closed)?.forget();
        self.idle.begin();
        self.counters.unfinished.fetch_add(1, Ordering::Relaxed);
        if let (Some(lanes), Some(key)) = (&self.lanes, delivery.meta.key_hash) {
            let mut lanes = lanes.lock().expect("lanes lock");
            if let Some(waiting) = lanes.get_mut(&key) {
                waiting.push_back(delivery);
                return Ok(());
            }
            lanes.insert(key, VecDeque::new());
        }
        self.push_ready(delivery);
        Ok(())
    }

    /// The next delivery to attempt.
    pub(crate) async fn next(&self) -> Delivery {
        self.ready.pop().await
    }

    /// Brings a delivery back after its backoff; its key stays parked until then.
    pub(crate) fn retry_after(self: &Arc<Self>, delivery: Delivery, delay: Duration) {
        let queue = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            queue.push_ready(delivery);
        });
    }

    /// The delivery is handled or dead-lettered: free its slot and release its key.
    pub(crate) fn finish(&self, delivery: &Delivery) {
        if let (Some(lanes), Some(key)) = (&self.lanes, delivery.meta.key_hash) {
            let next = {
                let mut lanes = lanes.lock().expect("lanes lock");
                let waiting = lanes.get_mut(&key).expect("a running key has a lane");
                let next = waiting.pop_front();
                if next.is_none() {
                    lanes.remove(&key);
                }
                next
            };
            if let Some(next) = next {
                self.push_ready(next);
            }
        }
        self.counters.unfinished.fetch_sub(1, Ordering::Relaxed);
        self.capacity.add_permits(1);
        self.idle.end();
    }

    fn push_ready(&self, delivery: Delivery) {
        self.ready.push(delivery);
    }

    /// Refuses further deliveries: publishers waiting for room get `Closed`.
    pub(crate) fn close(&self) {
        self.capacity.close();
    }

    pub(crate) fn record_latency(&self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        if let Some(histogram) = self.counters.latency.lock().expect("latency lock").as_mut() {
            histogram.saturating_record(micros.max(1));
        }
    }

    pub(crate) fn stats(&self) -> SubscriberStats {
        let c = &self.counters;
        let in_flight = c.in_flight.load(Ordering::Relaxed);
        let latency = c
            .latency
            .lock()
            .expect("latency lock")
            .as_ref()
            .and_then(|h| {
                let at = |q| Duration::from_micros(h.value_at_quantile(q));
                (!h.is_empty()).then(|| Latency {
                    p50: at(0.5),
                    p99: at(0.99),
                    max: Duration::from_micros(h.max()),
                })
            });
        SubscriberStats {
            name: self.name.to_string(),
            group: self.group.to_string(),
            event: self.event_name,
            handled: c.handled.load(Ordering::Relaxed),
            retried: c.retried.load(Ordering::Relaxed),
            dead_lettered: c.dead_lettered.load(Ordering::Relaxed),
            in_flight,
            queued: c
                .unfinished
                .load(Ordering::Relaxed)
                .saturating_sub(in_flight),
            latency,
        }
    }
}
