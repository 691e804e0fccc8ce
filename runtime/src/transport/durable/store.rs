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
//! Opening reads the letters' summaries only: a letter's payload (up to the event's size) is read
//! when that letter is shown, replayed or discarded.

use std::path::Path;

use std::sync::Arc;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use crate::dead_letter::DeadLetterId;
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

/// A dead letter read whole, or why it cannot be read.
pub(crate) type ReadLetter = Result<StoredLetter, String>;

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
        let mut writes = Vec::new();
        for item in self.dead_letters.iter() {
            let (key, value) = item.into_inner()?;
            let Ok(id) = <[u8; 16]>::try_from(key.as_ref()) else {
                continue;
            };
            let summary = serde_json::from_slice::<StoredLetter>(&value)
                .map_err(|e| e.to_string())
                .and_then(|stored| {
                    let letter = stored.into_dead_letter(DeadLetterId::from_bytes(id));
                    letter.map_err(|e| e.to_string())
                })
                .and_then(|letter| {
                    serde_json::to_vec(&DeadLetterSummary::of(&letter)).map_err(|e| e.to_string())
                });
            match summary {
                Ok(summary) => writes.push(Write::PutSummary(id, summary)),
                // Left without a summary, so unlisted, as before: it was unreadable then too.
                Err(error) => tracing::error!(
                    %error,
                    "a dead letter in the durable store cannot be read; it stays on disk"
                ),
            }
        }
        writes.push(Write::MarkSummarised);
        self.commit(&writes, true)
    }

    /// The dead letter `id` whole, or `None` if the store does not hold it.
    pub(crate) fn dead_letter(&self, id: [u8; 16]) -> fjall::Result<Option<ReadLetter>> {
        Ok(self
            .dead_letters
            .get(id)?
            .map(|value| serde_json::from_slice(&value).map_err(|e| e.to_string())))
    }

    /// Commits `writes` as one batch, fsynced if `sync`.
    pub(crate) fn commit<'a>(
        &self,
        writes: impl IntoIterator<Item = &'a Write>,
        sync: bool,
    ) -> fjall::Result<()> {
        let mut batch = self
            .db
            .batch()
            .durability(sync.then_some(PersistMode::SyncAll));
        for write in writes {
            match write {
                Write::PutEvent(seq, record) => {
                    batch.insert(&self.events, seq.to_be_bytes(), record.as_slice());
                }
                Write::RemoveEvent(seq) => batch.remove(&self.events, seq.to_be_bytes()),
                Write::PutDelivery(subscriber, seq, progress) => batch.insert(
                    &self.deliveries,
                    delivery_key(subscriber, *seq),
                    progress.encode(),
                ),
                Write::RemoveDelivery(subscriber, seq) => {
                    batch.remove(&self.deliveries, delivery_key(subscriber, *seq));
                }
                Write::PutDeadLetter(id, letter, summary) => {
                    batch.insert(&self.dead_letters, id, letter.as_slice());
                    batch.insert(&self.summaries, id, summary.as_slice());
                }
                Write::PutSummary(id, summary) => {
                    batch.insert(&self.summaries, id, summary.as_slice());
                }
                Write::RemoveDeadLetter(id) => {
                    batch.remove(&self.dead_letters, id);
                    batch.remove(&self.summaries, id);
                }
                Write::MarkSummarised => batch.insert(&self.meta, SUMMARIES, []),
                Write::SetNextSeq(next) => batch.insert(&self.meta, NEXT_SEQ, next.to_be_bytes()),
            }
        }
        batch.commit()
    }

    /// Writes every keyspace's memtable to its tables.
    fn flush(&self) -> fjall::Result<()> {
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

    /// Gives disk space back once no event is live: flushes every memtable, so that fjall can
    /// drop the journals behind them, and compacts the events away with their tombstones.
    /// Without it a drained store kept up to its journal cap plus every flushed event until
    /// compaction happened to reach them.
    pub(crate) fn reclaim(&self) -> fjall::Result<()> {
        self.flush()?;
        self.events.major_compact()?;
        self.deliveries.major_compact()
    }

    pub(crate) fn persist(&self) -> fjall::Result<()> {
        self.db.persist(PersistMode::SyncAll)
    }
}

/// One write of a batch. The writer keeps them until their batch is committed, so that a
/// batch that failed can be written again once the disk recovers.
#[derive(Debug, Clone)]
pub(crate) enum Write {
    PutEvent(u64, Vec<u8>),
    RemoveEvent(u64),
    PutDelivery(Arc<str>, u64, Progress),
    RemoveDelivery(Arc<str>, u64),
    /// A `StoredLetter` and its `DeadLetterSummary`, as JSON.
    PutDeadLetter([u8; 16], Vec<u8>, Vec<u8>),
    /// The summary of a letter stored before summaries existed.
    PutSummary([u8; 16], Vec<u8>),
    /// Every letter has its summary.
    MarkSummarised,
    RemoveDeadLetter([u8; 16]),
    SetNextSeq(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_sequence_is_past_every_stored_event_even_if_the_counter_lags() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.next_seq().unwrap(), 1);
        // The counter as written by an earlier, out-of-order batch.
        let writes = [Write::PutEvent(7, b"{}".to_vec()), Write::SetNextSeq(5)];
        store.commit(&writes, true).unwrap();
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
        let mut letter = crate::dead_letter::DeadLetter::new(DeadLetterId::new(), envelope);
        letter.error = "out of stock".to_owned();
        letter
    }

    fn put(letter: &crate::dead_letter::DeadLetter) -> Write {
        let json = serde_json::to_vec(&StoredLetter::from(letter)).unwrap();
        let summary = serde_json::to_vec(&DeadLetterSummary::of(letter)).unwrap();
        Write::PutDeadLetter(letter.id.to_bytes(), json, summary)
    }

    #[test]
    fn opening_reads_summaries_and_a_letter_is_read_whole_on_demand() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(store.dead_letters().unwrap().is_empty());
        let letter = a_big_letter();
        let id = letter.id.to_bytes();
        store.commit(&[put(&letter)], true).unwrap();

        let found = store.dead_letters().unwrap();
        assert_eq!(found.len(), 1);
        let listed = found[0].1.as_ref().unwrap();
        assert_eq!(
            (listed.payload_size, listed.preview.len()),
            (1_000_000, 160)
        );
        let whole = store.dead_letter(id).unwrap().unwrap().unwrap();
        let whole = whole.into_dead_letter(letter.id).unwrap();
        assert_eq!(whole.envelope.data.len(), 1_000_000);

        store.commit(&[Write::RemoveDeadLetter(id)], true).unwrap();
        assert!(store.dead_letters().unwrap().is_empty());
        assert!(store.dead_letter(id).unwrap().is_none());
    }

    #[test]
    fn a_store_written_before_summaries_gets_them_once_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let letter = a_big_letter();
        {
            // As an older version wrote it: the letter alone, and no `summaries` mark.
            let store = Store::open(dir.path()).unwrap();
            let json = serde_json::to_vec(&StoredLetter::from(&letter)).unwrap();
            store
                .dead_letters
                .insert(letter.id.to_bytes(), json)
                .unwrap();
            store.persist().unwrap();
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
