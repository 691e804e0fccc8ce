//! The last resort for a message the NATS client cannot read. async-nats (0.51, and 0.52, the
//! newest release) closes its connection on a header block that is not UTF-8, before tidings
//! sees the message; the server then hands it out again after every ack wait, for ever, each
//! time dropping the connection of every subscriber and publisher that shares it.
//!
//! So the server-side consumers of events have a delivery limit ([`max_deliver`]) past the
//! subscriber's own retries, and when the server gives up on a message it publishes an advisory
//! (`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<consumer>`). A task per consumer
//! listens for it, fetches the message with the stream's JSON API (`$JS.API.STREAM.MSG.GET`,
//! where headers travel base64-encoded inside JSON, so the client never parses them) and stores
//! it as a dead letter with why. A message the server gave up on for another reason (a dead
//! letter the stream refused for every one of the extra deliveries) is stored the same way.

use std::sync::Arc;

use base64::Engine as _;
use futures_util::StreamExt as _;
use serde::Deserialize;
use tidings_core::transport::DeadLetterStoreFailures;
use tidings_core::{DeadLetter, DeadLetterId, Envelope};

use super::Shared;
use super::dead_letters;
use super::publish::read_envelope;

/// Deliveries a consumer allows beyond the subscriber's `retries + 1` attempts: room for naks
/// while a dead letter cannot be stored (1 s doubling to a minute: about 5 minutes), and what a
/// message the client cannot read costs before it becomes a dead letter (that many dropped
/// connections, one per ack wait).
pub(crate) const EXTRA_DELIVERIES: i64 = 10;

/// The delivery limit of a consumer whose subscriber makes `retries + 1` attempts.
pub(crate) fn max_deliver(retries: u32) -> i64 {
    i64::from(retries) + 1 + EXTRA_DELIVERIES
}

/// Who the dead letters this task makes belong to.
pub(crate) struct Owner {
    pub(crate) subscriber: String,
    pub(crate) group: String,
    pub(crate) event_name: &'static str,
    /// The server-side consumer whose advisories this task reads.
    pub(crate) consumer: String,
    /// The consumer name the subscriber's dead letters are kept under.
    pub(crate) letters: String,
    pub(crate) store_failures: DeadLetterStoreFailures,
}

#[derive(Deserialize)]
struct Advisory {
    stream_seq: u64,
    deliveries: u64,
}

