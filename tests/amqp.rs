//! The RabbitMQ transport (`amqp://`) against the broker on this machine: the conformance suite
//! on a real clock, each case in a namespace of its own, the interop cases with a Python client
//! (`tests/interop/amqp_client.py`), then what only a broker shows: raw messages from other
//! producers, dead letters seen from another connection, clear errors.
//!
//! Needs RabbitMQ on 127.0.0.1:5672 (or `TIDINGS_AMQP_URL`); run with
//! `cargo test -p tidings-tests --features amqp --test amqp`. Without a broker the tests fail,
//! saying how to start one: they never skip.

#[macro_use]
mod interop;
#[macro_use]
mod processes;
#[path = "amqp/poison.rs"]
mod poison;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use interop::{Client, Foreign};
use lapin::options::BasicPublishOptions;
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use serde_json::{Value, json};
use tidings::{Bus, BusBuilder, Context, Error, EventId, HandlerError, Key, Subscriber};
use tidings_conformance::Backend;
use tidings_tests::{Log, Ping};

fn broker_url() -> String {
    std::env::var("TIDINGS_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// Fails the test at once, saying what to do, when no broker listens.
fn require_broker() {
    let url = broker_url();
    let address = url
        .split_once('@')
        .map_or(url.as_str(), |(_, rest)| rest)
        .split(['/', '?'])
        .next()
        .unwrap_or_default()
        .to_owned();
    let reachable = std::net::ToSocketAddrs::to_socket_addrs(&address)
        .ok()
        .and_then(|mut addresses| addresses.next())
        .is_some_and(|socket| {
            std::net::TcpStream::connect_timeout(&socket, Duration::from_secs(2)).is_ok()
        });
    assert!(
        reachable,
        "no RabbitMQ answers at {address}: start it with `rabbitmq-server -detached` (or point \
         TIDINGS_AMQP_URL at one) and run the tests again"
    );
}

/// A namespace of its own per test, so parallel cases never meet; what the buses declared in
/// it is deleted when the backend is dropped.
struct AmqpBackend {
    namespace: String,
}

impl AmqpBackend {
    fn new() -> Self {
        require_broker();
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        AmqpBackend {
            namespace: format!(
                "tidings-test-{}-{}-{:x}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed),
                fastrand::u32(..)
            ),
        }
    }

    fn url(&self) -> String {
        let base = broker_url();
        let separator = if base.contains('?') { '&' } else { '?' };
        format!("{base}{separator}namespace={}", self.namespace)
    }

    /// The same namespace through a connection of its own, as another process would have.
    fn other_process_url(&self) -> String {
        format!("{}&heartbeat=30", self.url())
    }
}

impl Backend for AmqpBackend {
    fn builder(&self) -> BusBuilder {
        Bus::builder().url(self.url()).manual()
    }
}

impl Drop for AmqpBackend {
    fn drop(&mut self) {
        let prefixes = [
            format!("{}.", self.namespace),
            format!("{}/", self.namespace),
        ];
        let names = |what: &str| -> Vec<String> {
            let listed = std::process::Command::new("rabbitmqctl")
                .args([what, "-q", "--no-table-headers", "name"])
                .output();
            match listed {
                Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .map(str::trim)
                    .filter(|name| prefixes.iter().any(|prefix| name.starts_with(prefix)))
                    .map(str::to_owned)
                    .collect(),
                _ => {
                    eprintln!(
                        "warning: `rabbitmqctl {what}` failed; namespace {} stays on the broker",
                        self.namespace
                    );
                    Vec::new()
                }
            }
        };
        let (queues, exchanges) = (names("list_queues"), names("list_exchanges"));
        if queues.is_empty() && exchanges.is_empty() {
            return;
        }
        // Drop cannot await: delete on a runtime of its own.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let Ok(connection) =
                    Connection::connect(&broker_url(), ConnectionProperties::default()).await
                else {
                    return;
                };
                let channel = connection.create_channel().await.unwrap();
                for queue in queues {
                    let _ = channel
                        .queue_delete(queue.as_str().into(), Default::default())
                        .await;
                }
                for exchange in exchanges {
                    let _ = channel
                        .exchange_delete(exchange.as_str().into(), Default::default())
                        .await;
                }
                let _ = connection.close(200, "cleaned up".into()).await;
            });
        })
        .join()
        .unwrap();
    }
}

