//! The durable transport (`file://PATH`): the conformance suite on a real clock against a fresh
//! directory per test, then what only a disk promises: accepted events survive a restart, with
//! their attempt counts, retry times and dead letters, and handled events leave the disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tempfile::TempDir;
use tidings::{Backoff, Bus, BusBuilder, Context, Error, HandlerError, Subscriber};
use tidings_conformance::Backend;
use tidings_tests::{Log, Ping};

/// A store in a fresh temporary directory, removed with the backend.
struct DurableBackend(TempDir);

impl DurableBackend {
    fn new() -> Self {
        DurableBackend(tempfile::tempdir().expect("a temporary directory"))
    }

    fn url(&self) -> String {
        format!("file://{}", self.0.path().display())
    }
}

impl Backend for DurableBackend {
    fn builder(&self) -> BusBuilder {
        Bus::builder().url(self.url()).manual()
    }
}

tidings_conformance::suite!(DurableBackend::new(), #[tokio::test(flavor = "multi_thread", worker_threads = 2)]);

fn recorder(name: &str, log: Log<(u32, u32)>, healthy: Arc<AtomicBool>) -> Subscriber {
    Subscriber::new(name, move |ping: Arc<Ping>, ctx: Context| {
        log.push((ping.seq, ctx.attempt()));
        let result = match healthy.load(Ordering::SeqCst) {
            true => Ok(()),
            false => Err(HandlerError::msg("downstream is down")),
        };
        std::future::ready(result)
    })
    .backoff(Backoff::fixed(Duration::from_millis(20)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_events_survive_a_restart_with_their_attempt_counts() {
    let backend = DurableBackend::new();
    let down = Arc::new(AtomicBool::new(false));
    let first_run = Log::default();
    let bus = backend
        .builder()
        .shutdown_timeout(Duration::from_millis(300))
        .subscribe(
            recorder("billing", first_run.clone(), down)
                .retries(1_000)
                .concurrency(1),
        )
        .build()
        .await
        .unwrap();
    for seq in 0..5 {
        bus.publish(Ping::new("customer-1", seq)).await.unwrap();
    }
    // Nothing can succeed before the deadline: shutdown reports the five as unfinished, and
    // they stay on disk.
    let unfinished = bus.shutdown().await.unwrap_err();
    assert!(
        matches!(unfinished, Error::ShutdownTimeout { unfinished: 5 }),
        "{unfinished}"
    );
    let failed_before = first_run
        .items()
        .iter()
        .filter(|(seq, _)| *seq == 0)
        .count() as u32;
    assert!(
        failed_before >= 2,
        "event 0 failed {failed_before} times before the restart"
    );

    let second_run = Log::default();
    let up = Arc::new(AtomicBool::new(true));
    let bus = backend
        .builder()
        .subscribe(recorder("billing", second_run.clone(), up).concurrency(1))
        .build()
        .await
        .unwrap();
    bus.wait_idle().await;
    let mut seen = second_run.items();
    seen.sort_unstable();
    assert_eq!(
        seen.len(),
        5,
        "every accepted event was redelivered once: {seen:?}"
    );
    assert_eq!(
        seen.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    let (_, attempt) = seen[0];
    assert!(
        attempt > failed_before.min(2),
        "event 0 resumed at attempt {attempt}, after {failed_before} failures"
    );
    bus.shutdown().await.unwrap();

    // Handled events are gone from the disk: a third run has nothing to redeliver.
    let third_run = Log::default();
    let bus = backend
        .builder()
        .subscribe(recorder(
            "billing",
            third_run.clone(),
            Arc::new(AtomicBool::new(true)),
        ))
        .build()
        .await
        .unwrap();
    bus.wait_idle().await;
    assert!(third_run.is_empty(), "{:?}", third_run.items());
    bus.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_survive_a_restart_and_replay_from_disk() {
    let backend = DurableBackend::new();
    let log = Log::default();
    let bus = backend
        .builder()
        .subscribe(recorder("billing", log.clone(), Arc::new(AtomicBool::new(false))).retries(0))
        .build()
        .await
        .unwrap();
    let id = bus.publish(Ping::new("customer-9", 9)).await.unwrap();
    bus.wait_idle().await;
    let before = bus.dead_letters().list().await.unwrap();
    assert_eq!(before.len(), 1);
    bus.shutdown().await.unwrap();

    let healthy = Arc::new(AtomicBool::new(true));
    let after_restart = Log::default();
    let bus = backend
        .builder()
        .subscribe(recorder("billing", after_restart.clone(), healthy))
        .build()
        .await
        .unwrap();
    let after = bus.dead_letters().list().await.unwrap();
    assert_eq!(after.len(), 1);
    let letter = &after[0];
    assert_eq!(
        (letter.id, letter.envelope.id, letter.attempts),
        (before[0].id, id, 1)
    );
    assert_eq!(
        (letter.subscriber.as_str(), letter.error.as_str()),
        ("billing", "downstream is down")
    );
    assert_eq!(
        letter.envelope.json().unwrap(),
        serde_json::json!({ "key": "customer-9", "seq": 9 })
    );

    bus.dead_letters().replay(&letter.id).await.unwrap();
    bus.wait_idle().await;
    assert_eq!(after_restart.items(), vec![(9, 1)]);
    bus.shutdown().await.unwrap();

    let bus = backend
        .builder()
        .subscribe(recorder(
            "billing",
            Log::default(),
            Arc::new(AtomicBool::new(true)),
        ))
        .build()
        .await
        .unwrap();
    assert!(
        bus.dead_letters().list().await.unwrap().is_empty(),
        "the replay removed it from disk too"
    );
    bus.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_urls_and_unopenable_stores_say_what_to_do() {
    let error = Bus::builder().url("file://").build().await.unwrap_err();
    assert!(error.to_string().contains("name a directory"), "{error}");
    let error = Bus::builder()
        .url("file://./x?sync=sometimes")
        .build()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("expected `sync=commit` (default), `sync=batched`"),
        "{error}"
    );

    let file = tempfile::NamedTempFile::new().unwrap();
    let error = Bus::builder()
        .url(format!("file://{}", file.path().display()))
        .build()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Storage { .. }), "{error}");
    assert!(
        error.to_string().contains("it is a file, not a directory"),
        "{error}"
    );
}

fn directory_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                directory_size(&entry.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_usage_stays_bounded_while_events_flow_through() {
    let backend = DurableBackend::new();
    let bus = backend
        .builder()
        .subscribe(recorder("sink", Log::default(), Arc::new(AtomicBool::new(true))).concurrency(4))
        .build()
        .await
        .unwrap();
    let mut sizes = Vec::new();
    for round in 0..6_u32 {
        let publishers: Vec<_> = (0..8)
            .map(|publisher| {
                let bus = bus.clone();
                tokio::spawn(async move {
                    for seq in 0..1_000 {
                        bus.publish(Ping::new("k", round * 100_000 + publisher * 1_000 + seq))
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        for publisher in publishers {
            publisher.await.unwrap();
        }
        bus.wait_idle().await;
        sizes.push(directory_size(backend.0.path()));
    }
    bus.shutdown().await.unwrap();
    // 48,000 events (~15 MB of envelopes) went through; what stays is the journal up to its
    // 64 MiB cap plus compacted tables, not a copy of every event.
    let mib = |bytes: u64| bytes / (1024 * 1024);
    println!(
        "directory size after each round of 8,000 events (MiB): {:?}",
        sizes.iter().map(|&s| mib(s)).collect::<Vec<_>>()
    );
    assert!(
        sizes.iter().all(|&size| mib(size) < 100),
        "directory sizes in MiB: {:?}",
        sizes.iter().map(|&s| mib(s)).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_journal_tail_is_repaired_and_a_damaged_store_is_a_clear_error() {
    let backend = DurableBackend::new();
    let stuck = backend
        .builder()
        .shutdown_timeout(Duration::from_millis(100))
        .subscribe(
            recorder("billing", Log::default(), Arc::new(AtomicBool::new(false))).retries(1_000),
        )
        .build()
        .await
        .unwrap();
    for seq in 0..3 {
        stuck.publish(Ping::new("k", seq)).await.unwrap();
    }
    let _ = stuck.shutdown().await;

    // A crash in the middle of a journal write leaves a torn tail.
    let journal = std::fs::read_dir(backend.0.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|ext| ext == "jnl"))
        .expect("a journal file");
    let mut tail = std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap();
    std::io::Write::write_all(&mut tail, &[0xAB; 37]).unwrap();
    drop(tail);

    let log = Log::default();
    let bus = backend
        .builder()
        .subscribe(recorder(
            "billing",
            log.clone(),
            Arc::new(AtomicBool::new(true)),
        ))
        .build()
        .await
        .unwrap();
    bus.wait_idle().await;
    let mut seqs: Vec<u32> = log.items().into_iter().map(|(seq, _)| seq).collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        vec![0, 1, 2],
        "everything acknowledged before the torn write survived"
    );
    bus.shutdown().await.unwrap();

    // A store damaged beyond a torn tail is refused with an error, never a panic.
    std::fs::write(backend.0.path().join("version"), b"garbage").unwrap();
    let error = backend.builder().build().await.unwrap_err();
    assert!(matches!(error, Error::Storage { .. }), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_whose_creation_was_interrupted_opens_and_keeps_what_it_accepts() {
    // What fjall leaves when its process is killed while creating a store: its lock file, an
    // empty journal and keyspace folder, not yet the `version` marker it writes last.
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir_all(store.join("keyspaces")).unwrap();
    std::fs::write(store.join("lock"), b"").unwrap();
    std::fs::write(store.join("0.jnl"), b"").unwrap();
    let url = format!("file://{}", store.display());

    let log = Log::default();
    let healthy = Arc::new(AtomicBool::new(true));
    let bus = Bus::builder()
        .url(&url)
        .manual()
        .subscribe(recorder("billing", log.clone(), healthy.clone()))
        .build()
        .await
        .unwrap();
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;
    assert_eq!(log.items(), vec![(1, 1)]);
    bus.shutdown().await.unwrap();

    // A whole store now: it opens again, with nothing left to deliver.
    let again = Log::default();
    let bus = Bus::builder()
        .url(&url)
        .manual()
        .subscribe(recorder("billing", again.clone(), healthy))
        .build()
        .await
        .unwrap();
    bus.wait_idle().await;
    assert!(again.is_empty(), "{:?}", again.items());
    bus.shutdown().await.unwrap();
}

/// Publishes pings `0..count` one at a time to a subscriber whose first attempt never ends,
/// then shuts down: `count` acknowledged events stay on disk, in order, ready to deliver.
async fn store_unhandled(url: &str, count: u32) {
    let stuck = Subscriber::new("billing", |_: Arc<Ping>| {
        std::future::pending::<Result<(), HandlerError>>()
    })
    .concurrency(1);
    let bus = Bus::builder()
        .url(url)
        .manual()
        .queue_capacity(2_000)
        .shutdown_timeout(Duration::from_millis(100))
        .subscribe(stuck)
        .build()
        .await
        .unwrap();
    for seq in 0..count {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    let unfinished = bus.shutdown().await.unwrap_err();
    assert!(
        matches!(unfinished, Error::ShutdownTimeout { unfinished } if unfinished == count as usize),
        "{unfinished}"
    );
}

/// Opens `url` with a healthy subscriber and returns the pings it handles until idle.
async fn drain_store(url: &str) -> tidings::Result<Vec<u32>> {
    let log = Log::default();
    let bus = Bus::builder()
        .url(url)
        .manual()
        .subscribe(recorder(
            "billing",
            log.clone(),
            Arc::new(AtomicBool::new(true)),
        ))
        .build()
        .await?;
    bus.wait_idle().await;
    bus.shutdown().await.unwrap();
    let mut seqs: Vec<u32> = log.items().into_iter().map(|(seq, _)| seq).collect();
    seqs.sort_unstable();
    Ok(seqs)
}

fn journals(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jnl"))
        .collect()
}

/// The first lost sequence an error names: "it ends before event N".
fn ends_before(error: &Error) -> u32 {
    let text = error.to_string();
    let rest = text
        .split("it ends before event ")
        .nth(1)
        .unwrap_or_else(|| panic!("no first lost sequence in: {text}"));
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no first lost sequence in: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_cut_short_is_refused_until_the_loss_is_accepted() {
    let backend = DurableBackend::new();
    let url = backend.url();
    store_unhandled(&url, 1_000).await;
    for journal in journals(backend.0.path()) {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&journal)
            .unwrap();
        let len = file.metadata().unwrap().len();
        file.set_len(len / 2).unwrap();
    }

    let refused = drain_store(&url).await.unwrap_err();
    let text = refused.to_string();
    println!("{text}");
    assert!(matches!(refused, Error::Storage { .. }), "{text}");
    assert!(
        text.contains("journal is shorter than what was acknowledged"),
        "{text}"
    );
    assert!(
        text.contains("events up to 1000 were acknowledged"),
        "{text}"
    );
    assert!(text.contains("accept_loss=true"), "{text}");
    assert!(
        !text.contains("aside") && !text.contains("start empty"),
        "{text}"
    );
    // Sequences are 1.. in publish order: pings 0..first-1 survived, the rest did not.
    let first_lost = ends_before(&refused);
    assert!(first_lost > 1 && first_lost < 1_000, "{text}");
    // Refusing changed nothing: it says the same again.
    assert_eq!(drain_store(&url).await.unwrap_err().to_string(), text);

    let accepted = drain_store(&format!("{url}?accept_loss=true"))
        .await
        .unwrap();
    assert_eq!(accepted, (0..first_lost - 1).collect::<Vec<_>>());
    // Accepted once: the store opens again without the flag, with nothing left.
    assert_eq!(drain_store(&url).await.unwrap(), Vec::<u32>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_journal_is_refused_until_the_loss_is_accepted() {
    let backend = DurableBackend::new();
    let url = backend.url();
    store_unhandled(&url, 1_000).await;
    let deleted = journals(backend.0.path());
    assert!(!deleted.is_empty());
    for journal in deleted {
        std::fs::remove_file(journal).unwrap();
    }

    let refused = drain_store(&url).await.unwrap_err();
    let text = refused.to_string();
    assert!(
        text.contains("journal files (`*.jnl`) are missing"),
        "{text}"
    );
    assert!(
        text.contains("up to 1000 acknowledged events (sequences 1 to 1000) are gone"),
        "{text}"
    );
    let accepted = drain_store(&format!("{url}?accept_loss=true"))
        .await
        .unwrap();
    assert_eq!(accepted, Vec::<u32>::new());
    assert_eq!(drain_store(&url).await.unwrap(), Vec::<u32>::new());
    // New events after the accepted loss flow and survive as usual.
    store_unhandled(&url, 3).await;
    assert_eq!(drain_store(&url).await.unwrap(), vec![0, 1, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_store_opens_without_the_flag_and_the_flag_changes_nothing() {
    let backend = DurableBackend::new();
    let url = backend.url();
    store_unhandled(&url, 20).await;
    let all: Vec<u32> = (0..20).collect();
    assert_eq!(
        drain_store(&format!("{url}?accept_loss=true"))
            .await
            .unwrap(),
        all
    );
    let error = Bus::builder()
        .url(format!("{url}?accept_loss=yes"))
        .build()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("`accept_loss=true`"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_open_in_another_process_is_named_with_its_pid() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_crash_child"))
        .args(["drain-wait", store.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut ready,
    )
    .unwrap();
    assert_eq!(
        ready.trim(),
        "ready",
        "the other process did not open the store"
    );

    let error = Bus::builder()
        .url(format!("file://{}", store.display()))
        .build()
        .await
        .unwrap_err();
    let _ = child.kill();
    let _ = child.wait();
    let text = error.to_string();
    assert!(
        text.contains(&format!(
            "`{}` is open in another process (pid {}); stop it or use another directory",
            store.display(),
            child.id()
        )),
        "{text}"
    );
    assert!(
        !text.contains("aside") && !text.contains("start empty"),
        "{text}"
    );
}

/// A tmpfs of `size` mounted on a fresh directory for one test (it needs root), unmounted when
/// dropped, even when the test fails.
struct SmallDisk(TempDir);

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match mounted {
            Ok(output) if output.status.success() => SmallDisk(dir),
            Ok(output) => panic!(
                "this test needs root: it mounts a {size} tmpfs to fill (`mount -t tmpfs`): {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
            Err(e) => panic!("this test needs root and `mount` to mount a {size} tmpfs: {e}"),
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let path = self.0.path();
        let unmounted = std::process::Command::new("umount").arg(path).status();
        if !unmounted.is_ok_and(|status| status.success()) {
            // Something still holds a file open (a bus dropped by a failing test): detach it.
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(path)
                .status();
        }
    }
}

/// Records each ping it handles, by subscriber.
fn counter(name: &str, log: Log<u32>) -> Subscriber {
    Subscriber::new(name, move |ping: Arc<Ping>| {
        log.push(ping.seq);
        std::future::ready(Ok::<(), HandlerError>(()))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_publishes_clearly_and_they_succeed_again_once_space_is_freed() {
    let disk = SmallDisk::mount("8m");
    let store = disk.0.path().join("store");
    let url = format!("file://{}", store.display());
    let (billing, audit) = (Log::default(), Log::default());
    let bus = Bus::builder()
        .url(&url)
        .manual()
        .subscribe(counter("billing", billing.clone()))
        .subscribe(counter("audit", audit.clone()))
        .build()
        .await
        .unwrap();
    // Room for a few hundred events, then a full disk.
    let ballast = disk.0.path().join("ballast");
    std::fs::write(&ballast, vec![7_u8; 4 * 1024 * 1024]).unwrap();
    // Random, so that no compression shrinks it.
    let mut rng = fastrand::Rng::with_seed(13);
    let mut big_key = || -> String { (0..16 * 1024).map(|_| rng.alphanumeric()).collect() };

    let mut acked = Vec::new();
    let mut next = 0_u32;
    let first_failure = loop {
        assert!(next < 2_000, "8 MiB never filled up");
        match bus.publish(Ping::new(&big_key(), next)).await {
            Ok(_) => acked.push(next),
            Err(error) => break error,
        }
        next += 1;
    };
    let text = first_failure.to_string();
    assert!(matches!(first_failure, Error::Storage { .. }), "{text}");
    assert!(text.contains("the disk is full"), "{text}");
    assert!(
        !acked.is_empty(),
        "nothing was accepted before the disk filled"
    );
    // While the disk stays full, every publish fails with the same clear error, never "Poisoned".
    for _ in 0..3 {
        next += 1;
        let error = bus.publish(Ping::new(&big_key(), next)).await.unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("the disk is full") && !text.contains("Poisoned"),
            "{text}"
        );
    }

    std::fs::remove_file(&ballast).unwrap();
    for _ in 0..50 {
        next += 1;
        bus.publish(Ping::new("k", next)).await.unwrap();
        acked.push(next);
    }
    bus.wait_idle().await;
    for (name, log) in [("billing", &billing), ("audit", &audit)] {
        let mut handled = log.items();
        handled.sort_unstable();
        assert_eq!(
            handled, acked,
            "{name} handled each acknowledged event once, nothing else"
        );
    }
    bus.shutdown().await.unwrap();

    // The acks written while the disk was full reached it too: a restart delivers nothing again.
    let again = Log::default();
    let bus = Bus::builder()
        .url(&url)
        .manual()
        .subscribe(counter("billing", again.clone()))
        .subscribe(counter("audit", again.clone()))
        .build()
        .await
        .unwrap();
    bus.wait_idle().await;
    assert_eq!(again.items(), Vec::<u32>::new());
    bus.shutdown().await.unwrap();
}
