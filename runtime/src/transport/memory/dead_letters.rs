//! The in-process engine's dead letters, kept with the original delivery so that a replay hands
//! the subscriber the same `Arc<E>` again.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::dead_letter::{DeadLetter, DeadLetterId};
use crate::delivery::Delivery;
use crate::error::{Error, Result};

pub(crate) struct Stored {
    pub(crate) letter: DeadLetter,
    pub(crate) delivery: Delivery,
}

#[derive(Default)]
pub(crate) struct DeadLetterStore {
    // Ids are UUIDv7, so key order is the order in which letters were made.
    letters: Mutex<BTreeMap<DeadLetterId, Stored>>,
}

impl DeadLetterStore {
    pub(crate) fn keep(&self, letter: DeadLetter, delivery: Delivery) {
        self.lock().insert(letter.id, Stored { letter, delivery });
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
