#![deny(warnings)]

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tidings::prelude::*;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "test.ping")]
pub struct Ping {
    pub seq: u32,
}

/// Which subscribers ran, and what they saw.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn push(&self, entry: String) {
        self.0.lock().unwrap().push(entry);
    }
}

#[derive(Clone)]
struct Tag(&'static str);

#[subscriber]
async fn borrowed(ping: &Ping, State(seen): State<Seen>) {
    seen.push(format!("borrowed {}", ping.seq));
}

#[subscriber]
async fn shared(ping: Arc<Ping>, ctx: &Context, State(seen): State<Seen>) {
    seen.push(format!("shared {} attempt {}", ping.seq, ctx.attempt()));
}

#[subscriber]
async fn owned(ping: Ping, ctx: Context, seen: State<Seen>) {
    let Ping { seq } = ping;
    seen.push(format!("owned {seq} attempt {}", ctx.attempt()));
}

/// Several states, with the context between them.
#[subscriber]
async fn several_states(
    ping: &Ping,
    State(tag): State<Tag>,
    ctx: &Context,
    State(seen): State<Seen>,
) {
    seen.push(format!(
        "several_states {} {} {}",
        ping.seq,
        tag.0,
        ctx.subscriber()
    ));
}

/// Every type written with its full path.
#[subscriber]
async fn qualified(
    ping: std::sync::Arc<Ping>,
    _ctx: &tidings::Context,
    seen: tidings::State<Seen>,
) {
    seen.0.push(format!("qualified {}", ping.seq));
}

/// Only the event.
#[subscriber]
async fn event_only(_: &Ping) {}

fn main() {
    let seen = Seen::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let bus = Bus::builder()
            .state(seen.clone())
            .state(Tag("t"))
            .build()
            .await
            .unwrap();
        bus.publish(Ping { seq: 7 }).await.unwrap();
        bus.wait_idle().await;
        let stats = bus.stats();
        for name in [
            "borrowed",
            "shared",
            "owned",
            "several_states",
            "qualified",
            "event_only",
        ] {
            assert_eq!(
                stats.subscriber(name).map(|stats| stats.handled),
                Some(1),
                "{name}"
            );
        }
        bus.shutdown().await.unwrap();
    });
    let mut entries = seen.0.lock().unwrap().clone();
    entries.sort();
    assert_eq!(
        entries,
        [
            "borrowed 7",
            "owned 7 attempt 1",
            "qualified 7",
            "several_states 7 t several_states",
            "shared 7 attempt 1",
        ]
    );
}