tidings_conformance::suite!(AmqpBackend::new(), #[tokio::test(flavor = "multi_thread", worker_threads = 2)]);

impl Foreign for AmqpBackend {
    fn client(&self) -> Client {
        let (url, namespace) = (broker_url(), self.namespace.clone());
        Client::new(
            "amqp_client.py",
            vec!["--url".to_owned(), url, "--namespace".to_owned(), namespace],
        )
    }

    fn prefix(&self) -> &'static str {
        "cloudEvents:"
    }

    fn route(&self, event: &str, _: Key<'_>) -> Value {
        // An exchange per event; the clients take the routing key from tidings_names.py.
        json!({"exchange": format!("{}/event/{event}", self.namespace)})
    }

    fn transport_headers(&self, _: EventId) -> Vec<(String, String)> {
        Vec::new()
    }

    fn properties(&self, id: EventId) -> Value {
        json!({"message_id": id.to_string(), "delivery_mode": 2})
    }
}

interop_suite!(AmqpBackend::new(), #[tokio::test(flavor = "multi_thread", worker_threads = 2)]);

/// Publishes `body` with `headers` straight into `queue`, as a producer that knows nothing of
/// tidings would.
async fn publish_raw(queue: &str, headers: &[(&str, &str)], body: &[u8]) {
    let table = headers
        .iter()
        .map(|(name, value)| (*name, AMQPValue::LongString((*value).into())))
        .collect();
    publish_table(queue, table, body).await;
}

/// A bus whose one subscriber, `reader`, logs each ping's `seq`; and the queue it reads.
pub(crate) async fn reading(backend: &AmqpBackend, handled: &Log<u32>) -> (tidings::Bus, String) {
    let bus = (backend as &dyn Backend)
        .bus_with([Subscriber::new("reader", {
            let handled = handled.clone();
            move |ping: Ping| {
                handled.push(ping.seq);
                std::future::ready(())
            }
        })
        .concurrency(1)])
        .await;
    (bus, format!("{}.reader.reader", backend.namespace))
}

/// Publishes `body` with the field table `headers` straight into `queue`.
pub(crate) async fn publish_table(queue: &str, headers: Vec<(&str, AMQPValue)>, body: &[u8]) {
    let connection = Connection::connect(&broker_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let mut table = FieldTable::default();
    for (name, value) in headers {
        table.insert(name.into(), value);
    }
    channel.confirm_select(Default::default()).await.unwrap();
    let options = BasicPublishOptions {
        mandatory: true,
        ..Default::default()
    };
    let properties = BasicProperties::default().with_headers(table);
    let confirm = channel
        .basic_publish("".into(), queue.into(), options, body, properties)
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(
        confirm.is_ack() && confirm.take_message().is_none(),
        "stored in {queue}"
    );
    connection.close(200, "done".into()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_raw_messages_are_dead_lettered_with_their_decode_error() {
    let backend = AmqpBackend::new();
    let handled = Log::default();
    let (bus, queue) = reading(&backend, &handled).await;

    publish_raw(&queue, &[], b"{not json").await;
    publish_raw(&queue, &[("cloudEvents:id", "not-an-id")], b"{}").await;
    publish_raw(&queue, &[], br#"{"key":"k","seq":3}"#).await;
    bus.wait_idle().await;

    assert_eq!(
        handled.items(),
        vec![3],
        "the bad ones do not block the queue"
    );
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 2, "{dead:#?}");
    let errors: Vec<&str> = dead.iter().map(|letter| letter.error.as_str()).collect();
    assert!(
        errors.iter().any(|error| error
            .starts_with("cannot decode `test.ping` payload as JSON: key must be a string")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|error| error.contains("header `cloudEvents:id`")),
        "{errors:?}"
    );
    assert!(dead.iter().all(|letter| letter.subscriber == "reader"));
    assert!(
        dead.iter()
            .any(|letter| letter.envelope.data == b"{not json")
    );
    bus.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_shared_by_every_process_of_the_namespace() {
    let backend = AmqpBackend::new();
    let healthy = Arc::new(AtomicBool::new(false));
    let attempts = Log::default();
    let worker = backend
        .builder()
        .subscribe(Subscriber::new("billing", {
            let (healthy, attempts) = (healthy.clone(), attempts.clone());
            move |ping: Arc<Ping>, ctx: Context| {
                attempts.push((ping.seq, ctx.attempt()));
                std::future::ready(match healthy.load(Ordering::SeqCst) {
                    true => Ok(()),
                    false => Err(HandlerError::permanent_msg("ledger is closed")),
                })
            }
        }))
        .build()
        .await
        .unwrap();
    for seq in 0..3 {
        worker.publish(Ping::new("k", seq)).await.unwrap();
    }
    worker.wait_idle().await;

    // An operator's process: its own connection, no subscribers.
    let operator = Bus::builder()
        .url(backend.other_process_url())
        .manual()
        .build()
        .await
        .unwrap();
    let dead = operator.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 3);
    assert_eq!(
        dead.iter()
            .map(|letter| letter.attempts)
            .collect::<Vec<_>>(),
        vec![1, 1, 1]
    );
    let again = operator.dead_letters().list().await.unwrap();
    assert_eq!(
        again.iter().map(|letter| letter.id).collect::<Vec<_>>(),
        dead.iter().map(|letter| letter.id).collect::<Vec<_>>(),
        "reading loses and reorders nothing"
    );
    let fetched = operator.dead_letters().get(&dead[1].id).await.unwrap();
    assert_eq!(fetched.unwrap().envelope.id, dead[1].envelope.id);

    healthy.store(true, Ordering::SeqCst);
    operator.dead_letters().replay(&dead[0].id).await.unwrap();
    operator.dead_letters().discard(&dead[2].id).await.unwrap();
    worker.wait_idle().await;

    let seq_of_first = dead[0].envelope.json().unwrap()["seq"].as_u64().unwrap() as u32;
    assert!(
        attempts.items().contains(&(seq_of_first, 1)) && attempts.len() == 4,
        "the replay ran once more, from attempt 1: {:?}",
        attempts.items()
    );
    let left = worker.dead_letters().list().await.unwrap();
    assert_eq!(
        left.iter().map(|letter| letter.id).collect::<Vec<_>>(),
        vec![dead[1].id]
    );
    assert!(matches!(
        worker.dead_letters().discard(&dead[2].id).await,
        Err(Error::DeadLetterNotFound(_))
    ));
    operator.shutdown().await.unwrap();
    worker.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_urls_and_unreachable_brokers_say_what_to_do() {
    let error = Bus::builder()
        .url("amqp://guest:guest@127.0.0.1:5672/%2f?prefetch=10")
        .build()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::UnsupportedUrl { .. }), "{error}");
    assert!(
        error.to_string().contains("unknown option `prefetch`"),
        "{error}"
    );

    let error = Bus::builder()
        .url("amqp://guest:secret@127.0.0.1:1/%2f?timeout=3s")
        .build()
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, Error::Broker { .. }), "{text}");
    assert!(
        text.contains("amqp://***@127.0.0.1:1/%2f") && !text.contains("secret"),
        "{text}"
    );
    assert!(text.contains("rabbitmq-server -detached"), "{text}");
}

/// Closes, on the broker's side, every connection of `namespace` (as a broker restart or a
/// network cut would).
fn cut_connections(namespace: &str) -> usize {
    let listed = std::process::Command::new("rabbitmqctl")
        .args([
            "list_connections",
            "-q",
            "--no-table-headers",
            "pid",
            "client_properties",
        ])
        .output()
        .expect("rabbitmqctl runs");
    let pids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|line| line.contains(&format!("tidings {namespace}")))
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect();
    for pid in &pids {
        let closed = std::process::Command::new("rabbitmqctl")
            .args(["close_connection", pid, "test cuts the connection"])
            .status()
            .expect("rabbitmqctl runs");
        assert!(closed.success(), "closing {pid}");
    }
    pids.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_is_recovered_and_accepted_events_still_arrive() {
    let backend = AmqpBackend::new();
    let seen = Log::default();
    let bus = (&backend as &dyn Backend)
        .bus_with([Subscriber::new("sink", {
            let seen = seen.clone();
            move |ping: Arc<Ping>| {
                seen.push(ping.seq);
                std::future::ready(())
            }
        })])
        .await;
    for seq in 0..5 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    bus.wait_idle().await;

    assert_eq!(cut_connections(&backend.namespace), 1);
    for seq in 5..10 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    tokio::time::timeout(Duration::from_secs(30), bus.wait_idle())
        .await
        .expect("the consumer came back");
    let mut seen = seen.items();
    seen.sort_unstable();
    seen.dedup(); // at-least-once: a delivery in flight at the cut may come twice
    assert_eq!(seen, (0..10).collect::<Vec<_>>());
    bus.shutdown().await.unwrap();
}

processes_suite!(AmqpBackend::new());

/// The queue of every consumer on the broker, once per consumer: the waiting ones of a
/// single-active-consumer queue included (a passive declare counts only the active one).
fn consumer_queues() -> Vec<String> {
    let listed = std::process::Command::new("rabbitmqctl")
        .args(["list_consumers", "-q", "--no-table-headers", "queue_name"])
        .output()
        .expect("rabbitmqctl runs");
    String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|line| line.trim().to_owned())
        .collect()
}