#[derive(Deserialize)]
struct GetResponse {
    message: Option<Stored>,
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Stored {
    #[serde(default)]
    hdrs: Option<String>,
    #[serde(default)]
    data: Option<String>,
}

/// Listens for the server giving up on `owner.consumer`'s messages in `stream`, until aborted.
pub(crate) async fn watch(shared: Arc<Shared>, stream: String, owner: Owner) {
    let subject = format!(
        "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{}",
        owner.consumer
    );
    let mut advisories = match shared.client.subscribe(subject).await {
        Ok(subscription) => subscription,
        Err(error) => {
            tracing::error!(consumer = owner.consumer, %error, "cannot watch for messages the server gives up on; such a message would be skipped without a dead letter");
            return;
        }
    };
    while let Some(message) = advisories.next().await {
        let Ok(advisory) = serde_json::from_slice::<Advisory>(&message.payload) else {
            continue;
        };
        if let Err(error) = keep(&shared, &stream, &owner, &advisory).await {
            owner.store_failures.record();
            tracing::error!(
                consumer = owner.consumer, sequence = advisory.stream_seq, %error,
                "the server gave up on a message and it cannot be stored as a dead letter; it \
                 stays in stream `{stream}` at that sequence (get it with `nats stream get`)"
            );
        }
    }
}

async fn keep(
    shared: &Shared,
    stream: &str,
    owner: &Owner,
    advisory: &Advisory,
) -> Result<(), String> {
    let request = serde_json::json!({ "seq": advisory.stream_seq }).to_string();
    let answer = shared
        .client
        .request(format!("$JS.API.STREAM.MSG.GET.{stream}"), request.into())
        .await
        .map_err(|e| format!("cannot fetch it: {e}"))?;
    let response: GetResponse = serde_json::from_slice(&answer.payload)
        .map_err(|e| format!("cannot read the server's answer: {e}"))?;
    let stored = match (response.message, response.error) {
        (Some(stored), _) => stored,
        (None, error) => return Err(format!("the server did not return it: {error:?}")),
    };
    let base64 = base64::engine::general_purpose::STANDARD;
    let decode = |field: Option<String>| {
        field
            .map(|text| base64.decode(text))
            .transpose()
            .map(Option::unwrap_or_default)
            .map_err(|e| format!("the server's answer is not base64: {e}"))
    };
    let (header_block, data) = (decode(stored.hdrs)?, decode(stored.data)?);
    let letter = letter(owner, advisory, &header_block, data);
    dead_letters::keep(shared, &owner.letters, &letter)
        .await
        .map_err(|e| e.to_string())
}

/// The dead letter of a message the server gave up on: its headers read with bytes that are
/// not UTF-8 replaced, its id the same in every process that gets the advisory (the stream
/// then stores it once).
fn letter(owner: &Owner, advisory: &Advisory, header_block: &[u8], data: Vec<u8>) -> DeadLetter {
    let readable = std::str::from_utf8(header_block).is_ok();
    let text = String::from_utf8_lossy(header_block);
    let headers: Vec<(&str, &str)> = text
        .lines()
        .skip(1) // NATS/1.0
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim(), value.trim()))
        .collect();
    let envelope = read_envelope(&headers, &data, owner.event_name)
        .unwrap_or_else(|_| Envelope::new(owner.event_name, data));
    let error = if readable {
        format!(
            "the server gave up after {} deliveries, the consumer's limit, without it being \
             settled (its dead letter could not be stored, or the subscriber never finished it)",
            advisory.deliveries
        )
    } else {
        format!(
            "header bytes are not UTF-8: the NATS client cannot read this message (it drops its \
             connection on it), so the server gave up after {} deliveries; headers kept with \
             the invalid bytes replaced",
            advisory.deliveries
        )
    };
    let consumer_hash = tidings_core::Key::Str(&owner.consumer).hash64();
    let id = DeadLetterId::from_uuid(uuid::Uuid::from_u64_pair(
        consumer_hash,
        advisory.stream_seq,
    ));
    let mut letter = DeadLetter::new(id, envelope);
    letter.subscriber = owner.subscriber.clone();
    letter.group = owner.group.clone();
    letter.event_name = owner.event_name.to_owned();
    letter.error = error;
    letter.attempts = u32::try_from(advisory.deliveries).unwrap_or(u32::MAX);
    letter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_that_are_not_utf8_are_read_with_replacements_and_say_so() {
        let owner = Owner {
            subscriber: "stock".to_owned(),
            group: "stock".to_owned(),
            event_name: "test.ping",
            consumer: "c".to_owned(),
            letters: "c".to_owned(),
            store_failures: DeadLetterStoreFailures::default(),
        };
        let advisory = Advisory {
            stream_seq: 7,
            deliveries: 11,
        };
        let block = b"NATS/1.0\r\nce-specversion: 1.0\r\n\
            ce-id: 0193a2c4-5b6e-7f00-8a1b-2c3d4e5f6071\r\nce-type: test.ping\r\n\
            ce-source: t\r\nce-time: 2026-11-21T18:00:00Z\r\n\
            note: \xff\xfe\r\nplain: yes\r\n\r\n";
        let letter = letter(&owner, &advisory, block, b"{}".to_vec());
        assert!(
            letter.error.starts_with("header bytes are not UTF-8"),
            "{}",
            letter.error
        );
        assert_eq!(letter.attempts, 11);
        assert_eq!(letter.envelope.headers["plain"], "yes");
        assert_eq!(letter.envelope.headers["note"], "\u{fffd}\u{fffd}");
        // Every process makes the same id of the same message.
        assert_eq!(
            letter.id,
            super::letter(&owner, &advisory, block, vec![]).id
        );
        assert_eq!(max_deliver(3), 14);
    }
}
