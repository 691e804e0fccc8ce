//! Crash test of the durable transport (`file://PATH`): a child process (`bin/crash_child.rs`)
//! publishes from several tasks and handles events, slower than it publishes so that its queue
//! is full, until it is killed with SIGKILL at a seeded random moment, round after round on the
//! same store; then a clean run drains what is left. Every publish that returned `Ok` must end
//! up handled or dead-lettered; duplicates are allowed, bounded by what a kill can catch between
//! handling and its acknowledgement reaching the disk.
//!
//! Most kills come 30 to 300 ms after the child reports its store open (reopening takes longer
//! as the journal grows, so the moment is counted from there); one round in five kills it while
//! it may still be reopening the store, at a random fraction of the last reopen's duration.
//!
//! `TIDINGS_CRASH_ROUNDS` (default 20) sets the number of kills, `TIDINGS_CRASH_SEED` the seed
//! of the kill moments (printed, so a failing run can be repeated with the same moments).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CHILD: &str = env!("CARGO_BIN_EXE_crash_child");
const DEFAULT_SEED: u64 = 0x7469_6469_6e67_7321;
/// The child's queue capacity: at most this many deliveries are unfinished when it is killed.
const QUEUE_CAPACITY: usize = 64;
/// Seqs divisible by this are dead-lettered by the child's handler.
const POISON: u32 = 97;
/// How long the clean drain run may take before the test calls it hung.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);
/// How long reopening the store may take before the test calls it hung.
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value} is not a number")),
        Err(_) => default,
    }
}

/// The seqs of the lines `word <seq>` in `path`, in file order (none if it does not exist).
fn read_log(path: &Path, word: &str) -> Vec<u32> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(error) => panic!("reading {}: {error}", path.display()),
    };
    text.lines()
        .map(|line| {
            line.strip_prefix(word)
                .and_then(|rest| rest.strip_prefix(' '))
                .and_then(|seq| seq.parse().ok())
                .unwrap_or_else(|| panic!("{}: unexpected line {line:?}", path.display()))
        })
        .collect()
}

fn spawn(args: &[&str]) -> Child {
    Command::new(CHILD)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {CHILD}: {e}"))
}

