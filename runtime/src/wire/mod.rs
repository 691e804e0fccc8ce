//! The wire format: an envelope as a structured-mode CloudEvents 1.0 JSON document.
//!
//! ```json
//! {"specversion":"1.0","id":"0193…","type":"orders.placed","source":"order-service",
//!  "time":"2026-11-21T18:00:00.123Z","subject":"42","datacontenttype":"application/json",
//!  "version":1,"correlationid":"0193…","causationid":null,"traceparent":null,
//!  "headers":{},"data":{"order_id":42,"sku":"apple","qty":3}}
//! ```
//!
//! A payload that is not JSON travels as `data_base64`, so nothing is lost on the way to a dead
//! letter. `version`, `correlationid`, `causationid` and `traceparent` are extension attributes;
//! `headers` carries the event's extra headers.
//!
//! Brokers with message headers carry the same attributes in binary mode instead (see
//! [`binary`]): one header per attribute, the payload as the message body.

pub(crate) mod binary;
mod fit;
mod letter;
mod serde_impls;
pub(crate) mod time;

pub use letter::StoredLetter;

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::dead_letter::Envelope;
use crate::delivery::Meta;
use crate::event::{Event, EventId};
use crate::trace::TraceParent;

#[derive(Serialize, Deserialize)]
struct Structured<'a> {
    specversion: &'a str,
    id: EventId,
    #[serde(rename = "type")]
    event_type: String,
    source: String,
    time: String,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default = "json_content_type")]
    datacontenttype: String,
    #[serde(default = "first_version")]
    version: u32,
    #[serde(default)]
    correlationid: Option<EventId>,
    #[serde(default)]
    causationid: Option<EventId>,
    #[serde(default)]
    traceparent: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    data: Option<&'a RawValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_base64: Option<String>,
}

fn json_content_type() -> String {
    "application/json".to_owned()
}

fn first_version() -> u32 {
    1
}

/// The same document for a typed event, written in one pass: the event is serialized straight
/// into `data`, with no intermediate payload buffer to build and validate again.
#[derive(Serialize)]
struct TypedStructured<'a, E> {
    specversion: &'a str,
    id: EventId,
    #[serde(rename = "type")]
    event_type: &'a str,
    source: &'a str,
    time: String,
    subject: Option<String>,
    datacontenttype: &'a str,
    version: u32,
    correlationid: EventId,
    causationid: Option<EventId>,
    traceparent: Option<TraceParent>,
    headers: BTreeMap<String, String>,
    data: &'a E,
}

/// The CloudEvents JSON of `event`, published on this bus (`source`) with attributes `meta`.
pub(crate) fn typed_cloudevent_json<E: Event>(
    event: &E,
    meta: &Meta,
    source: &str,
) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&TypedStructured {
        specversion: "1.0",
        id: meta.id,
        event_type: E::NAME,
        source,
        time: time::format(meta.time),
        subject: event.key().map(|key| key.to_string()),
        datacontenttype: "application/json",
        version: E::VERSION,
        correlationid: meta.correlation_id,
        causationid: meta.causation_id,
        traceparent: meta.trace,
        headers: BTreeMap::new(),
        data: event,
    })
}

