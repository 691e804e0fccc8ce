//! One subscriber's bounded queue: capacity, per-key lanes for `ordered`, and counters.
//!
//! The hot path is cheap by construction: the count of unfinished deliveries (the capacity
//! bound) is one atomic, a publish takes one uncontended lock to append, a worker takes one lock
//! per batch it pulls, and waiting uses tokio's `Notify`, whose waiters live inside the waiting
//! futures, so nothing here allocates per event.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use super::idle::IdleTracker;
use crate::delivery::Delivery;

/// The most deliveries a worker pulls at once: enough to amortise the lock, few enough that
/// other workers of the subscriber still get a share.
const MAX_BATCH: usize = 64;

/// The queue is closed: the bus is shutting down.
#[derive(Debug)]
pub(crate) struct Closed;

pub(crate) struct SubscriberQueue {
    pub(crate) name: Arc<str>,
    pub(crate) event_name: &'static str,
    /// The Rust type of the subscriber's event.
    pub(crate) event_type: std::any::TypeId,
    ordered: bool,
    capacity: usize,
    /// Workers taking from this queue, over every bus instance that runs the subscriber.
    workers: AtomicUsize,
    /// Accepted and neither handled nor dead-lettered: ready, in flight, parked behind their key
    /// or waiting to retry. Never above `capacity`: this bounds memory under any burst.
    unfinished: AtomicUsize,
    publishers_waiting: AtomicUsize,
    state: Mutex<State>,
    /// Wakes a worker: a delivery became ready.
    ready: Notify,
    /// Wakes a publisher: room was made, or the queue closed.
    room: Notify,
    idle: Arc<IdleTracker>,
}

#[derive(Default)]
struct State {
    /// Deliveries a worker may take now, in order.
    ready: VecDeque<Delivery>,
    /// Workers waiting for a delivery: a publish wakes one only if there is one, which spares
    /// the shared `Notify` a write per event while workers are busy.
    waiting_workers: usize,
    closed: bool,
    /// For `ordered`: each key with a delivery running or waiting to retry, and what queues
    /// behind it.
    lanes: Option<HashMap<u64, VecDeque<Delivery>>>,
}

impl State {
    /// Returns the delivery if it may run now; parks it behind its key (ordered queues) if a
    /// delivery of that key is running or waiting to retry.
    fn claim_lane(&mut self, delivery: Delivery) -> Option<Delivery> {
        if let (Some(key), Some(lanes)) = (delivery.meta.key_hash, &mut self.lanes) {
            if let Some(waiting) = lanes.get_mut(&key) {
                waiting.push_back(delivery);
                return None;
            }
            lanes.insert(key, VecDeque::new());
        }
        Some(delivery)
    }

    /// A delivery of `key` finished: the next one parked behind it, if any, may run now.
    fn release_lane(&mut self, key: Option<u64>) -> Option<Delivery> {
        let (Some(key), Some(lanes)) = (key, &mut self.lanes) else {
            return None;
        };
        let waiting = lanes.get_mut(&key).expect("a running key has a lane");
        let next = waiting.pop_front();
        if next.is_none() {
            lanes.remove(&key);
        }
        next
    }
}

impl SubscriberQueue {
    pub(crate) fn new(
        name: Arc<str>,
        event_name: &'static str,
        event_type: std::any::TypeId,
        ordered: bool,
        capacity: usize,
        idle: Arc<IdleTracker>,
    ) -> Self {
        SubscriberQueue {
            name,
            event_name,
            event_type,
            ordered,
            capacity,
            workers: AtomicUsize::new(0),
            unfinished: AtomicUsize::new(0),
            publishers_waiting: AtomicUsize::new(0),
            state: Mutex::new(State {
                lanes: ordered.then(HashMap::new),
                ..State::default()
            }),
            ready: Notify::new(),
            room: Notify::new(),
            idle,
        }
    }

    /// A bus instance starts `n` workers on this queue.
    pub(crate) fn attach(&self, n: usize) {
        self.workers.fetch_add(n, Ordering::SeqCst);
    }

    /// A bus instance stopped its `n` workers; returns how many are left.
    pub(crate) fn detach(&self, n: usize) -> usize {
        self.workers.fetch_sub(n, Ordering::SeqCst) - n
    }

    /// Accepts a delivery, waiting while the queue is full (backpressure).
    pub(crate) async fn enqueue(&self, delivery: Delivery) -> Result<(), Closed> {
        self.reserve().await?;
        let mut state = self.lock();
        if state.closed {
            drop(state);
            self.release(1);
            return Err(Closed);
        }
        if let Some(delivery) = state.claim_lane(delivery) {
            self.push(state, delivery);
        }
        Ok(())
    }

