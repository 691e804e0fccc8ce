//! [`Published`]: a recorded event with its place in the causal chain.

use crate::event::{Event, EventId};
use crate::recorder::PublishedRecord;

/// An event the bus accepted, typed, with its ids; see [`TestBus::published_events`].
///
/// [`TestBus::published_events`]: super::TestBus::published_events
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Published<E> {
    /// The event's id.
    pub id: EventId,
    /// The id of the first event of its causal chain (its own id if it started one).
    pub correlation_id: EventId,
    /// The id of the event whose handler published it (`ctx.publish`), if one did.
    pub causation_id: Option<EventId>,
    /// The event.
    pub event: E,
}

impl<E: Event + Clone> Published<E> {
    /// The record as an `E`, if it holds one.
    pub(super) fn from_record(record: &PublishedRecord) -> Option<Self> {
        Some(Published {
            id: record.id(),
            correlation_id: record.correlation_id(),
            causation_id: record.causation_id(),
            event: std::sync::Arc::unwrap_or_clone(record.event::<E>()?),
        })
    }
}