/// Fires once `child` prints `ready` (its bus is open); reads its stdout on a thread so that
/// the test can wait with a timeout.
fn ready_signal(child: &mut Child) -> mpsc::Receiver<()> {
    let stdout = child.stdout.take().expect("the child's stdout");
    let (ready, signal) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            match line {
                Ok(line) if line == "ready" => {
                    let _ = ready.send(());
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    signal
}

/// Reaps `child` and returns its exit status and what it wrote to stderr.
fn reap(mut child: Child) -> (ExitStatus, String) {
    let status = child.wait().expect("wait for the child");
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    (status, stderr)
}

/// Runs the child in drain mode on `store` and checks that it finished cleanly in time.
fn drain(store: &str) {
    let mut child = spawn(&["drain", store]);
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while child.try_wait().expect("poll the drain run").is_none() {
        if Instant::now() > deadline {
            child.kill().expect("kill the hung drain run");
            let (_, stderr) = reap(child);
            panic!("the drain run hung for {DRAIN_TIMEOUT:?}; stderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, stderr) = reap(child);
    assert!(
        status.success(),
        "the drain run failed ({status}):\n{stderr}"
    );
}

#[test]
fn every_acknowledged_publish_survives_sigkill() {
    let rounds: usize = env_or("TIDINGS_CRASH_ROUNDS", 20);
    let seed: u64 = env_or("TIDINGS_CRASH_SEED", DEFAULT_SEED);
    println!("crash test: {rounds} rounds, seed {seed} (repeat with TIDINGS_CRASH_SEED={seed})");
    let mut rng = fastrand::Rng::with_seed(seed);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("store");
    let store = store.to_str().expect("a UTF-8 temporary path");
    let log = |name: &str| dir.path().join(name);
    let started = Instant::now();

    let mut rounds_with_acks = 0;
    let mut last_open = Duration::from_millis(50);
    for round in 1..=rounds {
        // Start after every seq attempted so far: a publish cut short by the kill may still
        // have reached the disk, and its seq must not be used twice.
        let first = read_log(&log("sent.log"), "sent")
            .into_iter()
            .max()
            .unwrap_or(0)
            + 1;
        let acked_before = read_log(&log("acked.log"), "acked").len();
        let spawned = Instant::now();
        let mut child = spawn(&["publish", store, &first.to_string()]);
        let ready = ready_signal(&mut child);
        let during_open = rng.u32(0..5) == 0;
        let moment = if during_open {
            let lifetime = last_open.mul_f64(rng.f64());
            std::thread::sleep(lifetime); // the fault injection: kill at a random moment
            let state = match ready.try_recv() {
                Ok(()) => "open already",
                Err(_) => "still opening",
            };
            format!("{:>4} ms after start ({state})", lifetime.as_millis())
        } else {
            match ready.recv_timeout(OPEN_TIMEOUT) {
                Ok(()) => last_open = spawned.elapsed(),
                Err(_) => {
                    let _ = child.kill();
                    let (status, stderr) = reap(child);
                    panic!(
                        "round {round} (seed {seed}): the child did not report the store open \
                         (waited up to {OPEN_TIMEOUT:?}; {status}):\n{stderr}"
                    );
                }
            }
            let lifetime = Duration::from_millis(rng.u64(30..=300));
            std::thread::sleep(lifetime); // the fault injection: kill at a random moment
            format!(
                "{:>4} ms after opening in {:>4} ms",
                lifetime.as_millis(),
                last_open.as_millis()
            )
        };
        if let Some(status) = child.try_wait().expect("poll the child") {
            let (_, stderr) = reap(child);
            panic!("round {round} (seed {seed}): the child exited by itself ({status}):\n{stderr}");
        }
        child.kill().expect("SIGKILL the child");
        let (status, stderr) = reap(child);
        assert_eq!(
            status.signal(),
            Some(9),
            "round {round} (seed {seed}): the child was not killed by SIGKILL ({status}):\n{stderr}"
        );
        let acked = read_log(&log("acked.log"), "acked").len() - acked_before;
        if acked > 0 {
            rounds_with_acks += 1;
        }
        println!(
            "round {round:>2}: killed {moment}, {acked:>4} publishes acknowledged from seq {first}"
        );
    }

    drain(store);
    let handled_lines = read_log(&log("handled.log"), "handled");
    let dead_lines = read_log(&log("dead.log"), "dead");
    // A second clean run finds nothing left to deliver: the first one's acks reached the disk.
    drain(store);
    let after_second_drain = read_log(&log("handled.log"), "handled");
    assert_eq!(
        after_second_drain.len(),
        handled_lines.len(),
        "a second drain handled again: {:?}",
        &after_second_drain[handled_lines.len()..]
    );
    let elapsed = started.elapsed();

    let sent = read_log(&log("sent.log"), "sent")
        .into_iter()
        .max()
        .unwrap_or(0);
    let acked: BTreeSet<u32> = read_log(&log("acked.log"), "acked").into_iter().collect();
    let handled: BTreeSet<u32> = handled_lines.iter().copied().collect();
    let second_listing = read_log(&log("dead.log"), "dead").split_off(dead_lines.len());
    let dead: BTreeSet<u32> = dead_lines.iter().copied().collect();
    let lost: Vec<u32> = acked
        .iter()
        .copied()
        .filter(|seq| !handled.contains(seq) && !dead.contains(seq))
        .collect();
    let duplicated = handled_lines.len() - handled.len();
    println!(
        "crash report: rounds {rounds}, sent {sent}, acknowledged {}, handled {}, dead-lettered {}, \
         lost {}, duplicated {duplicated} ({rounds_with_acks}/{rounds} rounds acknowledged \
         something; seed {seed}; {:.1}s)",
        acked.len(),
        handled.len(),
        dead.len(),
        lost.len(),
        elapsed.as_secs_f64(),
    );

    assert!(
        lost.is_empty(),
        "seed {seed}: {} acknowledged publishes were neither handled nor dead-lettered: {lost:?}",
        lost.len()
    );
    assert!(
        duplicated <= rounds * QUEUE_CAPACITY,
        "seed {seed}: {duplicated} duplicate deliveries in {rounds} kills, more than the \
         queue capacity ({QUEUE_CAPACITY}) per kill"
    );
    assert!(
        rounds_with_acks * 2 > rounds,
        "seed {seed}: only {rounds_with_acks} of {rounds} rounds acknowledged a publish"
    );
    // Nothing appears that was never sent, and each outcome is the one the handler chose.
    let phantoms: Vec<u32> = handled
        .union(&dead)
        .copied()
        .filter(|seq| *seq == 0 || *seq > sent)
        .collect();
    assert!(phantoms.is_empty(), "never sent: {phantoms:?}");
    let wrong: Vec<u32> = handled
        .iter()
        .copied()
        .filter(|seq| seq.is_multiple_of(POISON))
        .chain(
            dead.iter()
                .copied()
                .filter(|seq| !seq.is_multiple_of(POISON)),
        )
        .collect();
    assert!(
        wrong.is_empty(),
        "handled or dead-lettered wrongly: {wrong:?}"
    );
    // One dead letter per event, and a restart keeps them all.
    assert_eq!(
        dead_lines.len(),
        dead.len(),
        "an event was dead-lettered twice: {dead_lines:?}"
    );
    assert_eq!(
        dead_lines, second_listing,
        "the second drain listed other dead letters"
    );
}

/// After a SIGKILL the manifest still says how far the journal reached (the page cache keeps
/// it): a journal then cut to half its size is refused at open, naming what is gone.
#[test]
fn a_journal_cut_short_after_sigkill_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("store");
    let mut child = spawn(&["publish", store.to_str().unwrap(), "1"]);
    let ready = ready_signal(&mut child);
    ready
        .recv_timeout(OPEN_TIMEOUT)
        .expect("the child opened the store");
    let acked_log = dir.path().join("acked.log");
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while read_log(&acked_log, "acked").len() < 1_000 {
        assert!(
            Instant::now() < deadline,
            "1,000 publishes were not acknowledged in time"
        );
        std::thread::sleep(Duration::from_millis(20)); // polling a file the child appends to
    }
    child.kill().expect("SIGKILL the child");
    let (status, _) = reap(child);
    assert_eq!(status.signal(), Some(9));

    for entry in std::fs::read_dir(&store).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "jnl") {
            let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            let len = file.metadata().unwrap().len();
            file.set_len(len / 2).unwrap();
        }
    }
    let (status, stderr) = reap(spawn(&["drain", store.to_str().unwrap()]));
    assert!(!status.success(), "the cut store opened:\n{stderr}");
    assert!(
        stderr.contains("its journal is shorter than what was acknowledged")
            && stderr.contains("accept_loss=true"),
        "{stderr}"
    );
}
