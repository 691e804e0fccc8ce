//! `tail` on NATS: a core subscription to the event's subjects. It sees every event the stream
//! stores, from any process, without being a consumer of the stream, so it changes nothing for
//! the subscribers.

use super::publish::{header_pairs, read_envelope};
use super::{Shared, timed};
use tidings_core::Envelope;
use tidings_core::Result;
use tidings_core::Tail;
use tidings_core::transport::tail_channel;

pub(super) async fn open(shared: &Shared, event_name: &str) -> Result<Tail> {
    let subject = shared.names.filter(event_name);
    let mut subscription = timed(
        &shared.config,
        "subscribe to the event's subjects",
        shared.client.subscribe(subject),
    )
    .await?;
    let (sender, tail) = tail_channel();
    let event_name = event_name.to_owned();
    tokio::spawn(async move {
        let read = |message: async_nats::Message| {
            let headers = header_pairs(message.headers.as_ref());
            Some(
                read_envelope(&headers, &message.payload, &event_name).unwrap_or_else(|_| {
                    Envelope::new(event_name.clone(), message.payload.to_vec())
                }),
            )
        };
        sender.forward(&mut subscription, read).await;
        let _ = subscription.unsubscribe().await;
    });
    Ok(tail)
}
