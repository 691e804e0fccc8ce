//! The group-commit writer: one thread owns the store's writes. Publishers queue their appends
//! and wait; the writer takes everything queued, commits it as one batch with one fsync, and
//! answers them all. Concurrent publishers thus share each fsync.
//!
//! A failed commit (a full disk, say) poisons fjall's database: it refuses every later write. So
//! the writer reopens the store from disk before its next commit, which recovers exactly what
//! reached the journal. The appends of the failed batch were answered with the error, so they
//! are removed again in case part of them reached the disk; its other writes (acks, retries,
//! dead letters: nobody waits for them) are written again with the next batch.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::manifest::Manifest;
use super::messages;
use super::store::{Progress, ReadLetter, Store, StoredLetter, Write};
use crate::letter_summary::DeadLetterSummary;

/// When an acknowledged write is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyncMode {
    /// Before `publish` returns: every batch holding an event is fsynced.
    Commit,
    /// Within `window` after `publish` returns: a crash may lose what was written since the
    /// last fsync, never more than one window's worth.
    Batched { window: Duration },
}

pub(crate) type Done = oneshot::Sender<Result<(), String>>;

/// The answer to a read of one dead letter: `None` if the store does not hold it.
pub(crate) type ReadReply = oneshot::Sender<Result<Option<ReadLetter>, String>>;

pub(crate) enum Op {
    /// Stores an event with one new delivery per subscriber; `revives` removes the dead letter
    /// it replays, in the same batch.
    Append {
        seq: u64,
        record: Vec<u8>,
        subscribers: Vec<Arc<str>>,
        revives: Option<[u8; 16]>,
        done: Done,
    },
    Ack {
        subscriber: Arc<str>,
        seq: u64,
    },
    Retry {
        subscriber: Arc<str>,
        seq: u64,
        progress: Progress,
    },
    DeadLetter {
        subscriber: Arc<str>,
        seq: u64,
        id: [u8; 16],
        letter: Box<(StoredLetter, DeadLetterSummary)>,
    },
    /// Reads one dead letter whole, after the writes queued before it are committed.
    ReadDeadLetter {
        id: [u8; 16],
        done: ReadReply,
    },
    Discard {
        id: [u8; 16],
    },
    /// Persists and ends the writer, which closes the store.
    Stop {
        done: Done,
    },
}

/// Most operations taken into one batch.
const MAX_BATCH: usize = 4096;

/// Event bytes that pass through before a drained store gives their space back: the pause
/// (flushing and compacting an empty store) comes at most once per this much traffic.
const RECLAIM_AFTER: u64 = 32 * 1024 * 1024;

/// How often writes left over from a failed batch are tried again while no new ones come.
const RETRY_EVERY: Duration = Duration::from_secs(1);

pub(crate) struct Writer {
    pub(crate) path: PathBuf,
    /// `None` after a failure, until the store reopens.
    pub(crate) store: Option<Store>,
    pub(crate) manifest: Manifest,
    pub(crate) sync: SyncMode,
    /// Deliveries left per live event: the event goes with the last one (retention).
    pub(crate) remaining: HashMap<u64, u32>,
    /// Past every sequence handed out before the store was opened; only ever raised, however
    /// appends arrive.
    pub(crate) next_seq: u64,
}

/// The appends of one batch: answered together, undone together if the batch fails.
#[derive(Default)]
struct Appends {
    writes: Vec<Write>,
    /// Bytes of the events appended.
    bytes: u64,
    events: Vec<(u64, Vec<Arc<str>>)>,
}