    /// Takes back a delivery accepted before a restart, to run after `delay`. It was accepted
    /// then, so it is let in even past the capacity.
    #[cfg(feature = "durable")]
    pub(crate) fn restore(self: &Arc<Self>, delivery: Delivery, delay: Duration) {
        self.count_in();
        let runnable = self.lock().claim_lane(delivery);
        if let Some(delivery) = runnable {
            self.retry_after(delivery, delay);
        }
    }

    /// Takes one unit of capacity, waiting for room; `Closed` once the queue closed.
    async fn reserve(&self) -> Result<(), Closed> {
        loop {
            if self.count_in() < self.capacity {
                return Ok(());
            }
            // Full: give the unit back and wait for room.
            self.unfinished.fetch_sub(1, Ordering::SeqCst);
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            self.publishers_waiting.fetch_add(1, Ordering::SeqCst);
            // Look again after announcing ourselves: either we see the room a finisher made, or
            // that finisher sees us waiting and wakes us.
            let closed = self.lock().closed;
            if !closed && self.unfinished.load(Ordering::SeqCst) >= self.capacity {
                room.await;
            }
            self.publishers_waiting.fetch_sub(1, Ordering::SeqCst);
            if closed || self.lock().closed {
                return Err(Closed);
            }
        }
    }

    /// Counts one more unfinished delivery; returns how many there were before.
    fn count_in(&self) -> usize {
        let before = self.unfinished.fetch_add(1, Ordering::SeqCst);
        if before == 0 {
            self.idle.queue_busy();
        }
        before
    }

    /// Gives back `n` units of capacity. Waiting publishers are woken only once the queue has
    /// drained by an eighth: they then publish a run of events before it is full again, instead
    /// of a wake-up per freed slot.
    fn release(&self, n: usize) {
        let left = self.unfinished.fetch_sub(n, Ordering::SeqCst) - n;
        if left == 0 {
            self.idle.queue_quiet();
        }
        let low_water = self.capacity - (self.capacity / 8).max(1);
        if left <= low_water && self.publishers_waiting.load(Ordering::SeqCst) > 0 {
            self.room.notify_waiters();
        }
    }

    /// Moves this worker's share of the ready deliveries into `batch`, waiting for at least one.
    pub(crate) async fn take(&self, batch: &mut VecDeque<(Delivery, ())>) {
        loop {
            let ready = self.ready.notified();
            tokio::pin!(ready);
            {
                let mut state = self.lock();
                let share = state
                    .ready
                    .len()
                    .div_ceil(self.workers.load(Ordering::Relaxed).max(1))
                    .min(MAX_BATCH);
                if share > 0 {
                    batch.extend(state.ready.drain(..share).map(|delivery| (delivery, ())));
                    let more = !state.ready.is_empty() && state.waiting_workers > 0;
                    drop(state);
                    if more {
                        // Pass the baton: a waiting worker can take the rest.
                        self.ready.notify_one();
                    }
                    return;
                }
                // Registered under the lock, so a publisher that sees us waiting wakes us.
                ready.as_mut().enable();
                state.waiting_workers += 1;
            }
            ready.await;
            self.lock().waiting_workers -= 1;
        }
    }

    /// Brings a delivery back after its backoff; its key stays parked until then.
    pub(crate) fn retry_after(self: &Arc<Self>, delivery: Delivery, delay: Duration) {
        if delay.is_zero() {
            return self.push_ready(delivery);
        }
        let queue = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            queue.push_ready(delivery);
        });
    }

    fn push_ready(&self, delivery: Delivery) {
        self.push(self.lock(), delivery);
    }

    fn push(&self, mut state: MutexGuard<'_, State>, delivery: Delivery) {
        state.ready.push_back(delivery);
        let wake = state.waiting_workers > 0;
        drop(state);
        if wake {
            self.ready.notify_one();
        }
    }

    /// The delivery is handled or dead-lettered: release its key and its capacity.
    pub(crate) fn finish(&self, key_hash: Option<u64>) {
        if key_hash.is_some() && self.ordered {
            let mut state = self.lock();
            if let Some(next) = state.release_lane(key_hash) {
                self.push(state, next);
            }
        }
        self.release(1);
    }

    /// Refuses further deliveries: publishers waiting for room get `Closed`.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.room.notify_waiters();
    }

    pub(crate) fn unfinished(&self) -> usize {
        self.unfinished.load(Ordering::SeqCst)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("queue lock")
    }
}
