//! [`Context`]: what a handler knows about the delivery it is handling.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crate::bus::{Bus, Lineage};
use crate::delivery::Meta;
use crate::error::Result;
use crate::event::{Event, EventId};
use crate::trace::TraceParent;

/// The delivery a handler is running for: ids, attempt, headers, and a way to publish follow-ups.
///
/// Take it as `ctx: &Context` in a `#[subscriber]` function (or `Context` in a closure).
#[derive(Clone)]
pub struct Context {
    bus: Bus,
    subscriber: Arc<str>,
    meta: Meta,
    attempt: u32,
    /// This handling in its trace: what follow-ups carry.
    trace: TraceParent,
}

impl Context {
    /// A worker's context, pointed at each later delivery with [`Context::delivering`].
    pub(crate) fn new(bus: Bus, subscriber: Arc<str>, meta: Meta, attempt: u32) -> Self {
        Context {
            bus,
            subscriber,
            meta,
            attempt,
            // Replaced by `handling` before any handler sees it.
            trace: TraceParent::root(),
        }
    }

    pub(crate) fn delivering(&mut self, meta: &Meta, attempt: u32) {
        self.meta.clone_from(meta);
        self.attempt = attempt;
    }

    /// Names the span this attempt runs in, once it is open.
    pub(crate) fn handling(&mut self, trace: TraceParent) {
        self.trace = trace;
    }

    /// The id of the event being handled.
    pub fn event_id(&self) -> EventId {
        self.meta.id
    }

    /// Which attempt this is: 1 on the first try.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The id shared by every event of one causal chain (the first event's id).
    pub fn correlation_id(&self) -> EventId {
        self.meta.correlation_id
    }

    /// The id of the event whose handler published this one, if any.
    pub fn causation_id(&self) -> Option<EventId> {
        self.meta.causation_id
    }

    /// When the event was published.
    pub fn published_at(&self) -> SystemTime {
        self.meta.time
    }

    /// The name of the subscriber running.
    pub fn subscriber(&self) -> &str {
        &self.subscriber
    }

    /// The W3C trace context the event arrived with: its trace id, and as parent the span that
    /// published it. `None` when its producer sent none (tidings always sends one).
    pub fn traceparent(&self) -> Option<TraceParent> {
        self.meta.trace
    }

    /// The W3C trace context of this handling: the event's trace (a new one if it came
    /// without), with this handler's span as the parent. Follow-ups published with
    /// [`publish`](Self::publish) carry it; send it as the `traceparent` header of outgoing
    /// calls to continue the trace there.
    pub fn child_traceparent(&self) -> TraceParent {
        self.trace
    }

    /// Extra headers that came with the event.
    pub fn headers(&self) -> Headers<'_> {
        Headers(self.meta.extras.as_deref().map(|extras| &extras.headers))
    }

    /// Publishes a follow-up event, carrying this event's correlation id forward and recording
    /// this event as its cause. It continues this handling's trace, with the handler's span as
    /// its parent ([`child_traceparent`](Self::child_traceparent)). Allowed while the bus
    /// drains during shutdown, so a chain that was accepted can finish.
    pub async fn publish<E: Event>(&self, event: E) -> Result<EventId> {
        let lineage = Lineage {
            correlation_id: Some(self.meta.correlation_id),
            causation_id: Some(self.meta.id),
            trace: Some(self.trace),
        };
        self.bus.publish_within(event, lineage).await
    }

    /// The bus this delivery came from.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    pub(crate) fn state(&self) -> &crate::state::StateMap {
        self.bus.state()
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("subscriber", &self.subscriber)
            .field("event_id", &self.meta.id)
            .field("attempt", &self.attempt)
            .field("correlation_id", &self.meta.correlation_id)
            .field("causation_id", &self.meta.causation_id)
            .field("traceparent", &self.meta.trace)
            .finish_non_exhaustive()
    }
}

/// Read-only view of an event's extra headers.
#[derive(Debug, Clone, Copy)]
pub struct Headers<'a>(Option<&'a BTreeMap<String, String>>);

impl<'a> Headers<'a> {
    /// The value of header `name`.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.0?.get(name).map(String::as_str)
    }

    /// Every header, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.0
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_none_or(BTreeMap::is_empty)
    }
}