/// An ordered subscriber in two processes: each of its 16 partition queues has both as
/// consumers, one active, and when that one stops the other takes over, in order, losing
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordered_instances_in_two_processes_keep_per_key_order_and_take_over() {
    let backend = AmqpBackend::new();
    let log: Log<(usize, String, u32)> = Log::default();
    let instance = |index: usize, url: String| {
        let log = log.clone();
        async move {
            Bus::builder()
                .url(url)
                .manual()
                .subscribe(
                    Subscriber::new("ordered", move |ping: Arc<Ping>| {
                        let log = log.clone();
                        async move {
                            // Uneven handling times would reorder an unordered subscriber.
                            let pause = u64::from(3 * (ping.seq % 3));
                            tokio::time::sleep(Duration::from_millis(pause)).await;
                            log.push((index, ping.key.clone(), ping.seq));
                        }
                    })
                    .ordered()
                    .concurrency(4),
                )
                .build()
                .await
                .unwrap()
        }
    };
    let first = instance(1, backend.url()).await;
    let second = instance(2, backend.other_process_url()).await;
    let consumers = consumer_queues();
    for partition in 0..16 {
        let queue = format!("{}.ordered.ordered/p{partition}", backend.namespace);
        let count = consumers.iter().filter(|name| **name == queue).count();
        assert_eq!(count, 2, "{queue}");
    }
    let keys: Vec<String> = (0..8).map(|key| format!("key-{key}")).collect();
    for seq in 0..20 {
        for key in &keys {
            first.publish(Ping::new(key, seq)).await.unwrap();
        }
    }
    first.wait_idle().await;
    second.wait_idle().await;
    first.shutdown().await.unwrap();
    for seq in 20..30 {
        for key in &keys {
            second.publish(Ping::new(key, seq)).await.unwrap();
        }
    }
    second.wait_idle().await;

    let log = log.items();
    assert_eq!(log.len(), 8 * 30, "each event handled exactly once");
    for key in &keys {
        let seqs: Vec<u32> = log
            .iter()
            .filter(|(_, k, _)| k == key)
            .map(|(_, _, seq)| *seq)
            .collect();
        assert_eq!(seqs, (0..30).collect::<Vec<_>>(), "key {key}");
    }
    assert!(
        log.iter()
            .filter(|(_, _, seq)| *seq >= 20)
            .all(|(index, ..)| *index == 2),
        "the standby took over every partition"
    );
    second.shutdown().await.unwrap();
}

