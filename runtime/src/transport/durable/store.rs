//! The on-disk layout, in one fjall database (see `docs/decisions/0001-durable-store.md`):
//!
//! | keyspace | key | value |
//! |---|---|---|
//! | `events` | sequence (u64, big-endian) | the event as CloudEvents JSON |
//! | `deliveries` | subscriber, `0`, sequence | attempt (u32), run at, first failed at (ms, u64) |
//! | `dead_letters` | dead letter id (16 bytes) | `StoredLetter` as JSON |
//! | `dead_letter_summaries` | dead letter id (16 bytes) | `DeadLetterSummary` as JSON |
//! | `meta` | `next_seq` | the next sequence (u64) |
//! | `meta` | `summaries` | present once every dead letter has its summary |
//!
//! Opening reads the summaries only: a letter's payload (up to the event's size) is read when
//! that letter is shown, replayed or discarded.

use std::path::Path;

use fjall::{
    Database, Keyspace, KeyspaceCreateOptions, OwnedWriteBatch as WriteBatch, PersistMode,
};

use crate::letter_summary::DeadLetterSummary;
pub(crate) use crate::wire::StoredLetter;

pub(crate) struct Store {
    pub(crate) db: Database,
    events: Keyspace,
    deliveries: Keyspace,
    dead_letters: Keyspace,
    summaries: Keyspace,
    meta: Keyspace,
}

/// Reads single dead letters while the writer owns the store.
#[derive(Clone)]
pub(crate) struct LetterReader(Keyspace);

impl LetterReader {
    pub(crate) fn read(&self, id: [u8; 16]) -> fjall::Result<Option<Result<StoredLetter, String>>> {
        Ok(self
            .0
            .get(id)?
            .map(|value| serde_json::from_slice(&value).map_err(|e| e.to_string())))
    }
}

/// A delivery's progress, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    /// Attempts that failed so far.
    pub(crate) failed_attempts: u32,
    /// When the next attempt may start (ms since the epoch; 0: at once).
    pub(crate) run_at_ms: u64,
    /// When the first attempt failed (ms since the epoch; 0: none has).
    pub(crate) first_failed_ms: u64,
}

impl Progress {
    pub(crate) const NEW: Progress = Progress {
        failed_attempts: 0,
        run_at_ms: 0,
        first_failed_ms: 0,
    };

    fn encode(&self) -> [u8; 20] {
        let mut bytes = [0; 20];
        bytes[..4].copy_from_slice(&self.failed_attempts.to_be_bytes());
        bytes[4..12].copy_from_slice(&self.run_at_ms.to_be_bytes());
        bytes[12..].copy_from_slice(&self.first_failed_ms.to_be_bytes());
        bytes
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        Some(Progress {
            failed_attempts: u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?),
            run_at_ms: u64::from_be_bytes(bytes.get(4..12)?.try_into().ok()?),
            first_failed_ms: u64::from_be_bytes(bytes.get(12..20)?.try_into().ok()?),
        })
    }
}

/// A dead letter's summary found on open, by id, or why it cannot be read.
pub(crate) type FoundLetter = ([u8; 16], Result<DeadLetterSummary, String>);

/// A pending delivery found on open.
pub(crate) struct PendingDelivery {
    pub(crate) subscriber: String,
    pub(crate) seq: u64,
    pub(crate) progress: Progress,
    /// The event's CloudEvents JSON; `None` if the event record is missing.
    pub(crate) record: Option<Vec<u8>>,
}

