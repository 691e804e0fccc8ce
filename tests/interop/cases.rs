//! The interop cases, for any broker with a Python client. Exact values throughout: the
//! attributes a foreign producer sets are the ones tidings hands on, and the reverse.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tidings::{Context, EventId, HandlerError, Key, Subscriber, TraceParent};
use tidings_tests::Log;

use super::client::Mode;
use super::{Foreign, OrderPlaced};
use tidings_conformance::Backend;

/// The instant every case's foreign event carries, written differently per case.
const AT: &str = "2026-11-21T18:00:00.123Z";

fn order() -> OrderPlaced {
    OrderPlaced {
        order_id: 42,
        sku: "apple".to_owned(),
        qty: 3,
    }
}

/// A CloudEvent as a Python producer builds it, every attribute tidings reads set, at `time`.
struct PythonEvent {
    id: EventId,
    correlation: EventId,
    causation: EventId,
    document: Value,
}

fn from_python(time: &str) -> PythonEvent {
    let (id, correlation, causation) = (EventId::new(), EventId::new(), EventId::new());
    let document = json!({
        "specversion": "1.0",
        "id": id,
        "type": "orders.placed",
        "source": "python-shop",
        "time": time,
        "subject": "42",
        "datacontenttype": "application/json",
        "version": 2,
        "correlationid": correlation,
        "causationid": causation,
        "data": order(),
    });
    PythonEvent {
        id,
        correlation,
        causation,
        document,
    }
}

/// What a handler saw of one delivery.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    order: OrderPlaced,
    id: EventId,
    correlation: EventId,
    causation: Option<EventId>,
    published_at: SystemTime,
    headers: Vec<(String, String)>,
}

/// A subscriber of [`OrderPlaced`] named `name` that records what it sees.
fn recording(name: &str, seen: &Log<Seen>) -> Subscriber {
    let seen = seen.clone();
    Subscriber::new(name, move |order: Arc<OrderPlaced>, ctx: Context| {
        seen.push(Seen {
            order: (*order).clone(),
            id: ctx.event_id(),
            correlation: ctx.correlation_id(),
            causation: ctx.causation_id(),
            published_at: ctx.published_at(),
            headers: ctx
                .headers()
                .iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
        });
        std::future::ready(())
    })
}

/// A subscriber that refuses every event at once, so that its dead letter shows the envelope
/// as tidings read it off the wire, source and subject included, which handlers do not see.
fn inspector() -> Subscriber {
    Subscriber::new("inspector", |_: Arc<OrderPlaced>| {
        std::future::ready(Err::<(), _>(HandlerError::permanent_msg("inspected")))
    })
}

fn time(text: &str) -> SystemTime {
    humantime::parse_rfc3339(text).expect("an RFC 3339 UTC time")
}

/// Python publishes `event` in `mode`; a typed subscriber receives it with its attributes.
async fn received_typed(backend: &impl Foreign, mode: Mode, event: PythonEvent) {
    let seen = Log::default();
    let bus = (backend as &dyn Backend)
        .bus_with([recording("typed", &seen), inspector()])
        .await;

    let printed = backend.client().publish(mode, &event.document, None).await;
    assert_eq!(
        printed["transport"],
        backend.route("orders.placed", Key::Unsigned(42))
    );
    bus.wait_idle().await;

    assert_eq!(
        seen.items(),
        vec![Seen {
            order: order(),
            id: event.id,
            correlation: event.correlation,
            causation: Some(event.causation),
            published_at: time(AT),
            // Broker headers (`Nats-Msg-Id`, `content-type`) are not the event's.
            headers: Vec::new(),
        }]
    );
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:#?}");
    let (letter, envelope) = (&dead[0], &dead[0].envelope);
    assert_eq!(
        (letter.subscriber.as_str(), letter.error.as_str()),
        ("inspector", "inspected")
    );
    // `type` chose the subject or exchange (checked above); tidings does not read it again.
    assert_eq!((envelope.id, envelope.version), (event.id, 2));
    assert_eq!(
        (
            envelope.source.as_str(),
            envelope.subject.as_deref(),
            envelope.time
        ),
        ("python-shop", Some("42"), time(AT))
    );
    assert_eq!(
        (envelope.correlation_id, envelope.causation_id),
        (Some(event.correlation), Some(event.causation))
    );
    assert_eq!(envelope.json(), Some(json!(order())));
    bus.shutdown().await.unwrap();
}

