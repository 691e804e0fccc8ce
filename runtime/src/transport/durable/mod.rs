//! The durable local transport, `file://PATH`: the memory transport's engine with a journal.
//!
//! Every publish is written to an embedded store (fjall) and fsynced before `publish` returns,
//! concurrent publishers sharing each fsync (group commit). Acknowledgements, retry schedules and
//! dead letters are written too, so a restarted process redelivers whatever was accepted and not
//! finished, with its attempt count, and keeps its dead letters. In process, subscribers still
//! receive the publisher's own `Arc<E>`: the journal holds the JSON form only for recovery.
//!
//! Faults: a new store is created whole or not at all (`create`); at open, the store must reach
//! what its manifest recorded, or acknowledged events are gone and the open is refused unless
//! `accept_loss=true` (`manifest`); after a failed write the writer reopens the store (`writer`).

mod clock_hold;
mod create;
mod existing;
mod manifest;
mod messages;
mod store;
mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use tokio::sync::oneshot;

pub(crate) use existing::check_exists;
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
    /// Enabled under virtual time (`tidings::testing`).
    clock_hold: clock_hold::ClockHold,
}

/// What the `file://` URL's query asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) sync: SyncMode,
    /// Opens a store that misses acknowledged events (see `messages::lost`) instead of refusing.
    pub(crate) accept_loss: bool,
}

/// Parses `file://PATH[?sync=commit|batched][&accept_loss=true]`.
pub(crate) fn parse(url: &crate::transport::TransportUrl) -> Result<(PathBuf, Options)> {
    let path = url.address();
    if path.is_empty() {
        return Err(
            url.unsupported("name a directory: `file://./data` or `file:///var/lib/app/events`")
        );
    }
    let mut options = Options {
        sync: SyncMode::Commit,
        accept_loss: false,
    };
    for (name, value) in url.options() {
        match (name.as_str(), value.as_str()) {
            ("sync", "commit") => options.sync = SyncMode::Commit,
            ("sync", "batched") => {
                options.sync = SyncMode::Batched {
                    window: Duration::from_millis(50),
                }
            }
            ("accept_loss", "true") => options.accept_loss = true,
            ("accept_loss", "false") => options.accept_loss = false,
            // Only the name of an unknown option is shown: its value may be a secret.
            _ => {
                return Err(url.unknown_option(
                    name,
                    "`sync=commit` (default), `sync=batched`, `accept_loss=true` or \
                     `accept_loss=false` (default)",
                ));
            }
        }
    }
    Ok((PathBuf::from(path), options))
}

/// Opens the store at `path` and checks that it reaches what its manifest recorded; returns it
/// with the next sequence to hand out.
fn open_checked(
    path: &Path,
    accept_loss: bool,
) -> std::result::Result<(store::Store, u64), String> {
    let found = manifest::read(path).map_err(|e| format!("cannot read its manifest: {e}"))?;
    let journal_missing = !has_journal(path).map_err(|e| format!("cannot list it: {e}"))?;
    let owner = match found {
        manifest::Found::Recorded { pid, .. } => Some(pid),
        _ => None,
    };
    let store = store::Store::open(path).map_err(|e| messages::open_failed(path, &e, owner))?;
    let stored_next = store
        .next_seq()
        .map_err(|e| format!("cannot read its sequence counter: {e}"))?;
    let next_seq = match found {
        manifest::Found::Recorded { next_seq, .. } if stored_next < next_seq => {
            let lost = messages::lost(path, stored_next, next_seq, journal_missing);
            if !accept_loss {
                return Err(lost);
            }
            tracing::warn!(path = %path.display(), "opening with `accept_loss=true`: {lost}");
            // Sequences stay unique: none that was handed out is used again. The store records
            // that, so the next open without the flag finds it whole.
            store
                .commit(&[store::Write::SetNextSeq(next_seq)], true)
                .map_err(|e| messages::write_failed(&e))?;
            next_seq
        }
        manifest::Found::Damaged if !accept_loss => {
            return Err(messages::manifest_damaged(path));
        }
        manifest::Found::Missing => {
            tracing::info!(path = %path.display(), "the durable store has no manifest yet (made by an older tidings); writing one");
            stored_next
        }
        _ => stored_next,
    };
    Ok((store, next_seq))
}

/// Whether `path` holds a journal file: fjall opens a store without one as empty.
fn has_journal(path: &Path) -> std::io::Result<bool> {
    for entry in std::fs::read_dir(path)? {
        if entry?.path().extension().is_some_and(|ext| ext == "jnl") {
            return Ok(true);
        }
    }
    Ok(false)
}

impl Journal {
    /// Opens (or creates) the store at `path` and reads back what it holds.
    pub(crate) fn open(path: &Path, options: Options) -> Result<(Journal, Recovered)> {
        let failed = |message: String| Error::Storage {
            path: path.to_owned(),
            message,
        };
        create::ensure(path, |staging| {
            let store = store::Store::open(staging).map_err(|e| e.to_string())?;
            store.persist().map_err(|e| e.to_string())?;
            manifest::Manifest::open(staging, 1).map_err(|e| e.to_string())?;
            Ok(())
        })
        .map_err(failed)?;
        let (store, next_seq) = open_checked(path, options.accept_loss).map_err(failed)?;
        let read = |what: &str, e: fjall::Error| failed(format!("cannot read its {what}: {e}"));
        let deliveries = store.pending().map_err(|e| read("deliveries", e))?;
        let dead_letters = store.dead_letters().map_err(|e| read("dead letters", e))?;
        let manifest = manifest::Manifest::open(path, next_seq)
            .map_err(|e| failed(format!("cannot write its manifest: {e}")))?;
        let mut remaining: HashMap<u64, u32> = HashMap::new();
        for delivery in &deliveries {
            *remaining.entry(delivery.seq).or_default() += 1;
        }
        let writer = writer::Writer {
            path: path.to_owned(),
            store: Some(store),
            manifest,
            sync: options.sync,
            remaining,
            next_seq,
        };
        let (ops, receiver) = std::sync::mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("tidings-journal".to_owned())
            .spawn(move || writer.run(receiver))
            .map_err(|e| failed(format!("cannot start its writer thread: {e}")))?;
        let journal = Journal {
            path: path.to_owned(),
            ops,
            next_seq: AtomicU64::new(next_seq),
            writer: Mutex::new(Some(writer)),
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

    /// The dead letter `id` whole, as stored; `None` if the store does not hold it. Read by the
    /// writer, after the writes queued before it, from the store as it is now.
    pub(crate) async fn read_dead_letter(&self, id: DeadLetterId) -> Result<Option<DeadLetter>> {
        let (done, read) = oneshot::channel();
        self.send(Op::ReadDeadLetter {
            id: id.to_bytes(),
            done,
        })?;
        let found = {
            let _held = self.clock_hold.hold();
            read.await
                .map_err(|_| self.failed("the journal writer has stopped".to_owned()))?
                .map_err(|message| self.failed(message))?
        };
        found
            .map(|stored| {
                stored
                    .and_then(|stored| stored.into_dead_letter(id).map_err(|e| e.to_string()))
                    .map_err(|e| self.failed(format!("dead letter {id} cannot be read: {e}")))
            })
            .transpose()
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
