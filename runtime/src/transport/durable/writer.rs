//! The group-commit writer: one thread owns the store's writes. Publishers queue their appends
//! and wait; the writer takes everything queued, commits it as one batch with one fsync, and
//! answers them all. Concurrent publishers thus share each fsync.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::store::{Batch, Progress, Store, StoredLetter};
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

/// `next_seq` is past every sequence handed out before the store was opened; the writer only
/// ever raises it, however appends arrive.
pub(crate) fn run(
    store: Store,
    ops: Receiver<Op>,
    sync: SyncMode,
    mut remaining: HashMap<u64, u32>,
    mut next_seq: u64,
) {
    let window = match sync {
        SyncMode::Commit => Duration::from_secs(3600),
        SyncMode::Batched { window } => window,
    };
    let mut last_persist = Instant::now();
    let mut dirty = false;
    loop {
        let first = match ops.recv_timeout(window) {
            Ok(op) => op,
            Err(RecvTimeoutError::Timeout) => {
                if dirty {
                    report(store.persist());
                    (dirty, last_persist) = (false, Instant::now());
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => {
                report(store.persist());
                return;
            }
        };
        let mut taken = vec![first];
        taken.extend(ops.try_iter().take(MAX_BATCH - 1));
        let stop = taken.iter().any(|op| matches!(op, Op::Stop { .. }));
        let durable_now =
            sync == SyncMode::Commit && taken.iter().any(|op| !matches!(op, Op::Ack { .. }));
        let mut batch = store.batch(durable_now);
        let mut waiting = Vec::new();
        let before = next_seq;
        for op in taken {
            apply(&mut batch, op, &mut remaining, &mut waiting, &mut next_seq);
        }
        if next_seq > before {
            batch.set_next_seq(next_seq);
        }
        let mut result = batch.commit().map_err(|e| e.to_string());
        dirty = !durable_now;
        if result.is_ok() && (stop || (dirty && last_persist.elapsed() >= window)) {
            result = store.persist().map_err(|e| e.to_string());
            (dirty, last_persist) = (false, Instant::now());
        }
        if stop && result.is_ok() {
            // Left in memory, the last writes would be replayed from the journal by the next
            // open, large dead letters included, which listing otherwise never reads.
            if let Err(error) = store.flush() {
                tracing::warn!(%error, "the durable store could not flush on close; the next open replays its journal");
            }
        }
        if let Err(error) = &result {
            tracing::error!(%error, "the durable store failed to commit");
        }
        for done in waiting {
            let _ = done.send(result.clone());
        }
        if stop {
            return;
        }
    }
}

fn apply(
    batch: &mut Batch<'_>,
    op: Op,
    remaining: &mut HashMap<u64, u32>,
    waiting: &mut Vec<Done>,
    next_seq: &mut u64,
) {
    match op {
        Op::Append {
            seq,
            record,
            subscribers,
            revives,
            done,
        } => {
            batch.put_event(seq, &record);
            for subscriber in &subscribers {
                batch.put_delivery(subscriber, seq, Progress::NEW);
            }
            remaining.insert(seq, subscribers.len() as u32);
            if let Some(id) = revives {
                batch.remove_dead_letter(id);
            }
            // Appends can reach the writer out of sequence order (publishers race to the
            // channel): keep the highest, or a restart could hand out a stored sequence again.
            *next_seq = (*next_seq).max(seq + 1);
            waiting.push(done);
        }
        Op::Ack { subscriber, seq } => {
            batch.remove_delivery(&subscriber, seq);
            release(batch, remaining, seq);
        }
        Op::Retry {
            subscriber,
            seq,
            progress,
        } => batch.put_delivery(&subscriber, seq, progress),
        Op::DeadLetter {
            subscriber,
            seq,
            id,
            letter,
        } => {
            batch.put_dead_letter(id, &letter.0, &letter.1);
            batch.remove_delivery(&subscriber, seq);
            release(batch, remaining, seq);
        }
        Op::Discard { id } => batch.remove_dead_letter(id),
        Op::Stop { done } => waiting.push(done),
    }
}

/// One delivery of event `seq` is done; the event goes once none is left (retention).
fn release(batch: &mut Batch<'_>, remaining: &mut HashMap<u64, u32>, seq: u64) {
    if let Some(left) = remaining.get_mut(&seq) {
        *left = left.saturating_sub(1);
        if *left == 0 {
            remaining.remove(&seq);
            batch.remove_event(seq);
        }
    }
}

fn report(result: fjall::Result<()>) {
    if let Err(error) = result {
        tracing::error!(%error, "the durable store failed to persist");
    }
}
