//! `Context`: ids, attempts, correlation and causation.

use std::sync::Arc;

use crate::Backend;
use crate::{Log, Ping, Pong};
use tidings::{Context, EventId, Subscriber};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    event: EventId,
    correlation: EventId,
    causation: Option<EventId>,
}

fn seen(ctx: &Context) -> Seen {
    Seen {
        event: ctx.event_id(),
        correlation: ctx.correlation_id(),
        causation: ctx.causation_id(),
    }
}

pub async fn context_publish_carries_correlation_and_causation_forward(backend: &dyn Backend) {
    let (first, second, third) = (Log::default(), Log::default(), Log::default());
    let bus = backend
        .bus_with([
            Subscriber::new("first", {
                let first = first.clone();
                move |ping: Arc<Ping>, ctx: Context| {
                    let first = first.clone();
                    async move {
                        first.push(seen(&ctx));
                        if ping.key == "root" {
                            ctx.publish(Pong { seq: ping.seq }).await.unwrap();
                        }
                    }
                }
            }),
            Subscriber::new("second", {
                let second = second.clone();
                move |pong: Pong, ctx: Context| {
                    let second = second.clone();
                    async move {
                        second.push(seen(&ctx));
                        ctx.publish(Ping::new("leaf", pong.seq)).await.unwrap();
                    }
                }
            }),
            Subscriber::new("third", {
                let third = third.clone();
                move |_: Pong, ctx: Context| {
                    third.push(ctx.subscriber().to_owned());
                    std::future::ready(())
                }
            }),
        ])
        .await;

    let root = bus.publish(Ping::new("root", 1)).await.unwrap();
    bus.wait_idle().await;

    let first = first.items();
    let second = second.items();
    assert_eq!(first.len(), 2);
    assert_eq!(
        first[0],
        Seen {
            event: root,
            correlation: root,
            causation: None
        }
    );
    assert_eq!(
        second,
        vec![Seen {
            event: second[0].event,
            correlation: root,
            causation: Some(root)
        }]
    );
    assert_eq!(
        first[1],
        Seen {
            event: first[1].event,
            correlation: root,
            causation: Some(second[0].event)
        }
    );
    assert_eq!(third.items(), vec!["third".to_owned()]);
}