/// The first of `running-0`, `running-1`, … in the same partition as `key`.
fn key_sharing_a_partition_with(key: &str) -> String {
    let partition = tidings::transport::partition::partition_of(Key::Str(key));
    (0..)
        .map(|n| format!("running-{n}"))
        .find(|candidate| {
            tidings::transport::partition::partition_of(Key::Str(candidate)) == partition
        })
        .expect("some key shares the partition")
}

/// Messages ready in `queue`, as the queue itself answers a passive declare (unlike
/// `rabbitmqctl list_queues`, whose figures for a quorum queue lag by seconds).
async fn ready_in(queue: &str) -> u32 {
    let connection = Connection::connect(&broker_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let options = lapin::options::QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    let declared = channel
        .queue_declare(queue.into(), options, FieldTable::default())
        .await
        .unwrap();
    connection.close(200, "counted".into()).await.unwrap();
    declared.message_count()
}

/// An `ordered` subscriber in a process of its own (`tests/bin/amqp_ordered_member.rs`), and the
/// lines it prints: `(what, key, seq, attempt)`.
struct OrderedMember {
    child: tokio::process::Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<(String, String, u32, u32)>,
}

impl OrderedMember {
    async fn start(url: &str, mode: &str) -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_amqp_ordered_member"))
            .args([url, mode])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start amqp_ordered_member");
        let mut stdout = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), stdout.next_line())
            .await
            .expect("the member starts within 30s")
            .expect("its stdout");
        assert_eq!(ready.as_deref(), Some("ready"));
        let (tell, lines) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                let words: Vec<&str> = line.split(' ').collect();
                let [what, key, seq, attempt] = words.as_slice() else {
                    panic!("the member said `{line}`");
                };
                let parsed = (
                    (*what).to_owned(),
                    (*key).to_owned(),
                    seq.parse().unwrap(),
                    attempt.parse().unwrap(),
                );
                if tell.send(parsed).is_err() {
                    return;
                }
            }
        });
        OrderedMember { child, lines }
    }

    /// The member's lines until `until` says enough (that line included).
    async fn read_until(
        &mut self,
        mut until: impl FnMut(&[(String, String, u32, u32)]) -> bool,
    ) -> Vec<(String, String, u32, u32)> {
        let mut heard = Vec::new();
        while !until(&heard) {
            let line = tokio::time::timeout(Duration::from_secs(60), self.lines.recv())
                .await
                .unwrap_or_else(|_| panic!("the member said nothing for 60s after {heard:?}"))
                .unwrap_or_else(|| panic!("the member's output ended after {heard:?}"));
            heard.push(line);
        }
        heard
    }
}

