//! `tracing` spans `tidings.publish` and `tidings.handle` carry the event, id, subscriber and
//! attempt. Its own binary: tracing caches per-callsite interest process-wide, so a scoped
//! subscriber is only reliable where no other test races it.

use tidings::{Bus, Subscriber};
use tidings_tests::{Log, Pong};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};

/// Records the name and fields of every span opened.
#[derive(Clone, Default)]
struct SpanLog(Log<RecordedSpan>);

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
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: LayerContext<'_, S>) {
        let mut fields = Fields(Vec::new());
        attrs.record(&mut fields);
        self.0.push((attrs.metadata().name().to_owned(), fields.0));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn publish_and_handle_open_spans_with_event_id_subscriber_and_attempt() {
    let spans = SpanLog::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
    let bus = Bus::builder()
        .manual()
        .subscribe(Subscriber::new("traced", |_: Pong| async {}))
        .build()
        .await
        .unwrap();
    let id = bus.publish(Pong { seq: 1 }).await.unwrap();
    bus.wait_idle().await;

    let spans = spans.0.items();
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
}
