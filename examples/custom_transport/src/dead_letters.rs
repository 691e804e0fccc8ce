//! The engine's dead letters, each kept with the delivery it came from so that a replay hands
//! the subscriber the same event again.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use tidings_core::transport::Delivery;
use tidings_core::{DeadLetter, DeadLetterId, Error, Result};

#[derive(Debug)]
pub(crate) struct Kept {
    pub(crate) letter: DeadLetter,
    pub(crate) delivery: Delivery,
}

#[derive(Debug, Default)]
pub(crate) struct DeadLetterStore {
    /// Ids are UUIDv7, so their order is the order the letters were made in: oldest first.
    letters: Mutex<BTreeMap<DeadLetterId, Kept>>,
}

impl DeadLetterStore {
    pub(crate) fn keep(&self, letter: DeadLetter, delivery: Delivery) {
        self.lock().insert(letter.id, Kept { letter, delivery });
    }

    pub(crate) fn list(&self) -> Vec<DeadLetter> {
        self.lock()
            .values()
            .map(|kept| kept.letter.clone())
            .collect()
    }

    pub(crate) fn get(&self, id: &DeadLetterId) -> Option<DeadLetter> {
        self.lock().get(id).map(|kept| kept.letter.clone())
    }

    /// Removes a dead letter and returns it, or says there is none with that id.
    pub(crate) fn take(&self, id: &DeadLetterId) -> Result<Kept> {
        self.lock().remove(id).ok_or(Error::DeadLetterNotFound(*id))
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<DeadLetterId, Kept>> {
        self.letters.lock().expect("dead letters lock")
    }
}
