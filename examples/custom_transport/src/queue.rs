//! One subscriber's queue: bounded, shared by the workers of every bus that runs the
//! subscriber, with a lane per key for `ordered` subscribers.
//!
//! Everything sits behind one mutex. A transport built for throughput would split it (the
//! core's memory engine keeps the capacity count in an atomic); this one is written to be read.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tidings_core::transport::Delivery;
use tokio::sync::Notify;

use crate::idle::Idle;

/// The queue no longer takes deliveries: no bus runs its subscriber any more.
#[derive(Debug)]
pub(crate) struct Closed;

#[derive(Debug)]
pub(crate) struct SubscriberQueue {
    pub(crate) subscriber: String,
    pub(crate) event_name: &'static str,
    capacity: usize,
    state: Mutex<State>,
    /// A delivery became ready: wakes a waiting worker.
    became_ready: Notify,
    /// A delivery finished or the queue closed: wakes publishers waiting for room.
    made_room: Notify,
    idle: Arc<Idle>,
}

#[derive(Debug, Default)]
struct State {
    /// Deliveries a worker may take now, oldest first.
    ready: VecDeque<Delivery>,
    /// Accepted and neither handled nor dead-lettered: ready, in flight, waiting to retry or
    /// parked behind their key. Never above `capacity`.
    unfinished: usize,
    /// Workers pulling from this queue, over every bus that runs the subscriber.
    workers: usize,
    closed: bool,
    /// For `ordered` subscribers: each key with a delivery in flight or waiting to retry, and
    /// the deliveries of that key parked behind it in publish order. Keyless events pass by.
    lanes: Option<HashMap<u64, VecDeque<Delivery>>>,
}

impl SubscriberQueue {
    pub(crate) fn new(
        subscriber: &str,
        event_name: &'static str,
        ordered: bool,
        capacity: usize,
        idle: Arc<Idle>,
    ) -> Self {
        SubscriberQueue {
            subscriber: subscriber.to_owned(),
            event_name,
            capacity,
            state: Mutex::new(State {
                lanes: ordered.then(HashMap::new),
                ..State::default()
            }),
            became_ready: Notify::new(),
            made_room: Notify::new(),
            idle,
        }
    }

    /// Accepts a delivery, waiting while the queue is full. Cancelling the wait leaves nothing
    /// behind: room is taken and the delivery queued under one lock.
    pub(crate) async fn enqueue(&self, delivery: Delivery) -> Result<(), Closed> {
        loop {
            let room = self.made_room.notified();
            tokio::pin!(room);
            // Registered before looking, so room made between the look and the wait wakes us.
            room.as_mut().enable();
            {
                let mut state = self.lock();
                if state.closed {
                    return Err(Closed);
                }
                if state.unfinished < self.capacity {
                    state.unfinished += 1;
                    self.idle.started();
                    if let Some(runnable) = claim_lane(&mut state, delivery) {
                        self.make_ready(state, runnable);
                    }
                    return Ok(());
                }
            }
            room.await;
        }
    }

    /// Moves one ready delivery into `batch`, waiting for one. One at a time, so that the
    /// workers of every bus running the subscriber share its work evenly.
    pub(crate) async fn take(&self, batch: &mut VecDeque<(Delivery, ())>) {
        loop {
            let ready = self.became_ready.notified();
            tokio::pin!(ready);
            ready.as_mut().enable();
            if let Some(delivery) = self.lock().ready.pop_front() {
                batch.push_back((delivery, ()));
                return;
            }
            ready.await;
        }
    }

    /// A failed attempt: the delivery comes back as its next attempt once `delay` has passed.
    /// Its key's lane stays taken meanwhile, so later events of the key wait behind it.
    pub(crate) fn retry_after(self: &Arc<Self>, mut delivery: Delivery, delay: Duration) {
        delivery.attempt += 1;
        let queue = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            queue.make_ready(queue.lock(), delivery);
        });
    }

    /// The delivery of `key_hash` was handled or dead-lettered: the next of its key may run,
    /// and its room goes to a waiting publisher.
    pub(crate) fn finish(&self, key_hash: Option<u64>) {
        let mut state = self.lock();
        state.unfinished -= 1;
        match release_lane(&mut state, key_hash) {
            Some(next) => self.make_ready(state, next),
            None => drop(state),
        }
        self.idle.finished(1);
        self.made_room.notify_waiters();
    }

    /// A bus starts `workers` workers on this queue.
    pub(crate) fn attach(&self, workers: usize) {
        self.lock().workers += workers;
    }

    /// A bus stopped its `workers` workers. If they were the last, the queue closes (waiting
    /// publishers get `Closed`) and returns what it leaves unfinished; else `None`.
    pub(crate) fn detach(&self, workers: usize) -> Option<usize> {
        let mut state = self.lock();
        state.workers -= workers;
        if state.workers > 0 {
            return None;
        }
        state.closed = true;
        let abandoned = state.unfinished;
        drop(state);
        // Nobody will finish these now: they no longer keep `wait_idle` waiting.
        self.idle.finished(abandoned);
        self.made_room.notify_waiters();
        Some(abandoned)
    }

    pub(crate) fn unfinished(&self) -> usize {
        self.lock().unfinished
    }

    fn make_ready(&self, mut state: MutexGuard<'_, State>, delivery: Delivery) {
        state.ready.push_back(delivery);
        drop(state);
        self.became_ready.notify_one();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("queue lock")
    }
}

/// Returns the delivery if it may run now, or parks it behind its key: on an `ordered` queue,
/// while a delivery of the same key is in flight or waiting to retry.
fn claim_lane(state: &mut State, delivery: Delivery) -> Option<Delivery> {
    let (Some(lanes), Some(key)) = (&mut state.lanes, delivery.meta.key_hash) else {
        return Some(delivery);
    };
    match lanes.get_mut(&key) {
        Some(parked) => {
            parked.push_back(delivery);
            None
        }
        None => {
            lanes.insert(key, VecDeque::new());
            Some(delivery)
        }
    }
}

/// The delivery of `key` is done: returns the next one parked behind it, or frees the lane.
fn release_lane(state: &mut State, key: Option<u64>) -> Option<Delivery> {
    let (Some(lanes), Some(key)) = (&mut state.lanes, key) else {
        return None;
    };
    let next = lanes.get_mut(&key)?.pop_front();
    if next.is_none() {
        lanes.remove(&key);
    }
    next
}