/// Attributes as `ce-*` (NATS) or `cloudEvents:*` (AMQP) headers, the JSON data as the body;
/// the time as tidings writes it.
pub(crate) async fn python_publishes_binary_mode_and_a_subscriber_receives_it_typed(
    backend: &impl Foreign,
) {
    received_typed(backend, Mode::Binary, from_python(AT)).await;
}

/// The whole CloudEvents JSON document as the body, its time with an offset as Python's
/// `datetime.isoformat()` writes it: the same instant as [`AT`].
pub(crate) async fn python_publishes_structured_mode_and_a_subscriber_receives_it_typed(
    backend: &impl Foreign,
) {
    received_typed(
        backend,
        Mode::Structured,
        from_python("2026-11-21T19:00:00.123000+01:00"),
    )
    .await;
}

/// Python reads, with the broker's own client library, exactly what tidings sends.
pub(crate) async fn python_reads_what_tidings_publishes(backend: &impl Foreign) {
    // A tidings subscriber as well: the event reaches both, and the bus has declared where
    // events go before the reader binds to it, so the reader finds it as tidings made it.
    let seen = Log::default();
    let bus = backend
        .builder()
        .source("order-service")
        .subscribe(recording("typed", &seen))
        .build()
        .await
        .unwrap();
    let reader = backend.client().reader("orders.placed").await;
    // The wire keeps milliseconds, cut off.
    let before = SystemTime::now() - Duration::from_millis(1);
    let id = bus.publish(order()).await.unwrap();
    let after = SystemTime::now();
    let read = reader.event().await;

    let prefix = backend.prefix();
    let sent_at = read["headers"][format!("{prefix}time")]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // UTC with milliseconds, e.g. `2026-11-21T18:00:00.123Z`.
    assert!(
        sent_at.len() == AT.len() && sent_at.ends_with('Z'),
        "{sent_at:?}"
    );
    assert!((before..=after).contains(&time(&sent_at)), "{sent_at}");
    // A publish outside any trace starts one: a W3C traceparent of fresh ids.
    let traceparent = read["headers"][format!("{prefix}traceparent")]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let parsed: TraceParent = traceparent.parse().unwrap();
    assert!(parsed.is_sampled(), "{traceparent}");
    let mut headers: BTreeMap<String, String> = [
        ("specversion", "1.0"),
        ("id", &id.to_string()),
        ("type", "orders.placed"),
        ("source", "order-service"),
        ("time", &sent_at),
        ("subject", "42"),
        ("version", "2"),
        // The first event of its chain.
        ("correlationid", &id.to_string()),
        ("traceparent", &traceparent),
    ]
    .into_iter()
    .map(|(name, value)| (format!("{prefix}{name}"), value.to_owned()))
    .collect();
    headers.extend(backend.transport_headers(id));
    assert_eq!(read["headers"], json!(headers));
    assert_eq!(read["content_type"], "application/json");
    assert_eq!(
        read["data"],
        json!({"order_id": 42, "sku": "apple", "qty": 3})
    );
    assert_eq!(
        read["transport"],
        backend.route("orders.placed", Key::Unsigned(42))
    );
    assert_eq!(read["properties"], backend.properties(id));
    bus.wait_idle().await;
    let handled: Vec<EventId> = seen.items().iter().map(|seen| seen.id).collect();
    assert_eq!(handled, vec![id]);
    bus.shutdown().await.unwrap();
}

/// Well-formed attributes around a body that is not the event: a dead letter with the decode
/// error and the producer's id, never a retry.
pub(crate) async fn a_malformed_body_from_python_is_dead_lettered_with_its_decode_error(
    backend: &impl Foreign,
) {
    let seen = Log::default();
    let bus = (backend as &dyn Backend)
        .bus_with([recording("typed", &seen)])
        .await;
    let event = from_python(AT);
    let body = r#"{"order_id":"forty-two","sku":"apple","qty":3}"#;

    backend
        .client()
        .publish(Mode::Binary, &event.document, Some(body))
        .await;
    bus.wait_idle().await;

    assert_eq!(seen.items(), Vec::new());
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:#?}");
    assert_eq!(
        (dead[0].subscriber.as_str(), dead[0].attempts),
        ("typed", 1)
    );
    assert!(
        dead[0].error.starts_with(
            "cannot decode `orders.placed` payload as JSON: invalid type: string \"forty-two\", \
             expected u64"
        ),
        "{}",
        dead[0].error
    );
    assert_eq!(
        (dead[0].envelope.id, dead[0].envelope.data.as_slice()),
        (event.id, body.as_bytes())
    );
    bus.shutdown().await.unwrap();
}
