//! The process `tests/crash.rs` kills: a bus on the durable transport with one subscriber.
//!
//! ```text
//! crash_child publish DIR FIRST_SEQ   publish Ping FIRST_SEQ, FIRST_SEQ + 1, .. until killed
//! crash_child drain DIR               handle what the store still holds, list dead letters, exit 0
//! crash_child drain-wait DIR          keep the store open until stdin closes (a second process)
//! ```
//!
//! It prints `ready` on stdout once the bus is open (recovery done). The store lives in `DIR`;
//! the logs the test reads live beside it, in `DIR/..`, one line per `write_all` on a file
//! opened for appending (no fsync: SIGKILL keeps the page cache):
//!
//! - `sent.log`: `sent <seq>`, before `publish` is called (the highest seq attempted);
//! - `acked.log`: `acked <seq>`, after `publish` returned `Ok` (the event is on disk);
//! - `handled.log`: `handled <seq>`, from the handler, which succeeds for every seq but
//!   multiples of 97; those fail permanently and are dead-lettered;
//! - `dead.log`: `dead <seq>` for every dead letter, written by `drain`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tidings::{Bus, HandlerError, Subscriber};
use tidings_tests::Ping;
use tokio::task::JoinSet;

/// Concurrent publishing tasks, so that publishes share group commits.
const PUBLISHERS: usize = 8;

/// How long the handler works on an event: slower than the publishers, so the queue is full
/// (backpressure) whenever the child is killed, and the journal grows at a bounded pace.
const HANDLING: Duration = Duration::from_millis(2);

/// Seqs divisible by this fail permanently.
const POISON: u32 = 97;

/// Appends one line per call; several tasks may share it (`O_APPEND`, one `write` per line).
#[derive(Debug, Clone)]
struct LineLog(Arc<File>);

impl LineLog {
    fn open(path: &Path) -> Self {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
        LineLog(Arc::new(file))
    }

    fn line(&self, word: &str, seq: u32) {
        (&*self.0)
            .write_all(format!("{word} {seq}\n").as_bytes())
            .expect("append a log line");
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: crash_child publish DIR FIRST_SEQ | crash_child drain DIR | crash_child drain-wait DIR"
    );
    std::process::exit(2);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, dir) = match args.as_slice() {
        [mode, dir, ..] => (mode.as_str(), PathBuf::from(dir)),
        _ => usage(),
    };
    let logs = dir.parent().expect("the store directory has a parent");
    let handled = LineLog::open(&logs.join("handled.log"));
    let subscriber = Subscriber::new("crash", move |ping: Arc<Ping>| {
        let handled = handled.clone();
        async move {
            tokio::time::sleep(HANDLING).await;
            if ping.seq.is_multiple_of(POISON) {
                return Err(HandlerError::permanent_msg(format!(
                    "seq {} is a multiple of {POISON}",
                    ping.seq
                )));
            }
            handled.line("handled", ping.seq);
            Ok(())
        }
    })
    .concurrency(4);
    let bus = Bus::builder()
        .url(format!("file://{}", dir.display()))
        .queue_capacity(64)
        .manual()
        .subscribe(subscriber)
        .build()
        .await
        .unwrap_or_else(|e| panic!("opening the bus on {}: {e}", dir.display()));
    // The test measures its kill moment from here.
    println!("ready");

    match (mode, &args[2..]) {
        ("publish", [first]) => {
            let first: u32 = first.parse().unwrap_or_else(|_| usage());
            publish_forever(bus, logs, first).await
        }
        ("drain", []) => drain(bus, logs).await,
        ("drain-wait", []) => {
            tokio::task::spawn_blocking(|| {
                std::io::copy(&mut std::io::stdin(), &mut std::io::sink())
            })
            .await
            .expect("reading stdin")
            .expect("reading stdin");
            bus.shutdown().await.expect("a clean shutdown");
        }
        _ => usage(),
    }
}

/// Publishes from `PUBLISHERS` tasks until killed.
async fn publish_forever(bus: Bus, logs: &Path, first: u32) {
    let sent = LineLog::open(&logs.join("sent.log"));
    let acked = LineLog::open(&logs.join("acked.log"));
    let next = Arc::new(AtomicU32::new(first));
    let mut publishers = JoinSet::new();
    for _ in 0..PUBLISHERS {
        let (bus, sent, acked, next) = (bus.clone(), sent.clone(), acked.clone(), next.clone());
        publishers.spawn(async move {
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                sent.line("sent", seq);
                if let Err(error) = bus.publish(Ping::new("crash", seq)).await {
                    panic!("publishing seq {seq} failed: {error}");
                }
                acked.line("acked", seq);
            }
        });
    }
    // Publishers only stop by panicking: exit non-zero at once, so the test sees it.
    if let Some(Err(error)) = publishers.join_next().await {
        eprintln!("{error}");
        std::process::exit(1);
    }
}

/// Handles whatever the store still holds, records every dead letter, shuts down cleanly.
async fn drain(bus: Bus, logs: &Path) {
    bus.wait_idle().await;
    let dead = LineLog::open(&logs.join("dead.log"));
    let letters = bus.dead_letters().list().await.expect("list dead letters");
    for letter in &letters {
        let json = letter.envelope.json();
        let seq = json
            .as_ref()
            .and_then(|json| json.get("seq")?.as_u64())
            .and_then(|seq| u32::try_from(seq).ok())
            .unwrap_or_else(|| panic!("dead letter {} has no seq: {json:?}", letter.id));
        dead.line("dead", seq);
    }
    bus.shutdown().await.expect("a clean shutdown");
}
