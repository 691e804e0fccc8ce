//! RabbitMQ (`amqp://`) against raw lapin on the same broker, in the same run: publish
//! throughput with publisher confirms and `WINDOW` publishes in flight, and the consumption of
//! a backlog with `PREFETCH` deliveries in flight, each acknowledged. Both sides use a durable
//! quorum queue bound to a direct exchange, the same JSON body, the same connection setup.
//!
//! Needs the broker (`TIDINGS_AMQP_URL`, default `amqp://guest:guest@127.0.0.1:5672/%2f`) and
//! the bench's `amqp` feature: `cargo run --release -p tidings-bench --features amqp -- amqp`.
//! It panics, saying so, when the broker cannot be reached.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions, QueuePurgeOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use tidings::{Bus, BusBuilder};

use super::broker::{declare_sink, drain};
use super::{Size, Tick};
use crate::harness::{Goal, Row, compare, throughput_row};

/// Publishes awaiting their confirm at once, on each side.
const WINDOW: u64 = 64;
/// Deliveries unacknowledged at once: raw lapin's prefetch, tidings' `concurrency`.
const PREFETCH: u16 = 64;
/// The goal: at least 90% of raw lapin's throughput, so at most 1/0.9 of its time.
const GOAL: f64 = 1.0 / 0.9;