fn delivery_key(subscriber: &str, seq: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(subscriber.len() + 9);
    key.extend_from_slice(subscriber.as_bytes());
    key.push(0);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

fn split_delivery_key(key: &[u8]) -> Option<(String, u64)> {
    let (name, seq) = key.split_at(key.len().checked_sub(9)?);
    let seq = u64::from_be_bytes(seq.get(1..)?.try_into().ok()?);
    Some((String::from_utf8(name.to_vec()).ok()?, seq))
}

const NEXT_SEQ: &[u8] = b"next_seq";
const SUMMARIES: &[u8] = b"summaries";

/// Journal bytes kept before fjall rotates and flushes them: its minimum (the default is 512 MiB).
const JOURNAL_CAP: u64 = 64 * 1024 * 1024;

impl Store {
    pub(crate) fn open(path: &Path) -> fjall::Result<Self> {
        // We decide when the journal reaches the disk: after each group commit. A small journal
        // cap makes fjall flush and drop old journals early, which keeps the directory small.
        let db = Database::builder(path)
            .manual_journal_persist(true)
            .max_journaling_size(JOURNAL_CAP)
            .open()?;
        let keyspace = |name| db.keyspace(name, KeyspaceCreateOptions::default);
        Ok(Store {
            events: keyspace("events")?,
            deliveries: keyspace("deliveries")?,
            dead_letters: keyspace("dead_letters")?,
            summaries: keyspace("dead_letter_summaries")?,
            meta: keyspace("meta")?,
            db,
        })
    }

    /// The first sequence never used: past the recorded counter and the newest stored event.
    pub(crate) fn next_seq(&self) -> fjall::Result<u64> {
        let stored = self.meta.get(NEXT_SEQ)?;
        let recorded =
            stored.and_then(|bytes| Some(u64::from_be_bytes(bytes.as_ref().try_into().ok()?)));
        let newest = match self.events.last_key_value() {
            Some(item) => <[u8; 8]>::try_from(item.key()?.as_ref())
                .ok()
                .map(|bytes| u64::from_be_bytes(bytes) + 1),
            None => None,
        };
        Ok(recorded.unwrap_or(1).max(newest.unwrap_or(1)))
    }

    /// Every pending delivery, by subscriber then sequence.
    pub(crate) fn pending(&self) -> fjall::Result<Vec<PendingDelivery>> {
        let mut pending = Vec::new();
        for item in self.deliveries.iter() {
            let (key, value) = item.into_inner()?;
            let (Some((subscriber, seq)), Some(progress)) =
                (split_delivery_key(&key), Progress::decode(&value))
            else {
                tracing::error!(key = ?key, "skipping an unreadable delivery record in the durable store");
                continue;
            };
            let record = self
                .events
                .get(seq.to_be_bytes())?
                .map(|bytes| bytes.to_vec());
            pending.push(PendingDelivery {
                subscriber,
                seq,
                progress,
                record,
            });
        }
        Ok(pending)
    }

    /// Every dead letter's summary, oldest first (ids are UUIDv7). A store written before
    /// summaries existed gets them now, once, from its letters.
    pub(crate) fn dead_letters(&self) -> fjall::Result<Vec<FoundLetter>> {
        if self.meta.get(SUMMARIES)?.is_none() {
            self.summarise_letters()?;
        }
        let mut letters = Vec::new();
        for item in self.summaries.iter() {
            let (key, value) = item.into_inner()?;
            let Ok(id) = <[u8; 16]>::try_from(key.as_ref()) else {
                continue;
            };
            letters.push((
                id,
                serde_json::from_slice(&value).map_err(|e| e.to_string()),
            ));
        }
        Ok(letters)
    }

    fn summarise_letters(&self) -> fjall::Result<()> {
        let mut batch = self.batch(true);
        for item in self.dead_letters.iter() {
            let (key, value) = item.into_inner()?;
            let Ok(id) = <[u8; 16]>::try_from(key.as_ref()) else {
                continue;
            };
            let letter = serde_json::from_slice::<StoredLetter>(&value)
                .map_err(|e| e.to_string())
                .and_then(|stored| {
                    let id = crate::dead_letter::DeadLetterId::from_bytes(id);
                    stored.into_dead_letter(id).map_err(|e| e.to_string())
                });
            match letter {
                Ok(letter) => batch.put_summary(id, &DeadLetterSummary::of(&letter)),
                // Left without a summary, so unlisted, as before: it was unreadable then too.
                Err(error) => tracing::error!(
                    %error,
                    "a dead letter in the durable store cannot be read; it stays on disk"
                ),
            }
        }
        batch.batch.insert(&self.meta, SUMMARIES, []);
        batch.commit()
    }

    pub(crate) fn letter_reader(&self) -> LetterReader {
        LetterReader(self.dead_letters.clone())
    }

    pub(crate) fn batch(&self, sync: bool) -> Batch<'_> {
        let batch = self
            .db
            .batch()
            .durability(sync.then_some(PersistMode::SyncAll));
        Batch { store: self, batch }
    }

    /// Writes every keyspace's memtable to its tables.
    pub(crate) fn flush(&self) -> fjall::Result<()> {
        for keyspace in [
            &self.events,
            &self.deliveries,
            &self.dead_letters,
            &self.summaries,
            &self.meta,
        ] {
            keyspace.rotate_memtable_and_wait()?;
        }
        Ok(())
    }

    pub(crate) fn persist(&self) -> fjall::Result<()> {
        self.db.persist(PersistMode::SyncAll)
    }
}

/// Writes that commit together.
pub(crate) struct Batch<'a> {
    store: &'a Store,
    batch: WriteBatch,
}

