//! `tracing` spans `tidings.publish` and `tidings.handle` carry the event, id, subscriber,
//! attempt and W3C trace id. Its own binary: tracing caches per-callsite interest process-wide, so a scoped
//! subscriber is only reliable where no other test races it.

use std::sync::{Arc, Mutex};

use tidings::{Bus, Context, Subscriber, TraceParent};
use tidings_tests::{Log, Pong};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};

/// Records the name and fields of every span opened, and fields recorded later.
#[derive(Clone, Default)]
struct SpanLog(Arc<Mutex<Vec<(Id, RecordedSpan)>>>);

impl SpanLog {
    fn items(&self) -> Vec<RecordedSpan> {
        let spans = self.0.lock().unwrap();
        spans.iter().map(|(_, span)| span.clone()).collect()
    }
}

/// A span's name and its fields, rendered.
type RecordedSpan = (String, Vec<(String, String)>);

struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl<S: tracing::Subscriber> Layer<S> for SpanLog {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: LayerContext<'_, S>) {
        let mut fields = Fields(Vec::new());
        attrs.record(&mut fields);
        let span = (attrs.metadata().name().to_owned(), fields.0);
        self.0.lock().unwrap().push((id.clone(), span));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: LayerContext<'_, S>) {
        let mut fields = Fields(Vec::new());
        values.record(&mut fields);
        let mut spans = self.0.lock().unwrap();
        // Ids are reused once a span closes: the latest span with this id is the one.
        if let Some((_, span)) = spans.iter_mut().rev().find(|(known, _)| known == id) {
            span.1.extend(fields.0);
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn publish_and_handle_open_spans_with_event_id_subscriber_attempt_and_trace() {
    let spans = SpanLog::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
    let own: Log<TraceParent> = Log::default();
    let bus = Bus::builder()
        .manual()
        .subscribe(Subscriber::new("traced", {
            let own = own.clone();
            move |_: Pong, ctx: Context| {
                own.push(ctx.child_traceparent());
                std::future::ready(())
            }
        }))
        .build()
        .await
        .unwrap();
    let id = bus.publish(Pong { seq: 1 }).await.unwrap();
    bus.wait_idle().await;

    let spans = spans.items();
    let field = |span: &RecordedSpan, name: &str| {
        span.1
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.clone())
    };
    let publish = spans
        .iter()
        .find(|span| span.0 == "tidings.publish")
        .expect("a publish span");
    assert_eq!(field(publish, "event").as_deref(), Some("test.pong"));
    assert_eq!(field(publish, "id"), Some(id.to_string()));
    let handle = spans
        .iter()
        .find(|span| span.0 == "tidings.handle")
        .expect("a handle span");
    assert_eq!(field(handle, "event").as_deref(), Some("test.pong"));
    assert_eq!(field(handle, "id"), Some(id.to_string()));
    assert_eq!(field(handle, "subscriber").as_deref(), Some("traced"));
    assert_eq!(field(handle, "attempt").as_deref(), Some("1"));

    // Logs join on the trace id: the publish's and the handling's are the same, and the
    // handling's span id is the parent that its follow-ups name.
    let own = own.items()[0];
    assert_eq!(field(publish, "trace_id"), Some(own.trace_id().to_string()));
    assert_eq!(field(handle, "trace_id"), Some(own.trace_id().to_string()));
    assert_eq!(field(handle, "span_id"), Some(own.parent_id().to_string()));
}
