//! A dead letter in the form stores keep it: every field of [`DeadLetter`], times in
//! milliseconds, the envelope as structured CloudEvents JSON. The durable journal stores it by
//! id; the NATS dead-letter stream stores it with its id (the two formats are the same fields).

use serde::{Deserialize, Serialize};

use super::{WireError, from_millis, millis};
use crate::dead_letter::{DeadLetter, DeadLetterId, Envelope, Truncated};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredLetter {
    pub subscriber: String,
    pub group: String,
    pub event_name: String,
    pub error: String,
    pub attempts: u32,
    pub first_failed_ms: u64,
    pub last_failed_ms: u64,
    pub envelope: String,
    /// Absent unless the payload was truncated to fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Truncated>,
}

impl From<&DeadLetter> for StoredLetter {
    fn from(letter: &DeadLetter) -> Self {
        StoredLetter {
            subscriber: letter.subscriber.clone(),
            group: letter.group.clone(),
            event_name: letter.event_name.clone(),
            error: letter.error.clone(),
            attempts: letter.attempts,
            first_failed_ms: millis(letter.first_failed_at),
            last_failed_ms: millis(letter.last_failed_at),
            envelope: String::from_utf8_lossy(&letter.envelope.to_cloudevent_json()).into_owned(),
            truncated: letter.truncated.clone(),
        }
    }
}

impl StoredLetter {
    /// The dead letter this was, or why it cannot be read back.
    pub fn into_dead_letter(self, id: DeadLetterId) -> Result<DeadLetter, WireError> {
        Ok(DeadLetter {
            id,
            envelope: Envelope::from_cloudevent_json(self.envelope.as_bytes())?,
            subscriber: self.subscriber,
            group: self.group,
            event_name: self.event_name,
            error: self.error,
            attempts: self.attempts,
            first_failed_at: from_millis(self.first_failed_ms),
            last_failed_at: from_millis(self.last_failed_ms),
            truncated: self.truncated,
        })
    }
}
