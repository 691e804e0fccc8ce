//! W3C trace context: a handler sees the `traceparent` its event was published with, and what
//! it publishes continues that trace with the handler's span as the parent.

use std::sync::Arc;

use crate::Backend;
use crate::{Log, Ping, Pong};
use tidings::{Context, Envelope, Subscriber, TraceParent};

const PUBLISHER: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// What a handler saw of its trace: the incoming `traceparent` and its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    seq: u32,
    incoming: Option<TraceParent>,
    own: TraceParent,
}

fn seen(seq: u32, ctx: &Context) -> Seen {
    Seen {
        seq,
        incoming: ctx.traceparent(),
        own: ctx.child_traceparent(),
    }
}

pub async fn handlers_continue_the_publishers_trace_and_follow_ups_continue_theirs(
    backend: &dyn Backend,
) {
    let (pings, pongs) = (Log::default(), Log::default());
    let bus = backend
        .bus_with([
            Subscriber::new("relay", {
                let pings = pings.clone();
                move |ping: Arc<Ping>, ctx: Context| {
                    let pings = pings.clone();
                    async move {
                        pings.push(seen(ping.seq, &ctx));
                        ctx.publish(Pong { seq: ping.seq }).await.unwrap();
                    }
                }
            }),
            Subscriber::new("sink", {
                let pongs = pongs.clone();
                move |pong: Pong, ctx: Context| {
                    pongs.push(seen(pong.seq, &ctx));
                    std::future::ready(())
                }
            }),
        ])
        .await;

    // Order 1 comes from a producer inside a trace (as a bridge or another language would
    // send it); order 2 is a typed publish outside any trace, which starts one.
    let publisher: TraceParent = PUBLISHER.parse().unwrap();
    let mut traced = Envelope::new("test.ping", br#"{"key":"a","seq":1}"#.to_vec());
    traced.traceparent = Some(PUBLISHER.to_owned());
    bus.publish_envelope(traced).await.unwrap();
    bus.publish(Ping::new("b", 2)).await.unwrap();
    bus.wait_idle().await;

    let by_seq = |log: &Log<Seen>, seq: u32| {
        let found: Vec<Seen> = log.items().into_iter().filter(|s| s.seq == seq).collect();
        assert_eq!(found.len(), 1, "one handling of {seq}: {found:?}");
        found[0]
    };
    let first = by_seq(&pings, 1);
    assert_eq!(
        first.incoming,
        Some(publisher),
        "the handler sees the publisher's trace id, parent span and flags"
    );
    assert_eq!(
        (first.own.trace_id(), first.own.flags()),
        (publisher.trace_id(), publisher.flags())
    );
    assert_ne!(
        first.own.parent_id(),
        publisher.parent_id(),
        "a span of its own"
    );
    let follow_up = by_seq(&pongs, 1);
    assert_eq!(
        follow_up.incoming,
        Some(first.own),
        "the follow-up continues the trace with the handler's span as its parent"
    );
    assert_eq!(follow_up.own.trace_id(), publisher.trace_id());

    let second = by_seq(&pings, 2);
    let started = second.incoming.expect("a typed publish starts a trace");
    assert_ne!(started.trace_id(), publisher.trace_id());
    assert_eq!(second.own.trace_id(), started.trace_id());
    assert_eq!(by_seq(&pongs, 2).incoming, Some(second.own));
}