fn broker_url() -> String {
    std::env::var("TIDINGS_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// Names of this run, so that runs never meet on one broker.
struct Names {
    namespace: String,
}

impl Names {
    fn raw_exchange(&self) -> String {
        format!("{}/raw", self.namespace)
    }
    fn raw_queue(&self) -> String {
        format!("{}.raw", self.namespace)
    }
    /// What tidings names its exchange and the subscriber's queue (`topology.rs`).
    fn tidings_exchange(&self) -> String {
        format!("{}/event/bench.tick", self.namespace)
    }
    fn tidings_queue(&self) -> String {
        format!("{}.sink.sink", self.namespace)
    }
    fn tidings_dead_letters(&self) -> String {
        format!("{}/dead-letters", self.namespace)
    }
}

/// The bus side: its URL, and the queue capacity its buses declare.
struct TidingsSide {
    url: String,
    capacity: usize,
}

impl TidingsSide {
    fn builder(&self) -> BusBuilder {
        Bus::builder()
            .url(self.url.clone())
            .manual()
            .queue_capacity(self.capacity)
    }
}

async fn connect() -> Connection {
    let url = broker_url();
    Connection::connect(&url, ConnectionProperties::default())
        .await
        .unwrap_or_else(|error| {
            panic!(
                "the amqp benchmark needs RabbitMQ at {url} (or TIDINGS_AMQP_URL): {error}; start \
                 it with `rabbitmq-server -detached`"
            )
        })
}

/// The raw side's exchange and queue, declared like tidings declares a subscriber's.
async fn declare_raw(channel: &Channel, names: &Names, capacity: usize) {
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    arguments.insert("x-delivery-limit".into(), AMQPValue::LongInt(20));
    arguments.insert("x-max-length".into(), AMQPValue::LongInt(capacity as i32));
    arguments.insert(
        "x-overflow".into(),
        AMQPValue::LongString("reject-publish".into()),
    );
    channel
        .queue_declare(
            names.raw_queue().as_str().into(),
            QueueDeclareOptions::durable(),
            arguments,
        )
        .await
        .expect("declare the raw queue");
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    channel
        .exchange_declare(
            names.raw_exchange().as_str().into(),
            ExchangeKind::Direct,
            durable,
            FieldTable::default(),
        )
        .await
        .expect("declare the raw exchange");
    channel
        .queue_bind(
            names.raw_queue().as_str().into(),
            names.raw_exchange().as_str().into(),
            "p0".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind the raw queue");
}

/// `events` publishes from `WINDOW` tasks, each waiting for its confirm before the next.
async fn raw_publish(channel: &Channel, exchange: &str, events: u64) -> Duration {
    let start = Instant::now();
    let tasks: Vec<_> = (0..WINDOW)
        .map(|task| {
            let (channel, exchange) = (channel.clone(), exchange.to_owned());
            tokio::spawn(async move {
                for seq in (task..events).step_by(WINDOW as usize) {
                    let body = serde_json::to_vec(&Tick { seq }).expect("JSON");
                    let properties = BasicProperties::default()
                        .with_delivery_mode(2)
                        .with_content_type("application/json".into());
                    let confirm = channel
                        .basic_publish(
                            exchange.as_str().into(),
                            "p0".into(),
                            BasicPublishOptions::default(),
                            &body,
                            properties,
                        )
                        .await
                        .expect("publish")
                        .await
                        .expect("confirm");
                    assert!(confirm.is_ack(), "the broker stored it");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("publisher finished");
    }
    start.elapsed()
}

/// `events` publishes from `WINDOW` tasks, each waiting for `publish` to return.
async fn tidings_publish(bus: &Bus, events: u64) -> Duration {
    let start = Instant::now();
    let tasks: Vec<_> = (0..WINDOW)
        .map(|task| {
            let bus = bus.clone();
            tokio::spawn(async move {
                for seq in (task..events).step_by(WINDOW as usize) {
                    bus.publish(Tick { seq }).await.expect("published");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("publisher finished");
    }
    start.elapsed()
}

/// Consumes `events` from the raw queue with a prefetch of `PREFETCH`, acknowledging each, from
/// opening the channel to the last acknowledgement.
async fn raw_consume(connection: &Connection, queue: &str, events: u64) -> Duration {
    let start = Instant::now();
    let channel = connection.create_channel().await.expect("a channel");
    channel
        .basic_qos(PREFETCH, BasicQosOptions::default())
        .await
        .expect("qos");
    let mut consumer = channel
        .basic_consume(
            queue.into(),
            "raw".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    let mut seen = 0;
    while seen < events {
        let delivery = consumer
            .next()
            .await
            .expect("the stream goes on")
            .expect("a delivery");
        let tick: Tick = serde_json::from_slice(&delivery.data).expect("JSON");
        std::hint::black_box(tick.seq);
        delivery
            .acker
            .ack(BasicAckOptions::default())
            .await
            .expect("ack");
        seen += 1;
    }
    let elapsed = start.elapsed();
    channel
        .basic_cancel("raw".into(), BasicCancelOptions::default())
        .await
        .expect("cancel");
    channel.close(200, "done".into()).await.expect("close");
    elapsed
}

async fn purge(channel: &Channel, queue: &str) {
    channel
        .queue_purge(queue.into(), QueuePurgeOptions::default())
        .await
        .expect("purge");
}

pub(crate) async fn amqp(size: Size) -> Vec<Row> {
    let events = size.broker_events;
    let names = Names {
        namespace: format!("tidings-bench-{}", std::process::id()),
    };
    let connection = connect().await;
    let channel = connection.create_channel().await.expect("a channel");
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirms");
    // Room for a whole round in either queue: the benchmark measures speed, not backpressure.
    let capacity = (events as usize) * 2;
    declare_raw(&channel, &names, capacity).await;
    let side = TidingsSide {
        url: format!("{}?namespace={}", broker_url(), names.namespace),
        capacity,
    };
    // Declares the sink's queue, then leaves it unconsumed, for the publish rounds to fill.
    declare_sink(side.builder(), u32::from(PREFETCH)).await;
    let publisher = side.builder().build().await.expect("the bus builds");
    let (raw_exchange, raw_queue) = (names.raw_exchange(), names.raw_queue());
    let tidings_queue = names.tidings_queue();

    let publishing = compare(
        size.rounds,
        || async {
            purge(&channel, &raw_queue).await;
            raw_publish(&channel, &raw_exchange, events).await
        },
        || async {
            purge(&channel, &tidings_queue).await;
            tidings_publish(&publisher, events).await
        },
    )
    .await;
    let consuming = compare(
        size.rounds,
        || async {
            purge(&channel, &raw_queue).await;
            raw_publish(&channel, &raw_exchange, events).await;
            raw_consume(&connection, &raw_queue, events).await
        },
        || async {
            purge(&channel, &tidings_queue).await;
            tidings_publish(&publisher, events).await;
            drain(side.builder(), u32::from(PREFETCH), events).await
        },
    )
    .await;
    publisher.shutdown().await.expect("shut down");

    for queue in [
        raw_queue.as_str(),
        &tidings_queue,
        &names.tidings_dead_letters(),
    ] {
        let _ = channel
            .queue_delete(queue.into(), QueueDeleteOptions::default())
            .await;
    }
    for exchange in [
        raw_exchange.as_str(),
        &names.tidings_exchange(),
        &names.tidings_dead_letters(),
    ] {
        let _ = channel
            .exchange_delete(exchange.into(), Default::default())
            .await;
    }
    let _ = connection.close(200, "done".into()).await;
    vec![
        throughput_row(
            &format!("amqp publish, {WINDOW} in flight (events/s)"),
            "lapin, confirms, same window",
            events,
            publishing,
            Some(Goal::RatioAtMost(GOAL)),
        ),
        throughput_row(
            &format!("amqp consume a backlog, prefetch {PREFETCH} (events/s)"),
            "lapin consumer, ack each",
            events,
            consuming,
            Some(Goal::RatioAtMost(GOAL)),
        ),
    ]
}
