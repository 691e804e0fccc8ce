//! The in-process engine's dead letters, kept with the original delivery so that a replay hands
//! the subscriber the same `Arc<E>` again. Letters a reopened `file://` store holds are kept as
//! their summaries only and read from the store when one is shown, replayed or discarded, so
//! that opening and listing never load whole payloads.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::dead_letter::{DeadLetter, DeadLetterId};
use crate::delivery::{Delivery, Meta};
use crate::error::{Error, Result};
use crate::letter_summary::DeadLetterSummary;
use crate::transport::durable::Journal;

pub(crate) struct Stored {
    pub(crate) letter: DeadLetter,
    pub(crate) delivery: Delivery,
}

impl Stored {
    /// A letter read back from the store, with the delivery a replay starts from.
    fn recovered(letter: DeadLetter) -> Self {
        let (meta, payload) = Meta::from_envelope(letter.envelope.clone());
        let delivery = Delivery {
            meta,
            payload,
            attempt: letter.attempts,
            first_failed_at: None,
            seq: 0,
        };
        Stored { letter, delivery }
    }
}

enum Entry {
    Held(Box<Stored>),
    /// On disk only (`file://`, made before this process opened the store).
    #[cfg_attr(not(feature = "durable"), allow(dead_code))]
    OnDisk(Box<DeadLetterSummary>),
}

#[derive(Default)]
pub(crate) struct DeadLetterStore {
    // Ids are UUIDv7, so key order is the order in which letters were made.
    letters: Mutex<BTreeMap<DeadLetterId, Entry>>,
}

impl DeadLetterStore {
    pub(crate) fn keep(&self, letter: DeadLetter, delivery: Delivery) {
        self.lock().insert(
            letter.id,
            Entry::Held(Box::new(Stored { letter, delivery })),
        );
    }

    #[cfg_attr(not(feature = "durable"), allow(dead_code))]
    pub(crate) fn keep_on_disk(&self, summary: DeadLetterSummary) {
        self.lock()
            .insert(summary.id, Entry::OnDisk(Box::new(summary)));
    }

    pub(crate) fn summaries(&self) -> Vec<DeadLetterSummary> {
        self.lock()
            .values()
            .map(|entry| match entry {
                Entry::Held(stored) => DeadLetterSummary::of(&stored.letter),
                Entry::OnDisk(summary) => (**summary).clone(),
            })
            .collect()
    }

    pub(crate) async fn list(&self, journal: Option<&Journal>) -> Result<Vec<DeadLetter>> {
        let ids: Vec<DeadLetterId> = self.lock().keys().copied().collect();
        let mut letters = Vec::with_capacity(ids.len());
        for id in ids {
            // Gone since the ids were taken: replayed or discarded meanwhile.
            if let Some(letter) = self.get(&id, journal).await? {
                letters.push(letter);
            }
        }
        Ok(letters)
    }

    pub(crate) async fn get(
        &self,
        id: &DeadLetterId,
        journal: Option<&Journal>,
    ) -> Result<Option<DeadLetter>> {
        let held = match self.lock().get(id) {
            None => return Ok(None),
            Some(Entry::Held(stored)) => Some(stored.letter.clone()),
            Some(Entry::OnDisk(_)) => None,
        };
        match held {
            Some(letter) => Ok(Some(letter)),
            None => read(id, journal).await,
        }
    }

    pub(crate) async fn take(
        &self,
        id: &DeadLetterId,
        journal: Option<&Journal>,
    ) -> Result<Stored> {
        let entry = self
            .lock()
            .remove(id)
            .ok_or(Error::DeadLetterNotFound(*id))?;
        match entry {
            Entry::Held(stored) => Ok(*stored),
            Entry::OnDisk(summary) => match read(id, journal).await {
                Ok(Some(letter)) => Ok(Stored::recovered(letter)),
                Ok(None) => Err(Error::DeadLetterNotFound(*id)),
                Err(error) => {
                    self.keep_on_disk(*summary);
                    Err(error)
                }
            },
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<DeadLetterId, Entry>> {
        self.letters.lock().expect("dead letters lock")
    }
}

async fn read(id: &DeadLetterId, journal: Option<&Journal>) -> Result<Option<DeadLetter>> {
    match journal {
        Some(journal) => journal.read_dead_letter(*id).await,
        None => Ok(None),
    }
}
