//! The durable transport's publish path: fsync per event and group commit with 1, 8 and 64
//! concurrent publishers, against the same group commit done by hand on a plain file
//! (append + `fdatasync`) and on SQLite in WAL mode (`synchronous=FULL`, one transaction per
//! batch). Every side acknowledges a publish only once its batch is on disk.

use std::fs::File;
use std::io::Write;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tidings::{Bus, Subscriber};
use tokio::sync::oneshot;

use super::{Size, Tick};
use crate::harness::{Goal, Row, compare, throughput_row};

/// About what tidings stores per small event: its CloudEvents JSON.
const RECORD: usize = 320;

type Request = (Vec<u8>, oneshot::Sender<()>);

/// A writer thread that commits whatever is queued as one batch, then answers the batch.
fn group_committer(mut commit: impl FnMut(&[Vec<u8>]) + Send + 'static) -> mpsc::Sender<Request> {
    let (tx, rx) = mpsc::channel::<Request>();
    std::thread::spawn(move || {
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            batch.extend(rx.try_iter().take(4095));
            let (records, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            commit(&records);
            for answer in answers {
                let _ = answer.send(());
            }
        }
    });
    tx
}

fn raw_file(dir: &std::path::Path) -> mpsc::Sender<Request> {
    let mut file = File::create(dir.join("raw.log")).expect("create the raw log");
    group_committer(move |records| {
        for record in records {
            file.write_all(record).expect("append");
        }
        file.sync_data().expect("fdatasync");
    })
}

fn sqlite(dir: &std::path::Path) -> mpsc::Sender<Request> {
    let mut db = rusqlite::Connection::open(dir.join("bench.sqlite")).expect("open SQLite");
    db.pragma_update(None, "journal_mode", "WAL").expect("WAL");
    db.pragma_update(None, "synchronous", "FULL")
        .expect("synchronous=FULL");
    db.execute(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, body BLOB NOT NULL)",
        [],
    )
    .expect("create table");
    group_committer(move |records| {
        let tx = db.transaction().expect("begin");
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO events (body) VALUES (?1)")
                .expect("prepare");
            for record in records {
                insert.execute([record]).expect("insert");
            }
        }
        tx.commit().expect("commit");
    })
}

