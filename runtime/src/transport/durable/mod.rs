//! The durable local transport, `file://PATH`: the memory transport's engine with a journal.
//!
//! Every publish is written to an embedded store (fjall) and fsynced before `publish` returns,
//! concurrent publishers sharing each fsync (group commit). Acknowledgements, retry schedules and
//! dead letters are written too, so a restarted process redelivers whatever was accepted and not
//! finished, with its attempt count, and keeps its dead letters. In process, subscribers still
//! receive the publisher's own `Arc<E>`: the journal holds the JSON form only for recovery.

mod clock_hold;
mod store;
mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use tokio::sync::oneshot;

pub(crate) use store::{PendingDelivery, Progress};
use writer::Op;
pub(crate) use writer::SyncMode;

use crate::dead_letter::{DeadLetter, DeadLetterId};
use crate::error::{Error, Result};
use crate::letter_summary::DeadLetterSummary;
pub(crate) use crate::wire::{StoredLetter, from_millis, millis};

/// What a reopened store still holds.
pub(crate) struct Recovered {
    /// Pending deliveries, by subscriber then sequence.
    pub(crate) deliveries: Vec<store::PendingDelivery>,
    pub(crate) dead_letters: Vec<store::FoundLetter>,
}

/// The handle the engine writes through.
pub(crate) struct Journal {
    path: PathBuf,
    ops: std::sync::mpsc::Sender<Op>,
    next_seq: AtomicU64,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// Reads one dead letter whole, on demand: opening reads only their summaries. Dropped on
    /// close, since it holds the store open.
    letters: Mutex<Option<store::LetterReader>>,
    /// Enabled under virtual time (`tidings::testing`).
    clock_hold: clock_hold::ClockHold,
}

/// Parses `file://PATH[?sync=commit|batched]`.
pub(crate) fn parse(url: &crate::transport::TransportUrl) -> Result<(PathBuf, SyncMode)> {
    let path = url.address();
    if path.is_empty() {
        return Err(
            url.unsupported("name a directory: `file://./data` or `file:///var/lib/app/events`")
        );
    }
    let mut sync = SyncMode::Commit;
    for (name, value) in url.options() {
        sync = match (name.as_str(), value.as_str()) {
            ("sync", "commit") => SyncMode::Commit,
            ("sync", "batched") => SyncMode::Batched {
                window: Duration::from_millis(50),
            },
            // Only the name of an unknown option is shown: its value may be a secret.
            _ => {
                return Err(url.unknown_option(name, "`sync=commit` (default) or `sync=batched`"));
            }
        };
    }
    Ok((PathBuf::from(path), sync))
}

