//! What `build()` and the first unrouted publish warn about: an event declared in the binary
//! that nothing in it handles, a subscriber to an event no `#[derive(Event)]` declares, and an
//! event dropped by an in-process bus for want of a running subscriber. Its own binary, with one
//! test: tracing caches per-callsite interest process-wide (see `tracing_spans.rs`).

use serde::{Deserialize, Serialize};
use tidings::Key;
use tidings::prelude::*;
use tidings_tests::Log;
use tracing::field::{Field, Visit};
use tracing::{Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "warnings.unheard")]
struct Unheard {
    seq: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "warnings.heard")]
struct Heard {
    seq: u32,
}

#[subscriber(group = "listeners")]
async fn hear(_heard: &Heard) {}

/// Implemented by hand: no derive declares it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct HandMade {
    id: String,
}

impl Event for HandMade {
    const NAME: &'static str = "warnings.hand_made";
    const VERSION: u32 = 1;

    fn key(&self) -> Option<Key<'_>> {
        None
    }
}

#[subscriber(group = "hand")]
async fn see_hand_made(_made: &HandMade) {}

/// The message of every WARN event.
#[derive(Clone, Default)]
struct Warnings(Log<String>);

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: Subscriber> Layer<S> for Warnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: LayerContext<'_, S>) {
        if *event.metadata().level() == Level::WARN {
            let mut message = Message(String::new());
            event.record(&mut message);
            self.0.push(message.0);
        }
    }
}

impl Warnings {
    /// The warnings about this file's events and subscribers, in order.
    fn ours(&self) -> Vec<String> {
        self.0
            .items()
            .into_iter()
            .filter(|message| message.contains("`warnings.") || message.contains("`see_hand_made`"))
            .collect()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn mismatched_events_and_subscribers_are_warned_about_once() {
    let warnings = Warnings::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(warnings.clone()));

    // Runs nothing: the start-up warnings are about the binary, not about what this bus runs.
    let bus = Bus::builder().manual().build().await.unwrap();
    let topology = bus.topology();
    let unheard_at = topology
        .event("warnings.unheard")
        .unwrap()
        .declared_at
        .clone()
        .unwrap();
    let hand_made_at = &topology.subscriber("see_hand_made").unwrap().declared_at;
    assert_eq!(
        warnings.ours(),
        [
            format!(
                "event `warnings.unheard` (startup_warnings::Unheard, declared at {unheard_at}) \
                 has no subscriber in this binary: published, it reaches no handler here; add a \
                 #[subscriber] for it, unless another process subscribes"
            ),
            format!(
                "subscriber `see_hand_made` ({hand_made_at}) handles \
                 `startup_warnings::HandMade` (event `warnings.hand_made`), which no \
                 #[derive(Event)] in this binary declares, so its payload is missing from the \
                 topology and AsyncAPI document; derive Event for it instead of implementing it \
                 by hand"
            ),
        ],
        "`warnings.heard` has a subscriber, so it is not warned about"
    );

    // This bus runs no subscriber of either event: memory:// drops them, and says so once each.
    for seq in 0..3 {
        bus.publish(Heard { seq }).await.unwrap();
        bus.publish(Unheard { seq }).await.unwrap();
    }
    let dropped = |event: &str| {
        format!(
            "event `{event}` was published on memory:// with no subscriber running on this bus, \
             so it was dropped; add a #[subscriber] for it, or check the bus's `.groups(..)` and \
             `.manual()` (warned once per event)"
        )
    };
    assert_eq!(
        warnings.ours()[2..],
        [dropped("warnings.heard"), dropped("warnings.unheard")]
    );
    bus.shutdown().await.unwrap();

    // A bus that runs the subscriber delivers, and has nothing to warn about at publish.
    let before = warnings.ours().len();
    let listening = Bus::builder().groups(["listeners"]).build().await.unwrap();
    listening.publish(Heard { seq: 9 }).await.unwrap();
    listening.wait_idle().await;
    assert_eq!(listening.stats().subscriber("hear").unwrap().handled, 1);
    let after: Vec<String> = warnings.ours()[before..].to_vec();
    assert_eq!(
        after.len(),
        2,
        "only the two start-up warnings again: {after:#?}"
    );
    assert!(
        after.iter().all(|w| !w.contains("was dropped")),
        "{after:#?}"
    );
    listening.shutdown().await.unwrap();
}
