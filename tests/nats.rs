//! The NATS JetStream transport against the real server on this machine (127.0.0.1:4222, or
//! `TIDINGS_NATS_URL`): the conformance suite, the interop cases with a Python client
//! (`tests/interop/nats_client.py`), then what only a broker meets: raw messages from producers
//! that are not tidings.
//!
//! Run with `cargo test -p tidings-tests --features nats --test nats`. A server that cannot be
//! reached fails every test, saying how to start one.

#[macro_use]
mod interop;
#[macro_use]
mod processes;
#[path = "nats/poison.rs"]
mod poison;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};

use interop::{Client, Foreign};
use serde_json::{Value, json};
use tidings::{Bus, BusBuilder, EventId, Key, Subscriber};
use tidings_conformance::Backend;
use tidings_tests::{Log, Ping};

fn server() -> String {
    std::env::var("TIDINGS_NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned())
}

/// A namespace of its own per test (its streams deleted with the backend), shared by the
/// buses that test builds as it would be by the processes of one service.
struct NatsBackend {
    namespace: String,
}

impl NatsBackend {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        if let Err(error) = std::net::TcpStream::connect(server()) {
            panic!(
                "no NATS server at {}: {error}. Start one with JetStream: \
                 `nats-server -js -a 127.0.0.1 -p 4222` (or set TIDINGS_NATS_URL)",
                server()
            );
        }
        anchor_the_store();
        let namespace = format!(
            "t{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        NatsBackend { namespace }
    }

    fn url(&self) -> String {
        format!("nats://{}?namespace={}", server(), self.namespace)
    }
}

impl Backend for NatsBackend {
    fn builder(&self) -> BusBuilder {
        Bus::builder().url(self.url()).manual()
    }
}

impl Drop for NatsBackend {
    fn drop(&mut self) {
        let namespace = self.namespace.clone();
        on_a_runtime_of_its_own(async move {
            let Ok(client) = async_nats::connect(server()).await else {
                return;
            };
            let js = async_nats::jetstream::new(client);
            for stream in ["events", "dead", "parked"] {
                let _ = js.delete_stream(format!("{namespace}-{stream}")).await;
            }
        });
    }
}

/// The NATS server (2.9) removes its store directory when the last file stream is deleted,
/// and a stream created at that moment fails ("error creating store for stream"): a test
/// deleting its namespace while another declares its own met it now and then. One stream that
/// stays keeps the directory. It is empty, and shared by every run.
fn anchor_the_store() {
    static ANCHORED: Once = Once::new();
    ANCHORED.call_once(|| {
        on_a_runtime_of_its_own(async {
            let js = async_nats::jetstream::new(async_nats::connect(server()).await.unwrap());
            let anchor = async_nats::jetstream::stream::Config {
                name: "tidings-tests-anchor".to_owned(),
                subjects: vec!["tidings-tests-anchor".to_owned()],
                ..Default::default()
            };
            // The anchor itself may meet another run's deletion: try again.
            let mut tries = 0;
            while let Err(error) = js.get_or_create_stream(anchor.clone()).await {
                tries += 1;
                assert!(tries < 5, "cannot declare the anchor stream: {error}");
            }
        });
    });
}

/// Runs `work` to completion from inside a test's runtime: on a thread of its own, with a
/// runtime of its own.
fn on_a_runtime_of_its_own(work: impl Future<Output = ()> + Send + 'static) {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(work);
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

tidings_conformance::suite!(NatsBackend::new(), #[tokio::test(flavor = "multi_thread", worker_threads = 2)]);

impl Foreign for NatsBackend {
    fn client(&self) -> Client {
        let server = format!("nats://{}", server());
        let options = ["--server", &server, "--namespace", &self.namespace];
        Client::new("nats_client.py", options.map(str::to_owned).to_vec())
    }

    fn prefix(&self) -> &'static str {
        "ce-"
    }

    fn route(&self, event: &str, key: Key<'_>) -> Value {
        // One stream per namespace; the subject's partition is the key's hash modulo 16.
        let (namespace, partition) = (&self.namespace, key.hash64() % 16);
        json!({
            "subject": format!("{namespace}.events.{partition}.{event}"),
            "stream": format!("{namespace}-events"),
        })
    }

    fn transport_headers(&self, id: EventId) -> Vec<(String, String)> {
        vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            // JetStream de-duplicates a retried publish by it.
            ("Nats-Msg-Id".to_owned(), id.to_string()),
        ]
    }

    fn properties(&self, _: EventId) -> Value {
        Value::Null
    }
}

interop_suite!(NatsBackend::new(), #[tokio::test(flavor = "multi_thread", worker_threads = 2)]);

/// A message published straight to the subject by a producer that knows nothing of tidings,
/// with a payload that is not the event, is dead-lettered with its decode error, and the
/// events after it still flow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_malformed_message_is_dead_lettered_with_its_decode_error() {
    let backend = NatsBackend::new();
    let seen = Log::default();
    let bus = (&backend as &dyn Backend)
        .bus_with([Subscriber::new("stock", {
            let seen = seen.clone();
            move |ping: Arc<Ping>| {
                let seen = seen.clone();
                async move { seen.push(ping.seq) }
            }
        })])
        .await;
    let client = async_nats::connect(server()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let subject = format!("{}.events.0.test.ping", backend.namespace);
    js.publish(subject, "{not json".into())
        .await
        .unwrap()
        .await
        .unwrap();
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;

    assert_eq!(seen.items(), vec![1]);
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].subscriber.as_str(), dead[0].attempts),
        ("stock", 1)
    );
    assert!(
        dead[0]
            .error
            .starts_with("cannot decode `test.ping` payload as JSON"),
        "{}",
        dead[0].error
    );
    assert_eq!(dead[0].envelope.data, b"{not json");
    bus.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_urls_and_an_unreachable_server_say_what_to_do() {
    for (url, expected) in [
        ("nats://", "name the server"),
        (
            "nats://127.0.0.1:4222?colour=red",
            "unknown option `colour`",
        ),
        (
            "nats://127.0.0.1:4222?namespace=a.b",
            "`namespace=a.b`: a namespace is made of letters, digits",
        ),
        ("nats://127.0.0.1:4222?max_age=soon", "`max_age=soon`"),
        (
            "nats://127.0.0.1:4222?window=0",
            "`window=0`: expected a count above 0",
        ),
    ] {
        let error = Bus::builder().url(url).build().await.unwrap_err();
        assert!(error.to_string().contains(expected), "{url}: {error}");
    }
    // Nothing listens on port 1.
    let error = Bus::builder()
        .url("nats://127.0.0.1:1")
        .build()
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("the broker at `nats://127.0.0.1:1` failed to connect"),
        "{message}"
    );
}

