//! The memory transport's dead letters, kept with the original delivery for zero-copy replay.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::queue::SubscriberQueue;
use crate::dead_letter::{DeadLetter, DeadLetterId};
use crate::delivery::Delivery;
use crate::error::{Error, Result};

pub(crate) struct Stored {
    pub(crate) letter: DeadLetter,
    pub(crate) delivery: Delivery,
    /// `None` for a letter read back from disk whose subscriber this bus does not run.
    pub(crate) queue: Option<Arc<SubscriberQueue>>,
}

#[derive(Default)]
pub(crate) struct DeadLetterStore {
    // Ids are UUIDv7, so key order is the order in which letters were made.
    letters: Mutex<BTreeMap<DeadLetterId, Stored>>,
}

impl DeadLetterStore {
    pub(crate) fn insert(
        &self,
        queue: &Arc<SubscriberQueue>,
        delivery: &Delivery,
        error: String,
        source: &str,
    ) -> DeadLetter {
        let now = SystemTime::now();
        let letter = DeadLetter {
            id: DeadLetterId::new(),
            subscriber: queue.name.to_string(),
            group: queue.group.to_string(),
            event_name: queue.event_name.to_owned(),
            error,
            attempts: delivery.attempt,
            first_failed_at: delivery.first_failed_at.unwrap_or(now),
            last_failed_at: now,
            envelope: delivery.envelope(queue.event_name, source),
        };
        self.restore(letter.clone(), delivery.clone(), Some(Arc::clone(queue)));
        letter
    }

    /// Keeps a letter made earlier (read back from disk).
    pub(crate) fn restore(
        &self,
        letter: DeadLetter,
        delivery: Delivery,
        queue: Option<Arc<SubscriberQueue>>,
    ) {
        self.lock().insert(
            letter.id,
            Stored {
                letter,
                delivery,
                queue,
            },
        );
    }

    pub(crate) fn list(&self) -> Vec<DeadLetter> {
        self.lock()
            .values()
            .map(|stored| stored.letter.clone())
            .collect()
    }

    pub(crate) fn get(&self, id: &DeadLetterId) -> Option<DeadLetter> {
        self.lock().get(id).map(|stored| stored.letter.clone())
    }

    pub(crate) fn take(&self, id: &DeadLetterId) -> Result<Stored> {
        self.lock().remove(id).ok_or(Error::DeadLetterNotFound(*id))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<DeadLetterId, Stored>> {
        self.letters.lock().expect("dead letters lock")
    }
}
