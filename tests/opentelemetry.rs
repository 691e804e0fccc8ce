//! With feature `opentelemetry` and a `tracing-opentelemetry` layer: the handler's span is a
//! child of the publish's span (same trace, parent = the publish span), through the event's
//! `traceparent`, and a follow-up published in the handler continues the chain. The spans are
//! collected by the OpenTelemetry SDK's in-memory exporter.
//!
//! Its own binary: the `tracing` subscriber is set for this thread, and tracing caches
//! per-callsite interest process-wide.

use std::sync::Arc;

use opentelemetry::trace::{SpanId, TraceId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tidings::{Bus, Context, Subscriber, TraceParent};
use tidings_tests::{Log, Ping, Pong};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

/// A handler's name, the `traceparent` its event came with, and its own.
type Seen = (&'static str, Option<TraceParent>, TraceParent);

/// The one finished span called `name` whose `event` attribute is `event`.
fn span<'a>(spans: &'a [SpanData], name: &str, event: &str) -> &'a SpanData {
    let found: Vec<&SpanData> = spans
        .iter()
        .filter(|span| {
            span.name == name
                && span
                    .attributes
                    .iter()
                    .any(|kv| kv.key.as_str() == "event" && kv.value.as_str() == event)
        })
        .collect();
    assert_eq!(found.len(), 1, "one {name} of {event} among {spans:#?}");
    found[0]
}

/// The ids of an OpenTelemetry span as the `traceparent` naming it.
fn traceparent_of(span: &SpanData) -> TraceParent {
    TraceParent::new(
        tidings::TraceId::from_bytes(span.span_context.trace_id().to_bytes()).unwrap(),
        tidings::SpanId::from_bytes(span.span_context.span_id().to_bytes()).unwrap(),
        span.span_context.trace_flags().to_u8(),
    )
}

#[tokio::test(flavor = "current_thread")]
async fn the_handle_span_is_a_child_of_the_publish_span_across_the_bus() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("tidings-tests"));
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));

    // What each handler's context says: the incoming traceparent and its own.
    let seen: Log<Seen> = Log::default();
    let bus = Bus::builder()
        .manual()
        .subscribe(Subscriber::new("relay", {
            let seen = seen.clone();
            move |ping: Arc<Ping>, ctx: Context| {
                seen.push(("relay", ctx.traceparent(), ctx.child_traceparent()));
                async move {
                    ctx.publish(Pong { seq: ping.seq }).await.unwrap();
                }
            }
        }))
        .subscribe(Subscriber::new("sink", {
            let seen = seen.clone();
            move |_: Pong, ctx: Context| {
                seen.push(("sink", ctx.traceparent(), ctx.child_traceparent()));
                std::future::ready(())
            }
        }))
        .build()
        .await
        .unwrap();
    bus.publish(Ping::new("k", 1))
        .instrument(tracing::info_span!("request"))
        .await
        .unwrap();
    bus.wait_idle().await;
    bus.shutdown().await.unwrap();
    provider.force_flush().unwrap();

    let spans = exporter.get_finished_spans().unwrap();
    let request = span_named(&spans, "request");
    let publish = span(&spans, "tidings.publish", "test.ping");
    let handle = span(&spans, "tidings.handle", "test.ping");
    let follow_up = span(&spans, "tidings.publish", "test.pong");
    let sink = span(&spans, "tidings.handle", "test.pong");

    let trace: TraceId = request.span_context.trace_id();
    assert_eq!(request.parent_span_id, SpanId::INVALID);
    for (span, parent) in [
        (publish, request),
        (handle, publish),
        (follow_up, handle),
        (sink, follow_up),
    ] {
        assert_eq!(
            span.span_context.trace_id(),
            trace,
            "{} in the request's trace",
            span.name
        );
        assert_eq!(
            span.parent_span_id,
            parent.span_context.span_id(),
            "{}'s parent is {}",
            span.name,
            parent.name
        );
    }
    // The handlers crossed the bus: their parents came from the event's traceparent.
    assert!(handle.parent_span_is_remote && sink.parent_span_is_remote);
    assert!(!follow_up.parent_span_is_remote);

    // And the contexts handlers see name the same spans.
    assert_eq!(
        seen.items(),
        vec![
            (
                "relay",
                Some(traceparent_of(publish)),
                traceparent_of(handle)
            ),
            (
                "sink",
                Some(traceparent_of(follow_up)),
                traceparent_of(sink)
            ),
        ]
    );
}

fn span_named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    let found: Vec<&SpanData> = spans.iter().filter(|span| span.name == name).collect();
    assert_eq!(found.len(), 1, "one {name} among {spans:#?}");
    found[0]
}
