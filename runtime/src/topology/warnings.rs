//! Start-up warnings about events and subscribers that do not meet: an event the binary declares
//! that nothing in it handles, and a subscriber to an event no `#[derive(Event)]` declares.
//!
//! Both look at the whole binary (every registered subscriber and those given to the builder),
//! not only at what this bus runs: a process of a distributed system runs some groups and
//! publishes to the others, which is no mistake.

use super::declaration;
use crate::subscriber::Subscriber;

/// Warns once per mismatch, at `build()`.
pub(crate) fn warn_unmatched(subscribers: &[&Subscriber]) {
    let declared: Vec<_> = declaration::declared().collect();
    for event in &declared {
        if !subscribers.iter().any(|s| s.event_name() == event.name) {
            let at = &event.declaration;
            tracing::warn!(
                event = event.name,
                "event `{}` ({}, declared at {}:{}) has no subscriber in this binary: published, \
                 it reaches no handler here; add a #[subscriber] for it, unless another process \
                 subscribes",
                event.name,
                (event.type_name)(),
                at.file,
                at.line,
            );
        }
    }
    for subscriber in subscribers {
        let handler = &subscriber.handler;
        let event_type = handler.event_type();
        if !declared.iter().any(|event| (event.type_id)() == event_type) {
            tracing::warn!(
                subscriber = subscriber.name(),
                event = handler.event_name(),
                "subscriber `{}` ({}) handles `{}` (event `{}`), which no #[derive(Event)] in \
                 this binary declares, so its payload is missing from the topology and AsyncAPI \
                 document; derive Event for it instead of implementing it by hand",
                subscriber.name(),
                subscriber.location,
                handler.event_type_name(),
                handler.event_name(),
            );
        }
    }
}