processes_suite!(NatsBackend::new());

/// An operator deletes a group's consumer on the server while the group runs: the watchdog
/// notices and recreates it after the last acknowledged event, so the events published while
/// it was gone are handled, each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_consumer_is_recreated_without_losing_events() {
    let backend = NatsBackend::new();
    let (handled, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let bus = (&backend as &dyn Backend)
        .bus_with([Subscriber::new("stock", move |ping: Arc<Ping>| {
            let handled = handled.clone();
            async move {
                let _ = handled.send(ping.seq);
            }
        })])
        .await;
    for seq in 0..10 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    bus.wait_idle().await;
    let client = async_nats::connect(server()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let stream = js
        .get_stream(format!("{}-events", backend.namespace))
        .await
        .unwrap();
    let consumers: Vec<String> = futures_util::TryStreamExt::try_collect(stream.consumer_names())
        .await
        .unwrap();
    assert_eq!(consumers.len(), 1, "{consumers:?}");
    stream.delete_consumer(&consumers[0]).await.unwrap();
    for seq in 10..20 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }

    let mut seen = Vec::new();
    while seen.len() < 20 {
        let seq = tokio::time::timeout(std::time::Duration::from_secs(30), heard.recv())
            .await
            .expect("the watchdog recreates the consumer within seconds")
            .unwrap();
        seen.push(seq);
    }
    bus.wait_idle().await;
    assert!(heard.try_recv().is_err(), "nothing handled twice");
    seen.sort_unstable();
    assert_eq!(seen, (0..20).collect::<Vec<_>>());
    bus.shutdown().await.unwrap();
}

/// A process of `tests/bin/nats_ordered_member.rs` and the lines it prints.
struct OrderedMember {
    child: tokio::process::Child,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl OrderedMember {
    async fn start(url: &str, stuck: &str, mode: &str) -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_nats_ordered_member"))
            .args([url, stuck, mode])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start nats_ordered_member");
        let stdout = child.stdout.take().expect("stdout");
        let mut member = OrderedMember {
            child,
            lines: tokio::io::BufReader::new(stdout).lines(),
        };
        assert_eq!(member.next().await.as_deref(), Some("ready"));
        member
    }

    /// Its next line; `None` once its output ended.
    async fn next(&mut self) -> Option<String> {
        tokio::time::timeout(std::time::Duration::from_secs(60), self.lines.next_line())
            .await
            .expect("the member said nothing for a minute")
            .expect("read the member's output")
    }
}

/// `(word, key, seq, attempt)` of a member's `handled`/`failed` line.
fn heard(line: &str) -> (String, String, u32, u32) {
    let words: Vec<&str> = line.split(' ').collect();
    match words.as_slice() {
        [word @ ("handled" | "failed"), key, seq, attempt] => (
            (*word).to_owned(),
            (*key).to_owned(),
            seq.parse().unwrap(),
            attempt.parse().unwrap(),
        ),
        _ => panic!("a member said `{line}`"),
    }
}