/// `(seq, attempt)` of what `heard` says was handled of `key`, in order.
fn handled_of(heard: &[(String, String, u32, u32)], key: &str) -> Vec<(u32, u32)> {
    heard
        .iter()
        .filter(|(what, k, ..)| what == "handled" && k == key)
        .map(|(_, _, seq, attempt)| (*seq, *attempt))
        .collect()
}

/// Events parked behind a failing key are held on the broker, unacknowledged, by the process
/// that parks them: killed with SIGKILL, it loses none of them, and the next instance (a
/// standby of every partition) gets them back in their order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_parked_behind_a_failing_key_survive_a_crash_in_order() {
    let backend = AmqpBackend::new();
    let running = key_sharing_a_partition_with("stuck");
    let partition = tidings::transport::partition::partition_of(Key::Str("stuck"));
    let queue = format!("{}.ordered.ordered/p{partition}", backend.namespace);
    let mut failing = OrderedMember::start(&backend.url(), "failing").await;
    let publisher = Bus::builder()
        .url(backend.other_process_url())
        .manual()
        .build()
        .await
        .unwrap();
    for seq in 0..5 {
        publisher.publish(Ping::new("stuck", seq)).await.unwrap();
    }
    for seq in 0..10 {
        publisher.publish(Ping::new(&running, seq)).await.unwrap();
    }
    // `running`'s events come after `stuck`'s in their partition's queue: once all of them
    // were handled, the broker had handed `stuck`'s to the failing member, which parks them.
    let heard = failing
        .read_until(|heard| {
            handled_of(heard, &running).len() == 10
                && heard.iter().any(|(what, ..)| what == "failed")
        })
        .await;
    assert_eq!(
        handled_of(&heard, &running),
        (0..10).map(|seq| (seq, 1)).collect::<Vec<_>>(),
        "the other key of the partition ran while `stuck` waited: {heard:?}"
    );
    assert_eq!(
        heard
            .iter()
            .filter(|(_, key, ..)| key == "stuck")
            .collect::<Vec<_>>(),
        vec![&("failed".to_owned(), "stuck".to_owned(), 0, 1)],
        "`stuck` #1.. wait behind #0"
    );
    assert_eq!(
        ready_in(&queue).await,
        0,
        "the failing member holds all of `stuck`'s events"
    );

    // A standby joins, then the member holding the parked events dies.
    let mut healthy = OrderedMember::start(&backend.other_process_url(), "healthy").await;
    failing.child.start_kill().unwrap();
    let status = failing.child.wait().await.unwrap();
    assert!(!status.success(), "killed: {status}");
    // Published after the crash, so behind everything the broker takes back.
    publisher.publish(Ping::new(&running, 10)).await.unwrap();
    let heard = healthy
        .read_until(|heard| {
            handled_of(heard, "stuck").len() == 5
                && handled_of(heard, &running).last().map(|(seq, _)| *seq) == Some(10)
        })
        .await;
    assert_eq!(
        handled_of(&heard, "stuck"),
        (0..5).map(|seq| (seq, 2)).collect::<Vec<_>>(),
        "every parked event, in order, its return counted as an attempt: {heard:?}"
    );
    // What the killed member handled but had not acknowledged yet comes again (at least
    // once), in order, before what was published later.
    let again: Vec<u32> = handled_of(&heard, &running)
        .iter()
        .map(|(seq, _)| *seq)
        .collect();
    assert!(
        again.windows(2).all(|pair| pair[0] < pair[1]) && again.last() == Some(&10),
        "`{running}` in order: {again:?}"
    );
    assert!(heard.iter().all(|(what, ..)| what == "handled"));

    drop(healthy.child.stdin.take());
    let status = healthy.child.wait().await.unwrap();
    assert!(status.success(), "the healthy member exited with {status}");
    assert_eq!(ready_in(&queue).await, 0, "nothing left behind");
    publisher.shutdown().await.unwrap();
}

