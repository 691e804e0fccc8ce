//! What a listing shows of a dead letter: its fields, the payload's size and a short preview,
//! never the whole payload. A 50 MB letter listed whole cost seconds and hundreds of MB (issue
//! 13); `get` still loads one letter whole.

use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::dead_letter::{DeadLetter, DeadLetterId};
use crate::event::EventId;

/// Bytes of the payload a summary keeps, cut back to whole characters.
pub(crate) const PREVIEW_BYTES: usize = 160;

/// A dead letter without its payload: what `dlq list` and `GET /v1/dead-letters` show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeadLetterSummary {
    /// The dead letter's id.
    pub id: DeadLetterId,
    /// The subscriber that gave up.
    pub subscriber: String,
    /// That subscriber's group.
    pub group: String,
    /// The event's name.
    #[serde(rename = "event")]
    pub event_name: String,
    /// The last attempt's error (or the decode error).
    pub error: String,
    /// Attempts made.
    pub attempts: u32,
    /// When the first attempt failed.
    #[serde(with = "rfc3339")]
    pub first_failed_at: SystemTime,
    /// When the last attempt failed.
    #[serde(with = "rfc3339")]
    pub last_failed_at: SystemTime,
    /// The event's CloudEvents id.
    pub event_id: EventId,
    /// The event's ordering key (CloudEvents `subject`), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The whole payload's size in bytes (before any truncation to fit the store).
    pub payload_size: u64,
    /// The payload's first bytes as text (invalid UTF-8 replaced).
    pub preview: String,
    /// Whether the store kept only part of the payload (then it cannot be replayed).
    pub truncated: bool,
}

impl DeadLetterSummary {
    /// The summary of a whole letter.
    pub fn of(letter: &DeadLetter) -> Self {
        let data = &letter.envelope.data;
        let payload_size = letter.truncated.as_ref().map_or_else(
            || u64::try_from(data.len()).unwrap_or(u64::MAX),
            |truncated| truncated.size,
        );
        DeadLetterSummary {
            id: letter.id,
            subscriber: letter.subscriber.clone(),
            group: letter.group.clone(),
            event_name: letter.event_name.clone(),
            error: letter.error.clone(),
            attempts: letter.attempts,
            first_failed_at: letter.first_failed_at,
            last_failed_at: letter.last_failed_at,
            event_id: letter.envelope.id,
            subject: letter.envelope.subject.clone(),
            payload_size,
            preview: preview(data),
            truncated: letter.truncated.is_some(),
        }
    }
}

/// The first [`PREVIEW_BYTES`] of `data` as text, never cutting a character in two.
pub(crate) fn preview(data: &[u8]) -> String {
    let mut head = &data[..data.len().min(PREVIEW_BYTES)];
    if let Err(error) = std::str::from_utf8(head) {
        // A character cut at the end is dropped; bytes invalid elsewhere are replaced.
        if error.error_len().is_none() {
            head = &head[..error.valid_up_to()];
        }
    }
    String::from_utf8_lossy(head).into_owned()
}

mod rfc3339 {
    use super::*;

    pub(super) fn serialize<S: Serializer>(time: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        crate::wire::time::format(*time).serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(d)?;
        crate::wire::time::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dead_letter::{Envelope, Truncated};

    #[test]
    fn a_preview_keeps_whole_characters_and_the_size_is_the_whole_payload() {
        let mut text = "a".repeat(PREVIEW_BYTES - 1);
        text.push('é'); // two bytes, the second past the limit
        let letter = DeadLetter::new(DeadLetterId::new(), Envelope::new("e", text.clone()));
        let summary = DeadLetterSummary::of(&letter);
        assert_eq!(summary.preview, "a".repeat(PREVIEW_BYTES - 1));
        assert_eq!(summary.payload_size, text.len() as u64);
        assert!(!summary.truncated);

        let mut cut = letter.clone();
        cut.truncated = Some(Truncated::new(50_000_000, "00".repeat(32)));
        let summary = DeadLetterSummary::of(&cut);
        assert_eq!(summary.payload_size, 50_000_000);
        assert!(summary.truncated);
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["event"], "e");
        // Times travel as RFC 3339 with milliseconds, so the round trip is compared as JSON.
        let back: DeadLetterSummary = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), json);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_replaced() {
        assert_eq!(preview(b"\xff\xfeok"), "\u{fffd}\u{fffd}ok");
    }
}
