//! A CLI session as a user runs it: the real `tidings` binary against a running bus, reached
//! through the bus's admin endpoint or straight through its broker. Every broker suite and the
//! admin endpoint run the same session.

use std::process::{Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tidings::{Backoff, Bus, Event, EventId, HandlerError, Subscriber};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "cli.parcel")]
pub(crate) struct Parcel {
    #[event(key)]
    pub(crate) n: u64,
}

/// A subscriber that fails every attempt while `failing` is set: one retry, then a dead letter.
pub(crate) fn courier(failing: Arc<AtomicBool>) -> Subscriber {
    Subscriber::new("courier", move |parcel: Arc<Parcel>| {
        let failing = Arc::clone(&failing);
        async move {
            if failing.load(Ordering::SeqCst) {
                return Err(HandlerError::retryable(format!(
                    "van broke down with parcel {}",
                    parcel.n
                )));
            }
            Ok(())
        }
    })
    .group("depot")
    .retries(1)
    .backoff(Backoff::fixed(Duration::from_millis(1)))
}

/// Runs `tidings --url URL ARGS…` to the end.
pub(crate) async fn tidings(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("--url")
        .arg(url)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("the tidings binary runs")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs the CLI and parses its `--json` output.
pub(crate) async fn json(url: &str, args: &[&str]) -> serde_json::Value {
    let output = tidings(url, args).await;
    assert!(
        output.status.success(),
        "tidings {args:?} failed: {}",
        stderr(&output)
    );
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

/// The session straight on a broker: a bus runs `courier` on `url`, and the CLI opens `url` too.
#[allow(dead_code)] // The broker targets use it; `tests/cli.rs`, which includes this module too, does not.
pub(crate) async fn on_broker(url: &str) {
    let failing = Arc::new(AtomicBool::new(true));
    let bus = Bus::builder()
        .url(url)
        .manual()
        .subscribe(courier(Arc::clone(&failing)))
        .build()
        .await
        .unwrap();
    dead_letters_and_tail(&bus, &failing, url).await;
    bus.shutdown().await.unwrap();
}

/// 40 parcels dead-lettered, then `dlq replay --all` (the van fixed: every one delivered) and,
/// after 40 more, `dlq discard --all`: each command acts on all of them, and none is left.
#[allow(dead_code)] // The broker targets use it.
pub(crate) async fn bulk_on_broker(url: &str) {
    const PARCELS: u64 = 40;
    let failing = Arc::new(AtomicBool::new(true));
    let bus = Bus::builder()
        .url(url)
        .manual()
        .subscribe(courier(Arc::clone(&failing)))
        .build()
        .await
        .unwrap();
    for n in 1..=PARCELS {
        bus.publish(Parcel { n }).await.unwrap();
    }
    bus.wait_idle().await;
    assert_eq!(
        bus.dead_letters().list().await.unwrap().len() as u64,
        PARCELS
    );
    failing.store(false, Ordering::SeqCst);
    let replayed = tidings(url, &["dlq", "replay", "--all"]).await;
    assert_eq!(
        stdout(&replayed).trim(),
        format!("replayed {PARCELS} of {PARCELS} dead letter(s)"),
        "{}",
        stderr(&replayed)
    );
    bus.wait_idle().await;
    assert!(bus.dead_letters().list().await.unwrap().is_empty());
    assert_eq!(bus.stats().subscriber("courier").unwrap().handled, PARCELS);

    failing.store(true, Ordering::SeqCst);
    for n in 1..=PARCELS {
        bus.publish(Parcel { n }).await.unwrap();
    }
    bus.wait_idle().await;
    let discarded = tidings(url, &["dlq", "discard", "--all"]).await;
    assert_eq!(
        stdout(&discarded).trim(),
        format!("discarded {PARCELS} of {PARCELS} dead letter(s)"),
        "{}",
        stderr(&discarded)
    );
    assert!(bus.dead_letters().list().await.unwrap().is_empty());
    bus.shutdown().await.unwrap();
}

/// The id of the dead letter of parcel `n` in a `dlq list --json`.
pub(crate) fn id_of(listed: &[serde_json::Value], n: u64) -> String {
    listed
        .iter()
        .find(|letter| letter["preview"] == format!(r#"{{"n":{n}}}"#))
        .and_then(|letter| letter["id"].as_str())
        .expect("a dead letter of that parcel")
        .to_owned()
}

/// The session: dead letters listed, shown, replayed (dry run, one, then a filter), discarded,
/// an unknown id refused, and a live tail. `cli_url` reaches `bus` (running `courier`).
pub(crate) async fn dead_letters_and_tail(bus: &Bus, failing: &Arc<AtomicBool>, cli_url: &str) {
    for n in 1..=3 {
        bus.publish(Parcel { n }).await.unwrap();
    }
    bus.wait_idle().await;
    let listed = json(cli_url, &["dlq", "list", "--json"]).await;
    let listed = listed.as_array().expect("an array");
    assert_eq!(listed.len(), 3, "{listed:?}");
    let mut keys: Vec<&str> = listed
        .iter()
        .map(|letter| letter["subject"].as_str().unwrap())
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["1", "2", "3"]);
    for letter in listed {
        assert_eq!(letter["subscriber"], "courier");
        assert_eq!(letter["group"], "depot");
        assert_eq!(letter["event"], "cli.parcel");
        assert_eq!(letter["attempts"], 2);
    }
    let id = |n: u64| id_of(listed, n);

    let shown = tidings(cli_url, &["dlq", "show", &id(2)]).await;
    assert!(shown.status.success(), "{}", stderr(&shown));
    let shown = stdout(&shown);
    assert!(shown.contains("van broke down with parcel 2"), "{shown}");
    assert!(shown.contains("attempts:       2"), "{shown}");
    assert!(shown.contains("\"n\": 2"), "{shown}");

    let none = tidings(cli_url, &["dlq", "list", "--subscriber", "someone-else"]).await;
    assert_eq!(stdout(&none).trim(), "no dead letters match");

    let dry = tidings(cli_url, &["dlq", "replay", "--all", "--dry-run"]).await;
    assert!(
        stdout(&dry).contains("would replay 3 dead letter(s)"),
        "{}",
        stdout(&dry)
    );
    assert_eq!(bus.dead_letters().list().await.unwrap().len(), 3);

    // The van is fixed: a replayed parcel is delivered.
    failing.store(false, Ordering::SeqCst);
    let replayed = tidings(cli_url, &["dlq", "replay", &id(1)]).await;
    assert_eq!(
        stdout(&replayed).trim(),
        "replayed 1 of 1 dead letter(s)",
        "{}",
        stderr(&replayed)
    );
    bus.wait_idle().await;
    let left = bus.dead_letters().list().await.unwrap();
    assert_eq!(left.len(), 2, "{left:?}");

    let discarded = tidings(cli_url, &["dlq", "discard", "--subscriber", "courier"]).await;
    assert_eq!(stdout(&discarded).trim(), "discarded 2 of 2 dead letter(s)");
    assert!(bus.dead_letters().list().await.unwrap().is_empty());

    let unknown = tidings(cli_url, &["dlq", "show", &id(3)]).await;
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains(&format!("no dead letter with id {}", id(3))),
        "{}",
        stderr(&unknown)
    );

    let ids = tail_while_publishing(bus, cli_url).await;
    assert_eq!(
        ids.0, ids.1,
        "the tail shows exactly the events published, in order"
    );
}

/// Starts `tidings tail cli.parcel --count 2 --json`, publishes two parcels once it listens,
/// and returns (published ids, ids the tail printed).
async fn tail_while_publishing(bus: &Bus, cli_url: &str) -> (Vec<EventId>, Vec<EventId>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args([
            "--url",
            cli_url,
            "tail",
            "cli.parcel",
            "--count",
            "2",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut errors = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = errors.next_line().await.unwrap().unwrap_or_default();
    assert!(first.starts_with("tailing `cli.parcel`"), "{first}");
    let mut published = Vec::new();
    for n in 10..12 {
        published.push(bus.publish(Parcel { n }).await.unwrap());
    }
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the tail ends after 2 events")
        .unwrap();
    assert!(output.status.success());
    let shown = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(event["type"], "cli.parcel");
            event["id"].as_str().unwrap().parse().unwrap()
        })
        .collect();
    (published, shown)
}
