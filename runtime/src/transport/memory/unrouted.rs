//! Events published where no queue takes them. The in-process transports drop such an event
//! (no other process can be subscribed to it), which deserves a warning, once per event name
//! rather than once per event: a checked name costs a lock-free read.

use std::collections::HashSet;
use std::sync::Arc;

use arc_swap::ArcSwap;

#[derive(Default)]
pub(crate) struct Unrouted {
    warned: ArcSwap<HashSet<Arc<str>>>,
}

impl Unrouted {
    /// Warns about `event_name` the first time it is dropped.
    pub(crate) fn dropped(&self, event_name: &str, scheme: &str) {
        if self.warned.load().contains(event_name) {
            return;
        }
        let mut first = false;
        self.warned.rcu(|warned| {
            let mut warned = HashSet::clone(warned);
            first = warned.insert(event_name.into());
            warned
        });
        if first {
            tracing::warn!(
                event = event_name,
                "event `{event_name}` was published on {scheme} with no subscriber running on \
                 this bus, so it was dropped; add a #[subscriber] for it, or check the bus's \
                 `.groups(..)` and `.manual()` (warned once per event)"
            );
        }
    }
}
