//! Publishing: an envelope in binary mode (`ce-` headers, JSON body), stored once the stream
//! acknowledged it.

use async_nats::HeaderMap;
use async_nats::header::{HeaderName, HeaderValue, NATS_MESSAGE_ID};

use super::{Shared, timed};
use tidings_core::Envelope;
use tidings_core::{Error, Result};

pub(crate) use tidings_core::transport::wire::NATS_PREFIX as PREFIX;
/// Marks a replayed dead letter: only this subscriber handles it, the others skip it.
pub(crate) const REPLAY_FOR: &str = "tidings-replay-for";

/// Marks the transport's own headers on a parked event (`consumer.rs`).
const PARKED_PREFIX: &str = "tidings-parked-";

/// Headers the transport sets for itself, not extra headers of the event.
pub(crate) fn reserved(name: &str) -> bool {
    name.starts_with("Nats-")
        || name == "content-type"
        || name == REPLAY_FOR
        || name.starts_with(PARKED_PREFIX)
}

/// A message's headers as name/value pairs, one per value.
pub(crate) fn header_pairs(headers: Option<&HeaderMap>) -> Vec<(&str, &str)> {
    headers
        .iter()
        .flat_map(|headers| headers.iter())
        .flat_map(|(name, values)| values.iter().map(move |v| (name.as_ref(), v.as_str())))
        .collect()
}

/// A message's envelope: binary mode, else structured, else a bare payload of `fallback_type`.
pub(crate) fn read_envelope(
    headers: &[(&str, &str)],
    payload: &[u8],
    fallback_type: &str,
) -> std::result::Result<Envelope, tidings_core::WireError> {
    let content_type = headers
        .iter()
        .find(|(name, _)| *name == "content-type")
        .map(|(_, value)| *value);
    Envelope::from_message(
        headers.iter().copied(),
        PREFIX,
        content_type,
        payload,
        fallback_type,
        reserved,
    )
}

/// Publishes `envelope` to `subject` and waits for the stream to store it. `message_id`
/// de-duplicates a publish retried within the stream's duplicate window.
pub(crate) async fn store(
    shared: &Shared,
    subject: String,
    envelope: &Envelope,
    message_id: &str,
    extra: &[(&str, &str)],
) -> Result<()> {
    let mut headers = HeaderMap::new();
    let pairs = envelope.to_binary_headers(PREFIX);
    let pairs = pairs
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .chain([("content-type", envelope.datacontenttype.as_str())])
        .chain(extra.iter().copied());
    for (name, value) in pairs {
        let (Ok(name), Ok(value)) = (name.parse::<HeaderName>(), value.parse::<HeaderValue>())
        else {
            let problem = format!(
                "header `{name}: {value}` cannot travel on NATS: names must be printable ASCII \
                 without `:`, values without line breaks"
            );
            return Err(Error::broker(&shared.config.url, problem));
        };
        headers.insert(name, value);
    }
    headers.insert(NATS_MESSAGE_ID, message_id);
    let data = envelope.data.clone().into();
    // Held until the stream acknowledged: concurrent publishes pipeline up to the window.
    let _room = shared
        .in_flight
        .acquire()
        .await
        .expect("the publish window is never closed");
    let stored = async {
        let ack = shared
            .js
            .publish_with_headers(subject, headers, data)
            .await?;
        ack.await
    };
    timed(&shared.config, "publish", stored).await?;
    Ok(())
}
