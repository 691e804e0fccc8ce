//! `tidings_published_total`: a counter per event name, resolved on the name's first publish.

use std::sync::Arc;

use arc_swap::ArcSwap;
use metrics::Counter;
use rustc_hash::FxHashMap;

use super::{PUBLISHED, recorder_is_noop};

/// The published counter of every event name this bus has published.
///
/// Read on every publish without a lock (an `ArcSwap` load and an Fx hash of the name); a
/// name's first publish copies the map with its counter added. `None` without a recorder:
/// then a publish does not even look.
pub(crate) struct PublishCounters {
    by_event: Option<ArcSwap<FxHashMap<Box<str>, Counter>>>,
}

impl PublishCounters {
    /// Counters resolved now for `events` (those the bus's subscribers take, which handlers
    /// publish as follow-ups), from the same recorder as the subscribers' metrics; others on
    /// their first publish.
    pub(crate) fn new<'a>(events: impl IntoIterator<Item = &'a str>) -> Self {
        if recorder_is_noop() {
            return PublishCounters { by_event: None };
        }
        let by_event = events
            .into_iter()
            .map(|event| (event.into(), counter(event)))
            .collect();
        PublishCounters {
            by_event: Some(ArcSwap::from_pointee(by_event)),
        }
    }

    pub(crate) fn increment(&self, event: &str) {
        let Some(by_event) = &self.by_event else {
            return;
        };
        match by_event.load().get(event) {
            Some(counter) => counter.increment(1),
            None => Self::resolve(by_event, event).increment(1),
        }
    }

    #[cold]
    fn resolve(by_event: &ArcSwap<FxHashMap<Box<str>, Counter>>, event: &str) -> Counter {
        let counter = counter(event);
        by_event.rcu(|known| {
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