/// Parked events are held by the broker, not by the process that parked them: process A runs
/// an ordered subscriber whose handler fails the first event of key `stuck` once, so its retry
/// and the key's later events are parked, while two other keys of the same partition are
/// handled. A is killed with SIGKILL once the parked stream holds the key's events. Process B,
/// same namespace, then gets the retry when due, as attempt 2 with A's first failure time (read
/// from the parked copy's headers), and every later event of the key after it, in order, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parked_events_survive_a_killed_process() {
    use std::time::{Duration, Instant, SystemTime};
    use tidings::transport::partition::partition_of;

    const STUCK: &str = "stuck";
    const LATER: u32 = 10;
    let backend = NatsBackend::new();
    let url = backend.url();
    let partition = partition_of(Key::Str(STUCK));
    let others: Vec<String> = (0..)
        .map(|n| format!("running-{n}"))
        .filter(|key| partition_of(Key::Str(key)) == partition)
        .take(2)
        .collect();
    let test_started = SystemTime::now();
    let mut a = OrderedMember::start(&url, STUCK, "retry").await;
    let publisher = Bus::builder()
        .url(url.as_str())
        .manual()
        .build()
        .await
        .unwrap();
    for seq in 0..=LATER {
        publisher.publish(Ping::new(STUCK, seq)).await.unwrap();
        for key in &others {
            publisher.publish(Ping::new(key, seq)).await.unwrap();
        }
    }

    // A handles the other keys, fails the stuck one once, and parks it with its later events.
    let js = async_nats::jetstream::new(async_nats::connect(server()).await.unwrap());
    let mut parked_stream = js
        .get_stream(format!("{}-parked", backend.namespace))
        .await
        .unwrap();
    let mut by_a = Vec::new();
    let mut failed_at = None;
    let others_count = others.len() * (LATER as usize + 1);
    while failed_at.is_none() || by_a.len() < others_count + 1 {
        let line = a.next().await.expect("A is running");
        let line = heard(&line);
        if line.0 == "failed" {
            failed_at = Some(Instant::now());
        }
        by_a.push(line);
    }
    loop {
        let held = parked_stream.info().await.unwrap().state.messages;
        if held == u64::from(LATER) + 1 {
            break;
        }
        assert!(held <= u64::from(LATER) + 1, "{held} parked");
        // The stream's count is the signal: polled, not slept on.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let failed_at = failed_at.unwrap();
    assert!(
        failed_at.elapsed() < Duration::from_secs(4),
        "A must be killed before the retry (5 s after the failure) falls due"
    );
    a.child.start_kill().expect("SIGKILL A");
    while let Some(line) = a.next().await {
        by_a.push(heard(&line));
    }
    assert!(!a.child.wait().await.unwrap().success());
    let killed_at = SystemTime::now();
    assert_eq!(
        by_a.iter()
            .filter(|(_, key, ..)| key == STUCK)
            .cloned()
            .collect::<Vec<_>>(),
        vec![("failed".to_owned(), STUCK.to_owned(), 0, 1)],
        "A tried the stuck key's first event once and nothing after it"
    );
    for key in &others {
        let of_key: Vec<(String, u32, u32)> = by_a
            .iter()
            .filter(|(_, k, ..)| k == key)
            .map(|(word, _, seq, attempt)| (word.clone(), *seq, *attempt))
            .collect();
        let expected: Vec<_> = (0..=LATER)
            .map(|seq| ("handled".to_owned(), seq, 1))
            .collect();
        assert_eq!(
            of_key, expected,
            "A handled `{key}` in order while `{STUCK}` was parked"
        );
    }

    // B makes the retry fail for good: dead-lettered, then the key's later events run.
    let mut b = OrderedMember::start(&url, STUCK, "poison").await;
    let mut by_b = Vec::new();
    while by_b.len() < LATER as usize + 1 {
        by_b.push(heard(&b.next().await.expect("B is running")));
    }
    drop(b.child.stdin.take());
    assert!(
        b.child.wait().await.unwrap().success(),
        "B shut down cleanly"
    );
    while let Some(line) = b.next().await {
        by_b.push(heard(&line));
    }
    let mut expected = vec![("failed".to_owned(), STUCK.to_owned(), 0, 2)];
    expected.extend((1..=LATER).map(|seq| ("handled".to_owned(), STUCK.to_owned(), seq, 1)));
    assert_eq!(
        by_b, expected,
        "B: the parked retry as attempt 2, then the key's later events in order, once each"
    );
    let dead = publisher.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(
        (dead[0].subscriber.as_str(), dead[0].attempts),
        ("ordered", 2)
    );
    assert!(
        test_started <= dead[0].first_failed_at && dead[0].first_failed_at < killed_at,
        "the first failure is A's, read from the parked copy: {:?}",
        dead[0].first_failed_at
    );
    let held = parked_stream.info().await.unwrap().state.messages;
    assert_eq!(held, 0, "nothing stays parked");
    publisher.shutdown().await.unwrap();
}
