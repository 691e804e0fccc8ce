//! `tidings_published_total`: a counter per event name, resolved on the name's first publish.

use std::sync::Arc;

use arc_swap::ArcSwap;
use metrics::Counter;
use rustc_hash::FxHashMap;

use super::PUBLISHED;

/// The published counter of every event name this bus has published.
///
/// Read on every publish without a lock (an `ArcSwap` load and an Fx hash of the name); a
/// name's first publish copies the map with its counter added.
pub(crate) struct PublishCounters {
    by_event: ArcSwap<FxHashMap<Box<str>, Counter>>,
}

impl PublishCounters {
    /// Counters resolved now for `events` (those the bus's subscribers take, which handlers
    /// publish as follow-ups), from the same recorder as the subscribers' metrics; others on
    /// their first publish.
    pub(crate) fn new<'a>(events: impl IntoIterator<Item = &'a str>) -> Self {
        let by_event = events
            .into_iter()
            .map(|event| (event.into(), counter(event)))
            .collect();
        PublishCounters {
            by_event: ArcSwap::from_pointee(by_event),
        }
    }

    pub(crate) fn increment(&self, event: &str) {
        match self.by_event.load().get(event) {
            Some(counter) => counter.increment(1),
            None => self.resolve(event).increment(1),
        }
    }

    #[cold]
    fn resolve(&self, event: &str) -> Counter {
        let counter = counter(event);
        self.by_event.rcu(|known| {
            let mut known = FxHashMap::clone(known);
            known.entry(event.into()).or_insert_with(|| counter.clone());
            Arc::new(known)
        });
        counter
    }
}

fn counter(event: &str) -> Counter {
    metrics::counter!(PUBLISHED, "event" => event.to_owned())
}
