#![doc = include_str!("../docs/testing.md")]

mod assertions;
mod builder;
mod clock;
mod history;
mod published;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

pub use builder::TestBusBuilder;
pub use history::Counts;
use history::Trail;
pub use published::Published;

use crate::bus::Bus;
use crate::event::{Event, EventId};
use crate::recorder::Recorder;

/// How much virtual time [`TestBus::settle`] waits before it calls the bus stuck.
const SETTLE_LIMIT: Duration = Duration::from_secs(30 * 24 * 3600);

/// A [`Bus`] on virtual time that records every event it accepted and every attempt its
/// subscribers made. Everything a `Bus` does is available through it (it derefs to one).
///
/// See the [module docs](self) for an example.
pub struct TestBus {
    bus: Bus,
    recorder: Arc<Recorder>,
    started: Instant,
}

impl TestBus {
    /// Starts configuring a test bus: `memory://`, and no subscriber but those it names.
    pub fn builder() -> TestBusBuilder {
        TestBusBuilder::new()
    }

    /// The bus itself, to hand to code under test.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Runs until every queue is empty and nothing is in flight or waiting to retry. Virtual time
    /// jumps from timer to timer meanwhile, so backoffs and timeouts take no wall time.
    ///
    /// # Panics
    /// If the bus is still busy after 30 days of virtual time (handlers that keep publishing one
    /// another while they wait on timers, say). The message lists what is unfinished.
    pub async fn settle(&self) {
        if tokio::time::timeout(SETTLE_LIMIT, self.bus.wait_idle())
            .await
            .is_err()
        {
            let unfinished: Vec<String> = self
                .bus
                .stats()
                .subscribers
                .iter()
                .filter(|s| s.in_flight + s.queued > 0)
                .map(|s| {
                    format!(
                        "`{}`: {} in flight, {} queued",
                        s.name, s.in_flight, s.queued
                    )
                })
                .collect();
            panic!(
                "the bus did not settle within {} of virtual time; unfinished: {}",
                humantime::format_duration(SETTLE_LIMIT),
                unfinished.join("; ")
            );
        }
    }

    /// Virtual time since the bus was built: the sum of the backoffs and timeouts waited out.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Every `E` the bus accepted so far, from the test and from handlers alike, in the order it
    /// accepted them. An envelope whose payload does not decode as `E` is left out.
    pub fn published<E: Event + Clone>(&self) -> Vec<E> {
        self.published_events::<E>()
            .into_iter()
            .map(|published| published.event)
            .collect()
    }

    /// Like [`published`](Self::published), with each event's id, correlation id and causation
    /// id.
    pub fn published_events<E: Event + Clone>(&self) -> Vec<Published<E>> {
        self.recorder
            .published_so_far()
            .iter()
            .filter_map(Published::from_record)
            .collect()
    }

    /// The `E`s that handlers of event `cause` published (`ctx.publish`), in order.
    pub fn follow_ups<E: Event + Clone>(&self, cause: EventId) -> Vec<E> {
        self.published_events::<E>()
            .into_iter()
            .filter(|published| published.causation_id == Some(cause))
            .map(|published| published.event)
            .collect()
    }

    /// How many attempts `subscriber` made at event `event` so far (replays included).
    ///
    /// # Panics
    /// If this bus runs no subscriber of that name.
    #[track_caller]
    pub fn attempts(&self, subscriber: &str, event: EventId) -> u32 {
        self.trail(subscriber, event).attempts()
    }

    /// The delays `subscriber` waited before each retry of event `event`, in order. Without
    /// jitter under test: `exponential(1s, 1m)` gives 1s, 2s, 4s, 8s….
    ///
    /// # Panics
    /// If this bus runs no subscriber of that name.
    #[track_caller]
    pub fn delays(&self, subscriber: &str, event: EventId) -> Vec<Duration> {
        self.trail(subscriber, event).delays()
    }

    /// How `subscriber`'s attempts ended so far, over every event.
    ///
    /// # Panics
    /// If this bus runs no subscriber of that name.
    #[track_caller]
    pub fn counts(&self, subscriber: &str) -> Counts {
        self.check_subscriber(subscriber);
        Counts::of(
            self.recorder
                .attempts_so_far()
                .iter()
                .filter(|attempt| &*attempt.subscriber == subscriber),
        )
    }

    #[track_caller]
    fn trail(&self, subscriber: &str, event: EventId) -> Trail {
        self.check_subscriber(subscriber);
        Trail(
            self.recorder
                .attempts_so_far()
                .into_iter()
                .filter(|attempt| &*attempt.subscriber == subscriber && attempt.event_id == event)
                .collect(),
        )
    }

    /// Panics unless this bus runs `subscriber`: a misspelt name would otherwise read as
    /// "never received it".
    #[track_caller]
    fn check_subscriber(&self, subscriber: &str) {
        let running: Vec<&str> = self
            .bus
            .subscribers()
            .iter()
            .map(|attached| attached.subscriber.name())
            .collect();
        if !running.contains(&subscriber) {
            let running: Vec<String> = running.iter().map(|name| format!("`{name}`")).collect();
            panic!(
                "this TestBus runs no subscriber `{subscriber}` (it runs: {}); add it with \
                 `.subscribe_registered(\"{subscriber}\")` or `.subscribe(..)`",
                if running.is_empty() {
                    "none".to_owned()
                } else {
                    running.join(", ")
                }
            );
        }
    }
}

impl Deref for TestBus {
    type Target = Bus;

    fn deref(&self) -> &Bus {
        &self.bus
    }
}

impl std::fmt::Debug for TestBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestBus")
            .field("bus", &self.bus)
            .field("elapsed", &self.elapsed())
            .finish_non_exhaustive()
    }
}
