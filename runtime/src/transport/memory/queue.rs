//! One subscriber's bounded queue: capacity, per-key lanes for `ordered`, and counters.
//!
//! Everything a publish or a finished delivery changes sits behind one mutex, so each costs one
//! uncontended lock; waiting uses tokio's `Notify`, whose waiters live inside the waiting futures,
//! so the hot path allocates nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::sync::Notify;

use super::idle::IdleTracker;
use super::rate::RateLimiter;
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
    capacity: usize,
    state: Mutex<State>,
    /// Wakes a worker: a delivery became ready.
    ready: Notify,
    /// Wakes a publisher: room was made, or the queue closed.
    room: Notify,
    idle: Arc<IdleTracker>,
    pub(crate) counters: Counters,
}

#[derive(Default)]
struct State {
    /// Deliveries a worker may take now, in order.
    ready: VecDeque<Delivery>,
    /// Accepted and neither handled nor dead-lettered: ready, in flight, parked behind their key
    /// or waiting to retry. Never above `capacity`: this bounds memory under any burst.
    unfinished: usize,
    publishers_waiting: usize,
    closed: bool,
    /// For `ordered`: each key with a delivery running or waiting to retry, and what queues
    /// behind it.
    lanes: Option<HashMap<u64, VecDeque<Delivery>>>,
}

pub(crate) struct Counters {
    pub(crate) handled: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) dead_lettered: AtomicU64,
    pub(crate) in_flight: AtomicUsize,
    /// Publish → handled in microseconds, one histogram per worker so workers never contend.
    latency: Vec<Mutex<Histogram<u64>>>,
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
        let histogram = || {
            Mutex::new(
                Histogram::new_with_bounds(1, 3_600_000_000, 2).expect("valid histogram bounds"),
            )
        };
        SubscriberQueue {
            name,
            group,
            event_name,
            limiter: options.rate.map(RateLimiter::new),
            capacity,
            state: Mutex::new(State {
                lanes: options.ordered.then(HashMap::new),
                ..State::default()
            }),
            ready: Notify::new(),
            room: Notify::new(),
            idle,
            counters: Counters {
                handled: AtomicU64::new(0),
                retried: AtomicU64::new(0),
                dead_lettered: AtomicU64::new(0),
                in_flight: AtomicUsize::new(0),
                latency: (0..options.concurrency).map(|_| histogram()).collect(),
            },
            options,
        }
    }

    /// Accepts a delivery, waiting while the queue is full (backpressure).
    pub(crate) async fn enqueue(&self, delivery: Delivery) -> Result<(), Closed> {
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            {
                let mut state = self.lock();
                if state.closed {
                    return Err(Closed);
                }
                if state.unfinished < self.capacity {
                    self.accept(state, delivery);
                    return Ok(());
                }
                // Registered under the lock, so no wake-up falls between the check and the wait.
                room.as_mut().enable();
                state.publishers_waiting += 1;
            }
            room.await;
            self.lock().publishers_waiting -= 1;
        }
    }

    fn accept(&self, mut state: MutexGuard<'_, State>, delivery: Delivery) {
        state.unfinished += 1;
        if state.unfinished == 1 {
            self.idle.queue_busy();
        }
        if let Some(key) = delivery.meta.key_hash
            && let Some(lanes) = &mut state.lanes
        {
            if let Some(waiting) = lanes.get_mut(&key) {
                waiting.push_back(delivery);
                return;
            }
            lanes.insert(key, VecDeque::new());
        }
        state.ready.push_back(delivery);
        drop(state);
        self.ready.notify_one();
    }

    /// The next delivery to attempt, in order.
    pub(crate) async fn next(&self) -> Delivery {
        loop {
            let ready = self.ready.notified();
            tokio::pin!(ready);
            ready.as_mut().enable();
            if let Some(delivery) = self.lock().ready.pop_front() {
                return delivery;
            }
            ready.await;
        }
    }

    /// Brings a delivery back after its backoff; its key stays parked until then.
    pub(crate) fn retry_after(self: &Arc<Self>, delivery: Delivery, delay: Duration) {
        let queue = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            queue.lock().ready.push_back(delivery);
            queue.ready.notify_one();
        });
    }

    /// The delivery is handled or dead-lettered: free its place and release its key.
    pub(crate) fn finish(&self, delivery: &Delivery) {
        let mut state = self.lock();
        let mut next_ready = false;
        if let Some(key) = delivery.meta.key_hash
            && let Some(lanes) = &mut state.lanes
        {
            let waiting = lanes.get_mut(&key).expect("a running key has a lane");
            match waiting.pop_front() {
                Some(next) => {
                    state.ready.push_back(next);
                    next_ready = true;
                }
                None => drop(lanes.remove(&key)),
            }
        }
        state.unfinished -= 1;
        let now_idle = state.unfinished == 0;
        let publisher_waits = state.publishers_waiting > 0;
        drop(state);
        if next_ready {
            self.ready.notify_one();
        }
        if publisher_waits {
            self.room.notify_one();
        }
        if now_idle {
            self.idle.queue_quiet();
        }
    }

    /// Refuses further deliveries: publishers waiting for room get `Closed`.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.room.notify_waiters();
    }

    pub(crate) fn record_latency(&self, worker: usize, latency: Duration) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        self.counters.latency[worker]
            .lock()
            .expect("latency lock")
            .saturating_record(micros);
    }

    pub(crate) fn unfinished(&self) -> usize {
        self.lock().unfinished
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("queue lock")
    }

    pub(crate) fn stats(&self) -> SubscriberStats {
        let c = &self.counters;
        let in_flight = c.in_flight.load(Ordering::Relaxed);
        let mut merged =
            Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 2).expect("valid histogram bounds");
        for histogram in &c.latency {
            merged
                .add(&*histogram.lock().expect("latency lock"))
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
            handled: c.handled.load(Ordering::Relaxed),
            retried: c.retried.load(Ordering::Relaxed),
            dead_lettered: c.dead_lettered.load(Ordering::Relaxed),
            in_flight,
            queued: self.unfinished().saturating_sub(in_flight),
            latency,
        }
    }
}