/// `publishers` tasks publishing `events` records in all through `writer`.
async fn by_hand(writer: &mpsc::Sender<Request>, events: u64, publishers: u64) -> Duration {
    let start = Instant::now();
    let tasks: Vec<_> = (0..publishers)
        .map(|_| {
            let writer = writer.clone();
            tokio::spawn(async move {
                for _ in 0..events / publishers {
                    let (done, written) = oneshot::channel();
                    writer
                        .send((vec![b'x'; RECORD], done))
                        .expect("writer alive");
                    written.await.expect("written");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("publisher finished");
    }
    start.elapsed()
}

async fn tidings_round(bus: &Bus, events: u64, publishers: u64) -> Duration {
    let start = Instant::now();
    let tasks: Vec<_> = (0..publishers)
        .map(|publisher| {
            let bus = bus.clone();
            tokio::spawn(async move {
                for seq in 0..events / publishers {
                    bus.publish(Tick {
                        seq: publisher << 32 | seq,
                    })
                    .await
                    .expect("published");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("publisher finished");
    }
    let elapsed = start.elapsed();
    bus.wait_idle().await; // untimed: the next round starts from an idle bus
    elapsed
}

pub(crate) async fn publish(size: Size) -> Vec<Row> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let bus = Bus::builder()
        .url(format!("file://{}", dir.path().join("tidings").display()))
        .manual()
        .subscribe(Subscriber::new("sink", |tick: Arc<Tick>| async move {
            std::hint::black_box(tick.seq);
        }))
        .build()
        .await
        .expect("bus builds");
    let (raw, sql) = (raw_file(dir.path()), sqlite(dir.path()));
    let mut rows = Vec::new();
    for publishers in [1, 8, 64] {
        let events = (size.durable_events * publishers).min(size.durable_events * 16);
        let timings = compare(
            size.rounds,
            || by_hand(&raw, events, publishers),
            || tidings_round(&bus, events, publishers),
        )
        .await;
        rows.push(throughput_row(
            &format!("durable publish, {publishers} publisher(s) (events/s)"),
            "append + fdatasync, same batching",
            events,
            timings,
            Some(Goal::RatioAtMost(2.0)),
        ));
    }
    let (publishers, events) = (64, size.durable_events * 16);
    let timings = compare(
        size.rounds,
        || by_hand(&sql, events, publishers),
        || tidings_round(&bus, events, publishers),
    )
    .await;
    rows.push(throughput_row(
        "durable publish vs SQLite, 64 publishers (events/s)",
        "SQLite WAL, synchronous=FULL, batched",
        events,
        timings,
        Some(Goal::RatioAtMost(0.5)),
    ));
    bus.shutdown().await.expect("shut down");
    rows.push(consume(size).await);
    rows
}

/// The raw path of consuming: a consumer hands each event's 16-byte acknowledgement to a writer
/// thread that appends whatever has queued in one `write` (acknowledgements need no fsync each:
/// a lost one means a redelivery, not a loss), timed until the last one is written and synced.
async fn raw_consume(dir: &std::path::Path, events: u64) -> Duration {
    let mut file = File::create(dir.join("acks.log")).expect("create the ack log");
    let (acks, written) = mpsc::channel::<Option<[u8; 16]>>();
    let writer = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        while let Ok(first) = written.recv() {
            for ack in std::iter::once(first).chain(written.try_iter()) {
                match ack {
                    Some(ack) => buffer.extend_from_slice(&ack),
                    None => {
                        file.write_all(&buffer).expect("append");
                        file.sync_data().expect("fdatasync");
                        return;
                    }
                }
            }
            file.write_all(&buffer).expect("append");
            buffer.clear();
        }
    });
    let start = Instant::now();
    for seq in 0..events {
        std::hint::black_box(Tick { seq });
        acks.send(Some([0; 16])).expect("writer alive");
    }
    acks.send(None).expect("writer alive");
    tokio::task::spawn_blocking(move || writer.join().expect("writer finished"))
        .await
        .expect("joined");
    start.elapsed()
}

/// A backlog of `events` on disk, then the subscriber is let go: timed until all are handled
/// and the journal holds every acknowledgement on disk (shutdown persists it).
async fn tidings_consume(dir: &std::path::Path, events: u64) -> Duration {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let sink = Subscriber::new("sink", {
        let gate = Arc::clone(&gate);
        move |tick: Arc<Tick>| {
            let gate = Arc::clone(&gate);
            async move {
                gate.acquire().await.expect("gate open").forget();
                std::hint::black_box(tick.seq);
            }
        }
    });
    let store = tempfile::tempdir_in(dir).expect("a store directory");
    let bus = Bus::builder()
        .url(format!("file://{}", store.path().display()))
        .manual()
        .queue_capacity(events as usize)
        .subscribe(sink.concurrency(1))
        .build()
        .await
        .expect("bus builds");
    for seq in 0..events {
        bus.publish(Tick { seq }).await.expect("published");
    }
    let start = Instant::now();
    gate.add_permits(events as usize);
    bus.wait_idle().await;
    bus.shutdown().await.expect("shut down");
    start.elapsed()
}

async fn consume(size: Size) -> Row {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let events = size.durable_events * 16;
    let timings = compare(
        size.rounds,
        || raw_consume(dir.path(), events),
        || tidings_consume(dir.path(), events),
    )
    .await;
    throughput_row(
        "durable consume of a backlog (events/s)",
        "consumer appending acks by a writer thread",
        events,
        timings,
        None,
    )
}
