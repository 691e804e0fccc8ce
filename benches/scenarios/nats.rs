//! NATS JetStream: tidings' publish and consume against raw async-nats doing the same work on
//! the same server, stream and payload, with the same window and batch sizes.
//!
//! - publish: `WINDOW` publishes awaiting their acknowledgement at once; raw keeps a queue of
//!   `PublishAckFuture`s, tidings runs `bus.publish` futures `buffer_unordered(WINDOW)`.
//! - consume a backlog: raw pulls batches of `BATCH`, decodes each message and acknowledges it
//!   with the confirmed form (`double_ack`, as tidings does) concurrently; tidings runs a
//!   subscriber with `concurrency = BATCH` (`super::broker::drain`), its bus built inside the
//!   timed region.
//!
//! Needs a server at `TIDINGS_NATS_URL` (default 127.0.0.1:4222): `--features nats`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull};
use futures_util::{StreamExt, TryStreamExt};
use tidings::Bus;

use super::broker::{declare_sink, drain};
use super::{Size, Tick};
use crate::harness::{Goal, Row, compare, throughput_row};

const WINDOW: usize = 256;
const BATCH: usize = 64;
/// The goal: at least 90% of raw throughput, i.e. at most 1/0.9 of its time.
const GOAL: Goal = Goal::RatioAtMost(1.0 / 0.9);

