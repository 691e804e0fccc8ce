//! An outgoing event in the forms transports store it in.

use super::Outgoing;
use crate::delivery::Payload;
use crate::error::{Error, Result};

impl Outgoing<'_> {
    /// The event as a structured CloudEvents JSON document; a typed event is written in one
    /// pass, straight from the value.
    pub(crate) fn to_cloudevent_json(&self) -> Result<Vec<u8>> {
        match &self.payload {
            Payload::Shared(event) => {
                event
                    .cloudevent_json(&self.meta, self.source)
                    .map_err(|source| Error::Serialize {
                        event: event.name(),
                        source,
                    })
            }
            Payload::Json(data) => {
                let subject = self
                    .meta
                    .extras
                    .as_ref()
                    .and_then(|extras| extras.subject.clone());
                let envelope =
                    self.meta
                        .envelope(self.event_name, data.to_vec(), subject, self.source);
                Ok(envelope.to_cloudevent_json())
            }
        }
    }
}