/// Milliseconds since the Unix epoch, the precision the wire and the stores keep.
pub fn millis(time: std::time::SystemTime) -> u64 {
    u64::try_from(
        time.duration_since(std::time::SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(u64::MAX)
}

/// The inverse of [`millis`].
pub fn from_millis(millis: u64) -> std::time::SystemTime {
    std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(millis)
}

/// A malformed CloudEvents document.
#[derive(Debug, thiserror::Error)]
#[error("not a CloudEvents 1.0 JSON envelope: {0}")]
pub struct WireError(String);

impl WireError {
    /// A transport's own reason why a message is not a CloudEvent it can read.
    pub fn new(reason: impl Into<String>) -> Self {
        WireError(reason.into())
    }
}

impl Envelope {
    /// The envelope as a structured-mode CloudEvents JSON document.
    pub fn to_cloudevent_json(&self) -> Vec<u8> {
        let raw = serde_json::from_slice::<&RawValue>(&self.data).ok();
        let structured = Structured {
            specversion: "1.0",
            id: self.id,
            event_type: self.event_type.clone(),
            source: self.source.clone(),
            time: time::format(self.time),
            subject: self.subject.clone(),
            datacontenttype: self.datacontenttype.clone(),
            version: self.version,
            correlationid: self.correlation_id,
            causationid: self.causation_id,
            traceparent: self.traceparent.clone(),
            headers: self.headers.clone(),
            data: raw,
            data_base64: raw.is_none().then(|| BASE64.encode(&self.data)),
        };
        serde_json::to_vec(&structured).expect("an envelope always serializes")
    }

    /// Reads a structured-mode CloudEvents JSON document.
    pub fn from_cloudevent_json(bytes: &[u8]) -> Result<Envelope, WireError> {
        let structured: Structured<'_> =
            serde_json::from_slice(bytes).map_err(|e| WireError(e.to_string()))?;
        if structured.specversion != "1.0" {
            return Err(WireError(format!(
                "specversion `{}`, expected `1.0`",
                structured.specversion
            )));
        }
        let time = time::parse(&structured.time)
            .map_err(|e| WireError(format!("time `{}`: {e}", structured.time)))?;
        let data = match (structured.data, structured.data_base64) {
            (Some(raw), _) => raw.get().as_bytes().to_vec(),
            (None, Some(encoded)) => BASE64
                .decode(encoded)
                .map_err(|e| WireError(format!("data_base64: {e}")))?,
            (None, None) => Vec::new(),
        };
        let mut envelope =
            Envelope::new(structured.event_type, data).with_version(structured.version);
        envelope.id = structured.id;
        envelope.source = structured.source;
        envelope.time = time;
        envelope.subject = structured.subject;
        envelope.datacontenttype = structured.datacontenttype;
        envelope.correlation_id = structured.correlationid;
        envelope.causation_id = structured.causationid;
        envelope.traceparent = structured.traceparent;
        envelope.headers = structured.headers;
        Ok(envelope)
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn sample(data: &[u8]) -> Envelope {
        let mut envelope = Envelope::new("orders.placed", data.to_vec())
            .with_version(2)
            .with_subject("42")
            .with_header("tenant", "acme");
        envelope.source = "order-service".to_owned();
        envelope.correlation_id = Some(EventId::new());
        // The wire keeps milliseconds.
        envelope.time = from_millis(millis(envelope.time));
        envelope
    }

    #[test]
    fn json_payloads_round_trip_inline() {
        let envelope = sample(br#"{"order_id":42,"sku":"apple"}"#);
        let wire = envelope.to_cloudevent_json();
        let text = String::from_utf8(wire.clone()).unwrap();
        assert!(
            text.contains(r#""data":{"order_id":42,"sku":"apple"}"#),
            "{text}"
        );
        assert!(
            text.contains(r#""specversion":"1.0""#) && text.contains(r#""type":"orders.placed""#)
        );
        assert_eq!(Envelope::from_cloudevent_json(&wire).unwrap(), envelope);
    }

    #[test]
    fn a_typed_event_written_in_one_pass_reads_back_as_its_envelope() {
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, crate::Event)]
        #[event(name = "orders.placed", version = 3)]
        struct Placed {
            #[event(key)]
            order_id: u64,
        }
        let traceparent: TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .unwrap();
        let lineage = crate::bus::Lineage {
            trace: Some(traceparent),
            ..Default::default()
        };
        let time = from_millis(millis(SystemTime::now()));
        let meta = Meta::new(EventId::new(), time, 3, lineage, None);
        let wire = typed_cloudevent_json(&Placed { order_id: 42 }, &meta, "shop").unwrap();
        let envelope = Envelope::from_cloudevent_json(&wire).unwrap();
        assert_eq!(
            (envelope.id, envelope.event_type.as_str(), envelope.version),
            (meta.id, "orders.placed", 3)
        );
        assert_eq!(
            (
                envelope.source.as_str(),
                envelope.subject.as_deref(),
                envelope.time
            ),
            ("shop", Some("42"), time)
        );
        assert_eq!(envelope.correlation_id, Some(meta.id));
        assert_eq!(
            envelope.traceparent.as_deref(),
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        );
        assert_eq!(envelope.data, br#"{"order_id":42}"#);
        // And back into the attributes a delivery carries.
        assert_eq!(Meta::from_envelope(envelope).0.trace, Some(traceparent));
    }

    #[test]
    fn other_payloads_round_trip_as_base64() {
        let envelope = sample(b"{not json");
        let wire = envelope.to_cloudevent_json();
        assert!(
            String::from_utf8(wire.clone())
                .unwrap()
                .contains(r#""data_base64":"e25vdCBqc29u""#)
        );
        assert_eq!(Envelope::from_cloudevent_json(&wire).unwrap(), envelope);
    }

    #[test]
    fn foreign_documents_get_defaults_and_bad_ones_a_clear_error() {
        let minimal = br#"{"specversion":"1.0","id":"0193a7e2-0000-7000-8000-000000000000","type":"t","source":"s","time":"2026-11-21T18:00:00Z","data":{"a":1}}"#;
        let envelope = Envelope::from_cloudevent_json(minimal).unwrap();
        assert_eq!(
            (envelope.version, envelope.data.as_slice()),
            (1, br#"{"a":1}"#.as_slice())
        );
        let error = Envelope::from_cloudevent_json(b"[1,2]").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("not a CloudEvents 1.0 JSON envelope: "),
            "{error}"
        );
    }
}