fn server() -> String {
    std::env::var("TIDINGS_NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned())
}

/// The raw client, on the namespace's events stream as tidings declares it. Its own events
/// are `bench.raw`, so that tidings' group (on `bench.tick`) never sees them, nor raw's
/// consumers tidings' events.
struct Raw {
    js: jetstream::Context,
    stream: jetstream::stream::Stream,
    namespace: String,
}

impl Raw {
    async fn connect(namespace: &str, publisher: &Bus) -> Raw {
        // The publishing bus has declared the stream already.
        let _ = publisher;
        let client = async_nats::connect(server()).await.unwrap_or_else(|e| {
            panic!(
                "no NATS server at {}: {e}; start `nats-server -js` or set TIDINGS_NATS_URL",
                server()
            )
        });
        let js = jetstream::new(client);
        let stream = js.get_stream(format!("{namespace}-events")).await.unwrap();
        Raw {
            js,
            stream,
            namespace: namespace.to_owned(),
        }
    }

    /// Publishes `events` ticks as the event `name`, a window at a time.
    async fn publish(&self, name: &str, events: u64, headers: Headers) -> Duration {
        let subject = format!("{}.events.0.{name}", self.namespace);
        let start = Instant::now();
        let mut in_flight = VecDeque::with_capacity(WINDOW);
        for seq in 0..events {
            if in_flight.len() == WINDOW {
                let ack: jetstream::context::PublishAckFuture =
                    in_flight.pop_front().expect("a full window");
                ack.await.expect("stored");
            }
            let payload = serde_json::to_vec(&Tick { seq }).unwrap();
            let ack = match headers {
                Headers::None => self.js.publish(subject.clone(), payload.into()).await,
                Headers::AsTidings => {
                    let headers = as_tidings(name);
                    (self.js)
                        .publish_with_headers(subject.clone(), headers, payload.into())
                        .await
                }
            }
            .expect("sent");
            in_flight.push_back(ack);
        }
        for ack in in_flight {
            ack.await.expect("stored");
        }
        start.elapsed()
    }

    /// Drains `events` from a consumer created before they were published.
    async fn consume(&self, consumer: &jetstream::consumer::PullConsumer, events: u64) -> Duration {
        let start = Instant::now();
        let mut acked = 0;
        while acked < events {
            let batch: Vec<_> = consumer
                .fetch()
                .max_messages(BATCH)
                .messages()
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            let acks = batch.into_iter().map(|message| async move {
                let tick: Tick = serde_json::from_slice(&message.payload).expect("a tick");
                std::hint::black_box(tick.seq);
                message.double_ack().await.expect("acknowledged");
            });
            acked += futures_util::future::join_all(acks).await.len() as u64;
        }
        start.elapsed()
    }

    async fn new_consumer(&self, name: &str) -> jetstream::consumer::PullConsumer {
        let config = pull::Config {
            durable_name: Some(name.to_owned()),
            filter_subject: format!("{}.events.*.bench.raw", self.namespace),
            deliver_policy: jetstream::consumer::DeliverPolicy::New,
            ..Default::default()
        };
        self.stream.create_consumer(config).await.unwrap()
    }
}

/// What a raw publish carries besides the payload.
#[derive(Debug, Clone, Copy)]
enum Headers {
    /// Nothing: the fastest a client can publish.
    None,
    /// The CloudEvents headers and `Nats-Msg-Id` tidings sends, built the plain way: what the
    /// wire format costs the client and the server, apart from tidings' own work.
    AsTidings,
}

fn as_tidings(name: &str) -> async_nats::HeaderMap {
    let id = uuid::Uuid::now_v7().to_string();
    let mut headers = async_nats::HeaderMap::new();
    for (header, value) in [
        ("ce-specversion", "1.0"),
        ("ce-id", &id),
        ("ce-type", name),
        ("ce-source", "tidings"),
        ("ce-time", "2026-11-21T10:00:00.000Z"),
        ("ce-version", "1"),
        ("content-type", "application/json"),
        ("Nats-Msg-Id", &id),
    ] {
        headers.insert(header, value);
    }
    headers
}

async fn tidings_publish(bus: &Bus, events: u64) -> Duration {
    let start = Instant::now();
    futures_util::stream::iter(0..events)
        .map(|seq| bus.publish(Tick { seq }))
        .buffer_unordered(WINDOW)
        .try_for_each(|_| async { Ok(()) })
        .await
        .expect("published");
    start.elapsed()
}

pub(crate) async fn scenarios(size: Size) -> Vec<Row> {
    let namespace = format!("bench-{}", std::process::id());
    let url = format!("nats://{}?namespace={namespace}", server());
    let events = size.broker_events;
    let publisher = Bus::builder()
        .url(&url)
        .manual()
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let raw = Raw::connect(&namespace, &publisher).await;

    let publish = compare(
        size.rounds,
        || raw.publish("bench.raw", events, Headers::None),
        || tidings_publish(&publisher, events),
    )
    .await;
    let publish_as_tidings = compare(
        size.rounds,
        || raw.publish("bench.raw", events, Headers::AsTidings),
        || tidings_publish(&publisher, events),
    )
    .await;

    // The tidings group's consumer exists from its first build on; each round publishes a
    // backlog while no bus runs it, then times a bus draining it.
    let builder = || Bus::builder().url(&url).manual();
    declare_sink(builder(), BATCH as u32).await;
    let mut round = 0;
    let consume = compare(
        size.rounds,
        || {
            round += 1;
            let consumer_name = format!("raw-{round}");
            let raw = &raw;
            async move {
                let consumer = raw.new_consumer(&consumer_name).await;
                raw.publish("bench.raw", events, Headers::None).await;
                let elapsed = raw.consume(&consumer, events).await;
                raw.stream.delete_consumer(&consumer_name).await.unwrap();
                elapsed
            }
        },
        || {
            let (raw, builder) = (&raw, &builder);
            async move {
                raw.publish("bench.tick", events, Headers::AsTidings).await;
                drain(builder(), BATCH as u32, events).await
            }
        },
    )
    .await;

    publisher.shutdown().await.expect("clean shutdown");
    let _ = raw.js.delete_stream(format!("{namespace}-events")).await;
    let _ = raw.js.delete_stream(format!("{namespace}-dead")).await;
    vec![
        throughput_row(
            &format!("NATS publish, window {WINDOW}"),
            "raw async-nats",
            events,
            publish,
            Some(GOAL),
        ),
        throughput_row(
            &format!("NATS publish, window {WINDOW}"),
            "raw async-nats, tidings' headers",
            events,
            publish_as_tidings,
            Some(GOAL),
        ),
        throughput_row(
            &format!("NATS consume a backlog, batch {BATCH}"),
            "raw async-nats",
            events,
            consume,
            Some(GOAL),
        ),
    ]
}