impl Writer {
    pub(crate) fn run(mut self, ops: Receiver<Op>) {
        let window = match self.sync {
            SyncMode::Commit => Duration::from_secs(3600),
            SyncMode::Batched { window } => window,
        };
        let mut state = State {
            carry: Vec::new(),
            failing: None,
            stored_next: self.next_seq,
            appended_bytes: 0,
            dirty: false,
            last_persist: Instant::now(),
        };
        loop {
            let retrying = state.failing.is_some() || !state.carry.is_empty();
            let wait = if retrying {
                RETRY_EVERY.min(window)
            } else {
                window
            };
            let first = match ops.recv_timeout(wait) {
                Ok(op) => op,
                Err(RecvTimeoutError::Timeout) => {
                    if retrying {
                        let _ = self.commit_batch(&mut state, Appends::default(), false);
                    } else if state.dirty {
                        let _ = self.persist(&mut state);
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.persist(&mut state);
                    return;
                }
            };
            let mut taken = vec![first];
            taken.extend(ops.try_iter().take(MAX_BATCH - 1));
            let stop = taken.iter().any(|op| matches!(op, Op::Stop { .. }));
            let mut appends = Appends::default();
            let mut waiting = Vec::new();
            let mut reads = Vec::new();
            for op in taken {
                self.apply(&mut state.carry, &mut appends, &mut waiting, &mut reads, op);
            }
            let mut result = self.commit_batch(&mut state, appends, stop);
            if result.is_ok() && (stop || (state.dirty && state.last_persist.elapsed() >= window)) {
                result = self.persist(&mut state);
            }
            for (id, done) in reads {
                let _ = done.send(self.read_dead_letter(&mut state, id));
            }
            for done in waiting {
                let _ = done.send(result.clone());
            }
            if stop {
                return;
            }
        }
    }

    /// Commits what is carried over and `appends`, reopening the store first if it failed.
    fn commit_batch(
        &mut self,
        state: &mut State,
        appends: Appends,
        stop: bool,
    ) -> Result<(), String> {
        if state.stored_next < self.next_seq {
            state.carry.push(Write::SetNextSeq(self.next_seq));
        }
        // Acks alone are not worth an fsync: a crash redelivers, it loses nothing.
        let durable = self.sync == SyncMode::Commit
            && (stop
                || !appends.writes.is_empty()
                || state.carry.iter().any(|write| {
                    !matches!(write, Write::RemoveDelivery(..) | Write::RemoveEvent(_))
                }));
        let result = self.reopen_if_failed(state).and_then(|store| {
            store
                .commit(state.carry.iter().chain(&appends.writes), durable)
                .map_err(|e| messages::write_failed(&e))
        });
        match result {
            Ok(()) => {
                state.appended_bytes += appends.bytes;
                if self.remaining.is_empty() && state.appended_bytes >= RECLAIM_AFTER {
                    state.appended_bytes = 0;
                    if let Some(Err(error)) = self.store.as_ref().map(Store::reclaim) {
                        tracing::warn!(%error, "the durable store could not give space back");
                    }
                }
                state.carry.clear();
                state.failing = None;
                state.stored_next = self.next_seq;
                state.dirty = !durable;
                if durable {
                    self.record_manifest(state.stored_next);
                }
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, path = %self.path.display(), "the durable store failed to commit");
                state.failing = Some(error.clone());
                // Failed publishes are never delivered, even if part of them reached the disk.
                for (seq, subscribers) in appends.events {
                    self.remaining.remove(&seq);
                    state.carry.push(Write::RemoveEvent(seq));
                    for subscriber in subscribers {
                        state.carry.push(Write::RemoveDelivery(subscriber, seq));
                    }
                }
                Err(error)
            }
        }
    }

    /// The store, reopened from disk if a write failed since it was opened: fjall refuses every
    /// write after a failed one, and what it holds is what reached the journal.
    fn reopen_if_failed(&mut self, state: &mut State) -> Result<&Store, String> {
        if state.failing.is_some() || self.store.is_none() {
            self.store = None; // closes it, releasing its lock before it opens again
            let store = Store::open(&self.path).map_err(|e| messages::write_failed(&e))?;
            tracing::warn!(path = %self.path.display(), "the durable store reopened after a failed write");
            state.failing = None;
            self.store = Some(store);
        }
        self.store
            .as_ref()
            .ok_or_else(|| "the store is closed".to_owned())
    }

