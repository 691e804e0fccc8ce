//! `Serialize`/`Deserialize` for [`Envelope`] and [`DeadLetter`], the JSON that the admin
//! endpoint serves and `tidings dlq list --json` prints: an envelope is its structured-mode
//! CloudEvents document, a dead letter its fields with RFC 3339 times and that envelope inside.

use std::time::SystemTime;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use super::time;
use crate::dead_letter::{DeadLetter, DeadLetterId, Envelope};

impl Serialize for Envelope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let json = self.to_cloudevent_json();
        let raw: &RawValue = serde_json::from_slice(&json).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Envelope::from_cloudevent_json(raw.get().as_bytes()).map_err(D::Error::custom)
    }
}

#[derive(Serialize, Deserialize)]
struct LetterJson {
    id: DeadLetterId,
    subscriber: String,
    group: String,
    event: String,
    error: String,
    attempts: u32,
    first_failed_at: String,
    last_failed_at: String,
    envelope: Envelope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    truncated: Option<crate::dead_letter::Truncated>,
}

fn rfc3339(time: SystemTime) -> String {
    time::format(time)
}

impl Serialize for DeadLetter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        LetterJson {
            id: self.id,
            subscriber: self.subscriber.clone(),
            group: self.group.clone(),
            event: self.event_name.clone(),
            error: self.error.clone(),
            attempts: self.attempts,
            first_failed_at: rfc3339(self.first_failed_at),
            last_failed_at: rfc3339(self.last_failed_at),
            envelope: self.envelope.clone(),
            truncated: self.truncated.clone(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for DeadLetter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = LetterJson::deserialize(deserializer)?;
        let parse = |text: &str| {
            time::parse(text).map_err(|e| D::Error::custom(format!("time `{text}`: {e}")))
        };
        Ok(DeadLetter {
            id: json.id,
            subscriber: json.subscriber,
            group: json.group,
            event_name: json.event,
            error: json.error,
            attempts: json.attempts,
            first_failed_at: parse(&json.first_failed_at)?,
            last_failed_at: parse(&json.last_failed_at)?,
            envelope: json.envelope,
            truncated: json.truncated,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_letter_reads_back_what_it_wrote() {
        let mut envelope = Envelope::new("orders.placed", br#"{"order_id":7}"#.to_vec())
            .with_subject("7")
            .with_header("tenant", "acme");
        // The wire keeps milliseconds.
        envelope.time = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(3_000);
        let letter = DeadLetter {
            id: DeadLetterId::new(),
            subscriber: "reserve_stock".into(),
            group: "stock".into(),
            event_name: "orders.placed".into(),
            error: "out of stock".into(),
            attempts: 5,
            first_failed_at: SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_000),
            last_failed_at: SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(2_500),
            envelope,
            truncated: None,
        };
        let json = serde_json::to_value(&letter).unwrap();
        assert_eq!(json["event"], "orders.placed");
        assert_eq!(json["last_failed_at"], "1970-01-01T00:00:02.500Z");
        assert_eq!(json["envelope"]["data"]["order_id"], 7);
        let back: DeadLetter = serde_json::from_value(json).unwrap();
        assert_eq!(back.id, letter.id);
        assert_eq!(back.envelope, letter.envelope);
        assert_eq!(back.last_failed_at, letter.last_failed_at);
        assert_eq!(back.attempts, 5);
    }
}
