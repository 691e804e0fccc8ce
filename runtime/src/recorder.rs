//! What a test bus (`tidings::testing`) watches: every event its transport accepted and every
//! attempt its workers finished. Any other bus has no recorder, and each hook costs it one `None`
//! check.
//!
//! Publishes are recorded at the bus, not in a transport, so the record is the same on every
//! transport.

// Only `tidings::testing` reads the records; without it no bus has a recorder.
#![cfg_attr(not(feature = "testing"), allow(dead_code))]

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::delivery::{Delivery, Meta, Payload};
use crate::event::{Event, EventId};
use crate::transport::{AnyTransport, Outcome, Outgoing};

#[derive(Default)]
pub(crate) struct Recorder {
    published: Mutex<Vec<PublishedRecord>>,
    attempts: Mutex<Vec<AttemptRecord>>,
}

/// An event the transport accepted, in the order they were accepted.
#[derive(Clone)]
pub(crate) struct PublishedRecord {
    event_name: String,
    meta: Meta,
    payload: Payload,
}

/// One finished attempt of one subscriber at one event.
#[derive(Debug, Clone)]
pub(crate) struct AttemptRecord {
    pub(crate) subscriber: Arc<str>,
    pub(crate) event_id: EventId,
    /// 1 on the first try.
    pub(crate) attempt: u32,
    pub(crate) result: AttemptResult,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttemptResult {
    Handled,
    /// Failed; the next attempt comes after `delay`.
    Retry {
        delay: Duration,
    },
    /// Failed for the last time, with `error`.
    DeadLettered {
        error: String,
    },
}

impl PublishedRecord {
    /// What to record of `outgoing`, taken before the transport consumes it.
    pub(crate) fn of(outgoing: &Outgoing<'_>) -> Self {
        PublishedRecord {
            event_name: outgoing.event_name.to_owned(),
            meta: outgoing.meta.clone(),
            payload: outgoing.payload.clone(),
        }
    }

    pub(crate) fn id(&self) -> EventId {
        self.meta.id
    }

    pub(crate) fn correlation_id(&self) -> EventId {
        self.meta.correlation_id
    }

    pub(crate) fn causation_id(&self) -> Option<EventId> {
        self.meta.causation_id
    }

    /// The event as an `E`, if it is one: same name and version, and a payload that decodes.
    pub(crate) fn event<E: Event>(&self) -> Option<Arc<E>> {
        if self.event_name != E::NAME || self.meta.version != E::VERSION {
            return None;
        }
        self.payload.decode::<E>(self.meta.version).ok()
    }
}

impl Recorder {
    pub(crate) fn published(&self, record: PublishedRecord) {
        lock(&self.published).push(record);
    }

    /// A worker finished an attempt at `delivery`; called before the transport settles it.
    pub(crate) fn attempted(&self, subscriber: &Arc<str>, delivery: &Delivery, outcome: &Outcome) {
        let result = match outcome {
            Outcome::Handled => AttemptResult::Handled,
            Outcome::Retry { delay } => AttemptResult::Retry { delay: *delay },
            Outcome::DeadLettered(letter) => AttemptResult::DeadLettered {
                error: letter.error.clone(),
            },
        };
        lock(&self.attempts).push(AttemptRecord {
            subscriber: Arc::clone(subscriber),
            event_id: delivery.meta.id,
            attempt: delivery.attempt,
            result,
        });
    }

    /// Every accepted event so far.
    pub(crate) fn published_so_far(&self) -> Vec<PublishedRecord> {
        lock(&self.published).clone()
    }

    /// Every finished attempt so far.
    pub(crate) fn attempts_so_far(&self) -> Vec<AttemptRecord> {
        lock(&self.attempts).clone()
    }
}

/// Readies a test bus's transport for virtual time: a paused clock stands still while the
/// durable journal writes (see `Journal::hold_clock_on_writes`).
pub(crate) fn prepare(transport: &AnyTransport) {
    if let AnyTransport::Local(local) = transport {
        local.hold_clock_on_writes();
    }
}

fn lock<T>(records: &Mutex<Vec<T>>) -> MutexGuard<'_, Vec<T>> {
    // A panicking test thread may poison the lock; the records stay readable.
    records
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
