//! The NATS JetStream transport against the real server on this machine (127.0.0.1:4222, or
//! `TIDINGS_NATS_URL`): the conformance suite, the interop cases with a Python client
//! (`tests/interop/nats_client.py`), then what only a broker meets: raw messages from producers
//! that are not tidings.
//!
//! Run with `cargo test -p tidings-tests --features nats --test nats`. A server that cannot be
//! reached fails every test, saying how to start one.

#[macro_use]
mod conformance;
#[macro_use]
mod interop;
#[macro_use]
mod processes;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};

use conformance::Backend;
use interop::{Client, Foreign};
use serde_json::{Value, json};
use tidings::{Bus, BusBuilder, EventId, Key, Subscriber};
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

conformance_suite!(NatsBackend::new(), #[tokio::test(flavor = "multi_thread", worker_threads = 2)]);

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
            "unknown option `colour=red`",
        ),
        (
            "nats://127.0.0.1:4222?namespace=a.b",
            "unknown option `namespace=a.b`",
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