/// What the crash case and the gate rely on, checked on the broker itself: a quorum queue
/// gives the messages a consumer held back in their original order, ahead of the rest, when
/// the consumer's channel goes down (RabbitMQ 3.10's `rabbit_fifo:return_all/5` sorts them by
/// delivery id into the queue's `returns`, served first), and counts the return in
/// `x-delivery-count`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quorum_queue_returns_held_messages_in_order_when_their_channel_closes() {
    use futures_util::StreamExt;
    use lapin::options::{
        BasicAckOptions, BasicConsumeOptions, BasicQosOptions, QueueDeclareOptions,
        QueueDeleteOptions,
    };
    let backend = AmqpBackend::new();
    let queue = format!("{}.returns", backend.namespace);
    let connection = Connection::connect(&broker_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    arguments.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
    channel
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions::durable(),
            arguments,
        )
        .await
        .unwrap();
    channel.confirm_select(Default::default()).await.unwrap();
    for n in 0..20_u32 {
        channel
            .basic_publish(
                "".into(),
                queue.as_str().into(),
                BasicPublishOptions::default(),
                n.to_string().as_bytes(),
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let consume = async |channel: &lapin::Channel, prefetch: u16| {
        channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await
            .unwrap();
        channel
            .basic_consume(
                queue.as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap()
    };
    let number = |delivery: &lapin::message::Delivery| -> u32 {
        std::str::from_utf8(&delivery.data)
            .unwrap()
            .parse()
            .unwrap()
    };
    // The first consumer has a window of ten: it acknowledges the even ones of the first ten
    // (as other keys would be), holds the odd ones, and the five that the acknowledgements
    // made room for; a standby waits on a channel of its own.
    let first = connection.create_channel().await.unwrap();
    let mut deliveries = consume(&first, 10).await;
    let standby = connection.create_channel().await.unwrap();
    let mut taken_over = consume(&standby, 20).await;
    for expected in 0..15 {
        let delivery = deliveries.next().await.unwrap().unwrap();
        assert_eq!(number(&delivery), expected);
        if expected < 10 && expected % 2 == 0 {
            delivery.ack(BasicAckOptions::default()).await.unwrap();
        }
    }
    first.close(200, "gone".into()).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..15 {
        let delivery = tokio::time::timeout(Duration::from_secs(10), taken_over.next())
            .await
            .expect("the standby takes over")
            .unwrap()
            .unwrap();
        let count = delivery
            .properties
            .headers()
            .as_ref()
            .and_then(|headers| headers.inner().get("x-delivery-count").cloned());
        seen.push((number(&delivery), count.is_some()));
        delivery.ack(BasicAckOptions::default()).await.unwrap();
    }
    let expected: Vec<(u32, bool)> = [1, 3, 5, 7, 9, 10, 11, 12, 13, 14]
        .into_iter()
        .map(|n| (n, true))
        .chain((15..20).map(|n| (n, false)))
        .collect();
    assert_eq!(seen, expected);
    channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    connection.close(200, "done".into()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_of_an_ordered_subscriber_is_replayed_into_its_partition() {
    let backend = AmqpBackend::new();
    let healthy = Arc::new(AtomicBool::new(false));
    let handled: Log<(String, u32, u32)> = Log::default();
    let bus = (&backend as &dyn Backend)
        .bus_with([Subscriber::new("ordered", {
            let (healthy, handled) = (healthy.clone(), handled.clone());
            move |ping: Arc<Ping>, ctx: Context| {
                let ok = healthy.load(Ordering::SeqCst) || ping.seq > 0;
                if ok {
                    handled.push((ping.key.clone(), ping.seq, ctx.attempt()));
                }
                std::future::ready(match ok {
                    true => Ok(()),
                    false => Err(HandlerError::permanent_msg("not yet")),
                })
            }
        })
        .ordered()])
        .await;
    bus.publish(Ping::new("running", 0)).await.unwrap();
    bus.publish(Ping::new("running", 1)).await.unwrap();
    bus.wait_idle().await;
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 1);

    healthy.store(true, Ordering::SeqCst);
    bus.dead_letters().replay(&dead[0].id).await.unwrap();
    bus.wait_idle().await;
    assert_eq!(
        handled.items(),
        vec![("running".to_owned(), 1, 1), ("running".to_owned(), 0, 1)]
    );
    assert!(bus.dead_letters().list().await.unwrap().is_empty());
    bus.shutdown().await.unwrap();
}

/// What a subscriber declared stays on the broker; starting it with options that need other
/// queues is refused, saying which and what to do, rather than leaving old queues bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_queue_options_are_refused_with_what_to_do() {
    let backend = AmqpBackend::new();
    let build_named = |name: &'static str, ordered: bool, capacity: usize| {
        let subscriber = Subscriber::new(name, |_: Arc<Ping>| std::future::ready(()));
        let subscriber = if ordered {
            subscriber.ordered()
        } else {
            subscriber
        };
        backend
            .builder()
            .queue_capacity(capacity)
            .subscribe(subscriber)
            .build()
    };
    let build = |ordered: bool, capacity: usize| build_named("stock", ordered, capacity);
    build(false, 100).await.unwrap().shutdown().await.unwrap();

    let error = build(true, 100).await.unwrap_err().to_string();
    assert!(
        error.contains(&format!("queue `{}.stock.stock`", backend.namespace))
            && error.contains("is `ordered` now but was declared without it"),
        "{error}"
    );
    let error = build(false, 200).await.unwrap_err().to_string();
    assert!(
        error.contains("PRECONDITION_FAILED")
            && error.contains("the queue exists with other arguments")
            && error.contains("`queue_capacity`"),
        "{error}"
    );
    // Unchanged options join the queue as before.
    build(false, 100).await.unwrap().shutdown().await.unwrap();

    // And the other way round: declared `ordered`, started without it.
    let ordered = |ordered| build_named("ship", ordered, 100);
    ordered(true).await.unwrap().shutdown().await.unwrap();
    let error = ordered(false).await.unwrap_err().to_string();
    assert!(
        error.contains(&format!("queue `{}.ship.ship`", backend.namespace))
            && error.contains("the queue exists with other arguments")
            && error.contains("`ordered`"),
        "{error}"
    );
    ordered(true).await.unwrap().shutdown().await.unwrap();
}
