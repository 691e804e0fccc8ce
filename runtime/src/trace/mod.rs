//! W3C trace context on every event: a publish names its span as the event's `traceparent`, a
//! handler continues that trace in a span of its own, and whatever the handler publishes names
//! the handler's span as its parent. The ids travel on every transport (in [`Meta`] in memory,
//! as the `traceparent` CloudEvents attribute on disk and on brokers).
//!
//! Without an OpenTelemetry layer, tidings makes the ids itself: a publish outside any trace
//! starts one, and each handling gets a random span id, recorded on the `tidings.handle` span
//! as `trace_id` and `span_id` so that logs can be joined. With the `opentelemetry` feature and
//! a `tracing-opentelemetry` layer installed, the ids are those of the OpenTelemetry spans
//! `tidings.publish` and `tidings.handle` instead (see `otel.rs`).
//!
//! [`Meta`]: crate::delivery::Meta

mod ids;
#[cfg(feature = "opentelemetry")]
mod otel;
mod parent;

pub use ids::{SpanId, TraceId};
pub use parent::{TraceParent, TraceParentError};

#[cfg(feature = "opentelemetry")]
use otel::{continue_trace, span_traceparent};
use tracing::Span;
use tracing::field::display;

/// Without the feature no span has an OpenTelemetry context.
#[cfg(not(feature = "opentelemetry"))]
fn span_traceparent(_: &Span) -> Option<TraceParent> {
    None
}

#[cfg(not(feature = "opentelemetry"))]
fn continue_trace(_: &Span, _: Option<TraceParent>) -> Option<TraceParent> {
    None
}

/// The `traceparent` an event published inside `span` carries: the OpenTelemetry context of
/// `span` when there is one, else `inherited` (a handler's, for follow-ups), else a new trace.
pub(crate) fn publishing(span: &Span, inherited: Option<TraceParent>) -> TraceParent {
    let traceparent = span_traceparent(span)
        .or(inherited)
        .unwrap_or_else(TraceParent::root);
    span.record("trace_id", display(traceparent.trace_id()));
    traceparent
}

/// Starts handling an event that arrived with `incoming`, inside `span`: returns the
/// `traceparent` naming this handling, which follow-ups carry. Continues the incoming trace,
/// or starts one if the event came without.
pub(crate) fn handling(span: &Span, incoming: Option<TraceParent>) -> TraceParent {
    let own = continue_trace(span, incoming).unwrap_or_else(|| match incoming {
        Some(incoming) => incoming.with_parent(SpanId::random()),
        None => TraceParent::root(),
    });
    span.record("trace_id", display(own.trace_id()));
    span.record("span_id", display(own.parent_id()));
    own
}