impl Journal {
    /// Opens (or creates) the store at `path` and reads back what it holds.
    pub(crate) fn open(path: &Path, sync: SyncMode) -> Result<(Journal, Recovered)> {
        let storage = |source: fjall::Error| Error::Storage {
            path: path.to_owned(),
            message: source.to_string(),
        };
        let store = store::Store::open(path).map_err(storage)?;
        let next_seq = store.next_seq().map_err(storage)?;
        let deliveries = store.pending().map_err(storage)?;
        let dead_letters = store.dead_letters().map_err(storage)?;
        let letters = store.letter_reader();
        let mut remaining: HashMap<u64, u32> = HashMap::new();
        for delivery in &deliveries {
            *remaining.entry(delivery.seq).or_default() += 1;
        }
        let (ops, receiver) = std::sync::mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("tidings-journal".to_owned())
            .spawn(move || writer::run(store, receiver, sync, remaining, next_seq))
            .map_err(|e| Error::Storage {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
        let journal = Journal {
            path: path.to_owned(),
            ops,
            next_seq: AtomicU64::new(next_seq),
            writer: Mutex::new(Some(writer)),
            letters: Mutex::new(Some(letters)),
            clock_hold: clock_hold::ClockHold::default(),
        };
        Ok((
            journal,
            Recovered {
                deliveries,
                dead_letters,
            },
        ))
    }

    /// Stores an event for `subscribers`; returns its sequence once it is durable.
    pub(crate) async fn append(&self, record: Vec<u8>, subscribers: Vec<Arc<str>>) -> Result<u64> {
        self.append_reviving(record, subscribers, None).await
    }

    /// Like `append`, and removes the dead letter `revives` in the same commit (replay).
    pub(crate) async fn append_reviving(
        &self,
        record: Vec<u8>,
        subscribers: Vec<Arc<str>>,
        revives: Option<[u8; 16]>,
    ) -> Result<u64> {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let (done, written) = oneshot::channel();
        self.send(Op::Append {
            seq,
            record,
            subscribers,
            revives,
            done,
        })?;
        self.wait(written).await?;
        Ok(seq)
    }

    pub(crate) fn acked(&self, subscriber: &Arc<str>, seq: u64) {
        let _ = self.send(Op::Ack {
            subscriber: Arc::clone(subscriber),
            seq,
        });
    }

    pub(crate) fn retrying(
        &self,
        subscriber: &Arc<str>,
        seq: u64,
        failed_attempts: u32,
        run_at: SystemTime,
        first_failed: SystemTime,
    ) {
        let progress = Progress {
            failed_attempts,
            run_at_ms: millis(run_at),
            first_failed_ms: millis(first_failed),
        };
        let _ = self.send(Op::Retry {
            subscriber: Arc::clone(subscriber),
            seq,
            progress,
        });
    }

    pub(crate) fn dead_lettered(
        &self,
        subscriber: &Arc<str>,
        seq: u64,
        id: [u8; 16],
        letter: StoredLetter,
        summary: DeadLetterSummary,
    ) {
        let _ = self.send(Op::DeadLetter {
            subscriber: Arc::clone(subscriber),
            seq,
            id,
            letter: Box::new((letter, summary)),
        });
    }

    /// The dead letter `id` whole, as stored; `None` if the store does not hold it.
    pub(crate) fn read_dead_letter(&self, id: DeadLetterId) -> Result<Option<DeadLetter>> {
        let storage = |message: String| Error::Storage {
            path: self.path.clone(),
            message,
        };
        let reader = self.letters.lock().expect("letters lock").clone();
        let Some(reader) = reader else {
            return Err(Error::ShutDown);
        };
        match reader.read(id.to_bytes()) {
            Ok(None) => Ok(None),
            Ok(Some(stored)) => stored
                .and_then(|stored| stored.into_dead_letter(id).map_err(|e| e.to_string()))
                .map(Some)
                .map_err(|e| storage(format!("dead letter {id} cannot be read: {e}"))),
            Err(error) => Err(storage(error.to_string())),
        }
    }

    pub(crate) fn discarded(&self, id: [u8; 16]) {
        let _ = self.send(Op::Discard { id });
    }

    /// Flushes, stops the writer and closes the store, so that the directory can be opened
    /// again (by a restarted bus, say).
    pub(crate) async fn close(&self) -> Result<()> {
        let (done, written) = oneshot::channel();
        let stopped = match self.send(Op::Stop { done }) {
            Ok(()) => self.wait(written).await,
            Err(_) => Ok(()), // stopped already
        };
        self.letters.lock().expect("letters lock").take();
        let writer = self.writer.lock().expect("writer lock").take();
        if let Some(writer) = writer {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
        stopped
    }

    /// From now on, waiting for the writer holds tokio's paused clock still (see `clock_hold`).
    pub(crate) fn hold_clock_on_writes(&self) {
        self.clock_hold.enable();
    }

    fn send(&self, op: Op) -> Result<()> {
        self.ops
            .send(op)
            .map_err(|_| self.failed("the journal writer has stopped".to_owned()))
    }

    async fn wait(
        &self,
        written: oneshot::Receiver<std::result::Result<(), String>>,
    ) -> Result<()> {
        let _held = self.clock_hold.hold();
        match written.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(self.failed(message)),
            Err(_) => Err(self.failed("the journal writer has stopped".to_owned())),
        }
    }

    fn failed(&self, message: String) -> Error {
        Error::Storage {
            path: self.path.clone(),
            message,
        }
    }
}