impl Batch<'_> {
    pub(crate) fn put_event(&mut self, seq: u64, record: &[u8]) {
        self.batch
            .insert(&self.store.events, seq.to_be_bytes(), record);
    }

    pub(crate) fn remove_event(&mut self, seq: u64) {
        self.batch.remove(&self.store.events, seq.to_be_bytes());
    }

    pub(crate) fn put_delivery(&mut self, subscriber: &str, seq: u64, progress: Progress) {
        self.batch.insert(
            &self.store.deliveries,
            delivery_key(subscriber, seq),
            progress.encode(),
        );
    }

    pub(crate) fn remove_delivery(&mut self, subscriber: &str, seq: u64) {
        self.batch
            .remove(&self.store.deliveries, delivery_key(subscriber, seq));
    }

    pub(crate) fn put_dead_letter(
        &mut self,
        id: [u8; 16],
        letter: &StoredLetter,
        summary: &DeadLetterSummary,
    ) {
        let json = serde_json::to_vec(letter).expect("a stored letter always serializes");
        self.batch.insert(&self.store.dead_letters, id, json);
        self.put_summary(id, summary);
    }

    fn put_summary(&mut self, id: [u8; 16], summary: &DeadLetterSummary) {
        let json = serde_json::to_vec(summary).expect("a summary always serializes");
        self.batch.insert(&self.store.summaries, id, json);
    }

    pub(crate) fn remove_dead_letter(&mut self, id: [u8; 16]) {
        self.batch.remove(&self.store.dead_letters, id);
        self.batch.remove(&self.store.summaries, id);
    }

    pub(crate) fn set_next_seq(&mut self, next: u64) {
        self.batch
            .insert(&self.store.meta, NEXT_SEQ, next.to_be_bytes());
    }

    pub(crate) fn commit(self) -> fjall::Result<()> {
        self.batch.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_sequence_is_past_every_stored_event_even_if_the_counter_lags() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.next_seq().unwrap(), 1);
        let mut batch = store.batch(true);
        batch.put_event(7, b"{}");
        batch.set_next_seq(5); // written by an earlier, out-of-order batch
        batch.commit().unwrap();
        assert_eq!(store.next_seq().unwrap(), 8);
    }

    #[test]
    fn keys_and_progress_round_trip() {
        let key = delivery_key("stock.reserve", 42);
        assert_eq!(
            split_delivery_key(&key),
            Some(("stock.reserve".to_owned(), 42))
        );
        let progress = Progress {
            failed_attempts: 3,
            run_at_ms: 1_700_000_000_123,
            first_failed_ms: 9,
        };
        assert_eq!(Progress::decode(&progress.encode()), Some(progress));
        assert_eq!(Progress::decode(&[1, 2, 3]), None);
    }

    fn a_big_letter() -> crate::dead_letter::DeadLetter {
        let envelope = crate::dead_letter::Envelope::new("orders.placed", vec![b'x'; 1_000_000]);
        let mut letter =
            crate::dead_letter::DeadLetter::new(crate::dead_letter::DeadLetterId::new(), envelope);
        letter.error = "out of stock".to_owned();
        letter
    }

    #[test]
    fn opening_reads_summaries_and_a_letter_is_read_whole_on_demand() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(store.dead_letters().unwrap().is_empty());
        let letter = a_big_letter();
        let id = letter.id.to_bytes();
        let mut batch = store.batch(true);
        let summary = DeadLetterSummary::of(&letter);
        batch.put_dead_letter(id, &StoredLetter::from(&letter), &summary);
        batch.commit().unwrap();

        let found = store.dead_letters().unwrap();
        assert_eq!(found.len(), 1);
        let listed = found[0].1.as_ref().unwrap();
        assert_eq!(
            (listed.payload_size, listed.preview.len()),
            (1_000_000, 160)
        );
        let whole = store.letter_reader().read(id).unwrap().unwrap().unwrap();
        let whole = whole.into_dead_letter(letter.id).unwrap();
        assert_eq!(whole.envelope.data.len(), 1_000_000);

        let mut batch = store.batch(true);
        batch.remove_dead_letter(id);
        batch.commit().unwrap();
        assert!(store.dead_letters().unwrap().is_empty());
        assert!(store.letter_reader().read(id).unwrap().is_none());
    }

    #[test]
    fn a_store_written_before_summaries_gets_them_once_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let letter = a_big_letter();
        {
            // As an older version wrote it: the letter alone, and no `summaries` mark.
            let store = Store::open(dir.path()).unwrap();
            let mut batch = store.batch(true);
            let json = serde_json::to_vec(&StoredLetter::from(&letter)).unwrap();
            batch
                .batch
                .insert(&store.dead_letters, letter.id.to_bytes(), json);
            batch.commit().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let found = store.dead_letters().unwrap();
        assert_eq!(found.len(), 1);
        let summary = found[0].1.as_ref().unwrap();
        assert_eq!(summary.id, letter.id);
        assert_eq!(summary.error, "out of stock");
        assert_eq!(summary.payload_size, 1_000_000);
        assert!(store.meta.get(SUMMARIES).unwrap().is_some());
    }
}
