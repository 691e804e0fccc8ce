//! An outgoing event in the forms transports store it in.

use super::Outgoing;
use crate::dead_letter::Envelope;
use crate::delivery::{Delivery, Payload};
use crate::error::{Error, Result};

impl Outgoing<'_> {
    /// Its first delivery to a subscriber, sharing the event itself (an in-process transport
    /// hands subscribers the publisher's own `Arc`).
    pub fn delivery(&self) -> Delivery {
        Delivery {
            meta: self.meta.clone(),
            payload: self.payload.clone(),
            attempt: 1,
            first_failed_at: None,
            seq: 0,
        }
    }

    /// The event as an envelope, its payload JSON: what a broker carries in binary mode.
    pub fn to_envelope(&self) -> Result<Envelope> {
        let (data, subject) = match &self.payload {
            Payload::Shared(event) => {
                let data = event.to_json().map_err(|source| Error::Serialize {
                    event: event.name(),
                    source,
                })?;
                (data, event.subject())
            }
            Payload::Json(data) | Payload::Unreadable { bytes: data, .. } => {
                (data.to_vec(), self.subject())
            }
        };
        Ok(self
            .meta
            .envelope(self.event_name, data, subject, self.source))
    }

    fn subject(&self) -> Option<String> {
        self.meta
            .extras
            .as_ref()
            .and_then(|extras| extras.subject.clone())
    }

    /// The event as a structured CloudEvents JSON document; a typed event is written in one
    /// pass, straight from the value.
    pub fn to_cloudevent_json(&self) -> Result<Vec<u8>> {
        match &self.payload {
            Payload::Shared(event) => {
                event
                    .cloudevent_json(&self.meta, self.source)
                    .map_err(|source| Error::Serialize {
                        event: event.name(),
                        source,
                    })
            }
            Payload::Json(_) | Payload::Unreadable { .. } => {
                Ok(self.to_envelope()?.to_cloudevent_json())
            }
        }
    }
}
