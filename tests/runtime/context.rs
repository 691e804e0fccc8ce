//! `Context`: ids, attempts, correlation and causation, and tracing spans.

use std::sync::{Arc, Mutex};

use tidings::{Bus, Context, EventId, Subscriber};
use tidings_tests::{Log, Ping, Pong};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    event: EventId,
    correlation: EventId,
    causation: Option<EventId>,
}

fn seen(ctx: &Context) -> Seen {
    Seen { event: ctx.event_id(), correlation: ctx.correlation_id(), causation: ctx.causation_id() }
}

#[tokio::test]
async fn context_publish_carries_correlation_and_causation_forward() {
    let (first, second, third) = (Log::default(), Log::default(), Log::default());
    let bus = Bus::builder()
        .manual()
        .subscribe(Subscriber::new("first", {
            let first = first.clone();
            move |ping: Arc<Ping>, ctx: Context| {
                let first = first.clone();
                async move {
                    first.push(seen(&ctx));
                    if ping.key == "root" {
                        ctx.publish(Pong { seq: ping.seq }).await.unwrap();
                    }
                }
            }
        }))
        .subscribe(Subscriber::new("second", {
            let second = second.clone();
            move |pong: Pong, ctx: Context| {
                let second = second.clone();
                async move {
                    second.push(seen(&ctx));
                    ctx.publish(Ping::new("leaf", pong.seq)).await.unwrap();
                }
            }
        }))
        .subscribe(Subscriber::new("third", {
            let third = third.clone();
            move |_: Pong, ctx: Context| {
                third.push(ctx.subscriber().to_owned());
                std::future::ready(())
            }
        }))
        .build()
        .await
        .unwrap();

    let root = bus.publish(Ping::new("root", 1)).await.unwrap();
    bus.wait_idle().await;

    let first = first.items();
    let second = second.items();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0], Seen { event: root, correlation: root, causation: None });
    assert_eq!(second, vec![Seen { event: second[0].event, correlation: root, causation: Some(root) }]);
    assert_eq!(first[1], Seen { event: first[1].event, correlation: root, causation: Some(second[0].event) });
    assert_eq!(third.items(), vec!["third".to_owned()]);
}

/// Records the name and fields of every span opened.
#[derive(Clone, Default)]
struct SpanLog(Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>);

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
        self.0.lock().unwrap().push((attrs.metadata().name().to_owned(), fields.0));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn publish_and_handle_open_spans_with_event_id_subscriber_and_attempt() {
    let spans = SpanLog::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
    let bus = Bus::builder()
        .manual()
        .subscribe(Subscriber::new("traced", |_: Pong| async {}))
        .build()
        .await
        .unwrap();
    let id = bus.publish(Pong { seq: 1 }).await.unwrap();
    bus.wait_idle().await;

    let spans = spans.0.lock().unwrap().clone();
    let field = |span: &(String, Vec<(String, String)>), name: &str| {
        span.1.iter().find(|(field, _)| field == name).map(|(_, value)| value.clone())
    };
    let publish = spans.iter().find(|span| span.0 == "tidings.publish").expect("a publish span");
    assert_eq!(field(publish, "event").as_deref(), Some("test.pong"));
    assert_eq!(field(publish, "id"), Some(id.to_string()));
    let handle = spans.iter().find(|span| span.0 == "tidings.handle").expect("a handle span");
    assert_eq!(field(handle, "event").as_deref(), Some("test.pong"));
    assert_eq!(field(handle, "id"), Some(id.to_string()));
    assert_eq!(field(handle, "subscriber").as_deref(), Some("traced"));
    assert_eq!(field(handle, "attempt").as_deref(), Some("1"));
}