    fn persist(&mut self, state: &mut State) -> Result<(), String> {
        if state.failing.is_some() {
            return Err(state.failing.clone().unwrap_or_default());
        }
        let Some(store) = &self.store else {
            return Ok(());
        };
        let result = store.persist().map_err(|e| messages::write_failed(&e));
        state.last_persist = Instant::now();
        match &result {
            Ok(()) => {
                state.dirty = false;
                self.record_manifest(state.stored_next);
                if let Err(error) = self.manifest.sync() {
                    tracing::error!(%error, "the durable store's manifest could not be synced");
                }
            }
            Err(error) => {
                tracing::error!(%error, path = %self.path.display(), "the durable store failed to persist");
                state.failing = Some(error.clone());
            }
        }
        result
    }

    /// A manifest that lags only misses a loss at the next open: report, never fail for it.
    fn record_manifest(&mut self, next_seq: u64) {
        if let Err(error) = self.manifest.record(next_seq) {
            tracing::error!(%error, "the durable store's manifest could not be written");
        }
    }

    /// A dead letter read from the store as it is now: reopened first if a write failed.
    fn read_dead_letter(
        &mut self,
        state: &mut State,
        id: [u8; 16],
    ) -> Result<Option<ReadLetter>, String> {
        let store = self.reopen_if_failed(state)?;
        store.dead_letter(id).map_err(|e| e.to_string())
    }

    fn apply(
        &mut self,
        writes: &mut Vec<Write>,
        appends: &mut Appends,
        waiting: &mut Vec<Done>,
        reads: &mut Vec<([u8; 16], ReadReply)>,
        op: Op,
    ) {
        match op {
            Op::Append {
                seq,
                record,
                subscribers,
                revives,
                done,
            } => {
                appends.bytes += record.len() as u64;
                appends.writes.push(Write::PutEvent(seq, record));
                for subscriber in &subscribers {
                    appends.writes.push(Write::PutDelivery(
                        Arc::clone(subscriber),
                        seq,
                        Progress::NEW,
                    ));
                }
                self.remaining.insert(seq, subscribers.len() as u32);
                if let Some(id) = revives {
                    appends.writes.push(Write::RemoveDeadLetter(id));
                }
                // Appends can reach the writer out of sequence order (publishers race to the
                // channel): keep the highest, or a restart could hand out a stored sequence again.
                self.next_seq = self.next_seq.max(seq + 1);
                appends.events.push((seq, subscribers));
                waiting.push(done);
            }
            Op::Ack { subscriber, seq } => {
                writes.push(Write::RemoveDelivery(subscriber, seq));
                self.release(writes, seq);
            }
            Op::Retry {
                subscriber,
                seq,
                progress,
            } => writes.push(Write::PutDelivery(subscriber, seq, progress)),
            Op::DeadLetter {
                subscriber,
                seq,
                id,
                letter,
            } => match serde_json::to_vec(&letter.0)
                .and_then(|json| Ok((json, serde_json::to_vec(&letter.1)?)))
            {
                Ok((json, summary)) => {
                    writes.push(Write::PutDeadLetter(id, json, summary));
                    writes.push(Write::RemoveDelivery(subscriber, seq));
                    self.release(writes, seq);
                }
                // The delivery stays, so a restart delivers the event again.
                Err(error) => {
                    tracing::error!(%error, %subscriber, seq, "a dead letter cannot be stored")
                }
            },
            Op::Discard { id } => writes.push(Write::RemoveDeadLetter(id)),
            Op::ReadDeadLetter { id, done } => reads.push((id, done)),
            Op::Stop { done } => waiting.push(done),
        }
    }

    /// One delivery of event `seq` is done; the event goes once none is left (retention).
    fn release(&mut self, writes: &mut Vec<Write>, seq: u64) {
        if let Some(left) = self.remaining.get_mut(&seq) {
            *left = left.saturating_sub(1);
            if *left == 0 {
                self.remaining.remove(&seq);
                writes.push(Write::RemoveEvent(seq));
            }
        }
    }
}

struct State {
    /// Writes not committed yet: those of failed batches, and this batch's non-append writes.
    carry: Vec<Write>,
    /// Why the last write failed, until the store reopens and commits.
    failing: Option<String>,
    /// The next sequence the store holds once its last commit is on disk.
    stored_next: u64,
    /// Event bytes appended since the store last gave space back.
    appended_bytes: u64,
    /// Committed without an fsync since the last persist.
    dirty: bool,
    last_persist: Instant,
}
