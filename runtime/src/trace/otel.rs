//! With feature `opentelemetry`: the ids of the OpenTelemetry spans that `tracing-opentelemetry`
//! makes of `tidings.publish` and `tidings.handle`, so a handler's span continues the
//! publisher's trace across processes and brokers. Without its layer installed the spans have
//! no OpenTelemetry context, and tidings falls back to ids of its own.

use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceState};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{SpanId, TraceId, TraceParent};

/// The OpenTelemetry context of `span` as a `traceparent`, if it has one.
pub(super) fn span_traceparent(span: &Span) -> Option<TraceParent> {
    if span.is_disabled() {
        return None;
    }
    let context = span.context();
    let otel_span = context.span();
    let ids = otel_span.span_context();
    // Invalid (all-zero ids) when the span has no OpenTelemetry context.
    Some(TraceParent::new(
        TraceId::from_bytes(ids.trace_id().to_bytes())?,
        SpanId::from_bytes(ids.span_id().to_bytes())?,
        ids.trace_flags().to_u8(),
    ))
}

/// Makes `incoming` the remote parent of `span` (before it starts), then returns the span's
/// own context as a `traceparent`, if it has one.
pub(super) fn continue_trace(span: &Span, incoming: Option<TraceParent>) -> Option<TraceParent> {
    // No subscriber wants the span, so there is no layer: spare the hot path the parent context.
    if span.is_disabled() {
        return None;
    }
    if let Some(incoming) = incoming {
        let remote = SpanContext::new(
            opentelemetry::trace::TraceId::from_bytes(incoming.trace_id().to_bytes()),
            opentelemetry::trace::SpanId::from_bytes(incoming.parent_id().to_bytes()),
            TraceFlags::new(incoming.flags()),
            true,
            TraceState::default(),
        );
        // Fails only without the layer (or for a disabled span): then there is no context to
        // continue, and the caller falls back to ids of its own.
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
    }
    span_traceparent(span)
}
