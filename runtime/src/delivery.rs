//! What travels through a queue: an event (shared or encoded) plus its envelope attributes.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use crate::bus::Lineage;
use crate::dead_letter::Envelope;
use crate::event::{Event, EventId};
use crate::trace::TraceParent;

/// An event as the publisher handed it over, type-erased so one queue can carry any event.
pub trait SharedEvent: Any + Send + Sync {
    fn name(&self) -> &'static str;
    fn to_json(&self) -> serde_json::Result<Vec<u8>>;
    /// The event's structured CloudEvents JSON, in one pass.
    fn cloudevent_json(&self, meta: &Meta, source: &str) -> serde_json::Result<Vec<u8>>;
    fn subject(&self) -> Option<String>;
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl<E: Event> SharedEvent for E {
    fn name(&self) -> &'static str {
        E::NAME
    }

    fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(self)
    }

    fn cloudevent_json(&self, meta: &Meta, source: &str) -> serde_json::Result<Vec<u8>> {
        crate::wire::typed_cloudevent_json(self, meta, source)
    }

    fn subject(&self) -> Option<String> {
        self.key().map(|key| key.to_string())
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

/// The event itself: shared with the publisher (memory) or encoded (raw envelopes, brokers).
#[derive(Clone)]
pub enum Payload {
    Shared(Arc<dyn SharedEvent>),
    Json(Arc<[u8]>),
    /// A message whose envelope could not be read: handling it fails with this reason, so it
    /// reaches a dead letter with why.
    Unreadable {
        reason: Arc<str>,
        bytes: Arc<[u8]>,
    },
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Payload::Shared(event) => write!(f, "Shared({})", event.name()),
            Payload::Json(bytes) => write!(f, "Json({} bytes)", bytes.len()),
            Payload::Unreadable { reason, bytes } => {
                write!(f, "Unreadable({reason}, {} bytes)", bytes.len())
            }
        }
    }
}

impl Payload {
    /// The payload as JSON bytes, for dead-letter inspection.
    pub fn to_json(&self) -> Vec<u8> {
        match self {
            Payload::Shared(event) => event
                .to_json()
                .unwrap_or_else(|e| format!("\"<unserializable: {e}>\"").into_bytes()),
            Payload::Json(bytes) | Payload::Unreadable { bytes, .. } => bytes.to_vec(),
        }
    }

    /// The typed event for a subscriber of `E`; the same `Arc` the publisher made when it can be.
    pub fn decode<E: Event>(&self, version: u32) -> Result<Arc<E>, String> {
        if version != E::VERSION {
            return Err(format!(
                "cannot decode `{}` version {version}: this subscriber reads version {} only",
                E::NAME,
                E::VERSION
            ));
        }
        match self {
            Payload::Shared(event) => match Arc::clone(event).into_any().downcast::<E>() {
                Ok(event) => Ok(event),
                // Another Rust type carries the same name and version: go through its JSON form.
                Err(_) => Self::from_json(&event.to_json().map_err(|e| e.to_string())?),
            },
            Payload::Json(bytes) => Self::from_json(bytes),
            Payload::Unreadable { reason, .. } => Err(reason.to_string()),
        }
    }

    fn from_json<E: Event>(bytes: &[u8]) -> Result<Arc<E>, String> {
        serde_json::from_slice(bytes)
            .map(Arc::new)
            .map_err(|e| format!("cannot decode `{}` payload as JSON: {e}", E::NAME))
    }
}

impl Delivery {
    /// The delivery as it would travel on the wire.
    pub fn envelope(&self, event_type: &str, bus_source: &str) -> Envelope {
        let subject = match &self.payload {
            Payload::Shared(event) => event.subject(),
            Payload::Json(_) | Payload::Unreadable { .. } => self
                .meta
                .extras
                .as_ref()
                .and_then(|extras| extras.subject.clone()),
        };
        self.meta
            .envelope(event_type, self.payload.to_json(), subject, bus_source)
    }
}

impl Meta {
    /// The attributes and payload of an event that arrived as an envelope.
    pub fn from_envelope(envelope: Envelope) -> (Meta, Payload) {
        let Envelope {
            id,
            version,
            source,
            time,
            subject,
            correlation_id,
            causation_id,
            traceparent,
            headers,
            data,
            ..
        } = envelope;
        let key_hash = subject
            .as_deref()
            .map(|subject| crate::Key::Str(subject).hash64());
        let lineage = Lineage {
            correlation_id,
            causation_id,
            // W3C: a traceparent that cannot be parsed is ignored, and the trace restarts here.
            trace: traceparent.and_then(|text| text.parse().ok()),
        };
        let mut meta = Meta::new(id, time, version, lineage, key_hash);
        meta.extras = Some(Arc::new(Extras {
            source,
            subject,
            headers,
        }));
        (meta, Payload::Json(data.into()))
    }

    /// An envelope with these attributes around `data`.
    pub fn envelope(
        &self,
        event_type: &str,
        data: Vec<u8>,
        subject: Option<String>,
        bus_source: &str,
    ) -> Envelope {
        let mut envelope = Envelope::new(event_type, data).with_version(self.version);
        envelope.id = self.id;
        envelope.source = match self.extras.as_deref() {
            Some(extras) if !extras.source.is_empty() => extras.source.clone(),
            _ => bus_source.to_owned(),
        };
        envelope.time = self.time;
        envelope.subject = subject;
        envelope.correlation_id = Some(self.correlation_id);
        envelope.causation_id = self.causation_id;
        envelope.traceparent = self.trace.map(|trace| trace.to_string());
        envelope.headers = self
            .extras
            .as_ref()
            .map(|extras| extras.headers.clone())
            .unwrap_or_default();
        envelope
    }

    pub(crate) fn new(
        id: EventId,
        time: SystemTime,
        version: u32,
        lineage: Lineage,
        key_hash: Option<u64>,
    ) -> Self {
        Meta {
            id,
            version,
            key_hash,
            correlation_id: lineage.correlation_id.unwrap_or(id),
            causation_id: lineage.causation_id,
            trace: lineage.trace,
            time,
            extras: None,
        }
    }
}

/// Envelope attributes of one event, shared by all its deliveries.
#[derive(Debug, Clone)]
pub struct Meta {
    pub id: EventId,
    pub version: u32,
    pub key_hash: Option<u64>,
    pub correlation_id: EventId,
    pub causation_id: Option<EventId>,
    /// The span that published the event, in its trace.
    pub trace: Option<TraceParent>,
    pub time: SystemTime,
    /// Only events that came as envelopes have these; typed publishes keep the hot path small.
    pub extras: Option<Arc<Extras>>,
}

/// Envelope attributes a typed publish on this bus never sets.
#[derive(Debug, Default)]
pub struct Extras {
    /// Empty: published on this bus, whose source it has.
    pub source: String,
    pub subject: Option<String>,
    pub headers: BTreeMap<String, String>,
}

/// One event on its way to one subscriber.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub meta: Meta,
    pub payload: Payload,
    /// 1 on the first try.
    pub attempt: u32,
    /// When the first attempt failed, if one did.
    pub first_failed_at: Option<SystemTime>,
    /// The event's place in the durable journal; 0 when there is none (memory, brokers).
    pub(crate) seq: u64,
}

impl Delivery {
    /// A delivery of an event that arrived as a broker message, as attempt `attempt`.
    ///
    /// `envelope` is what the transport read from the message (headers and body, e.g. with
    /// [`Envelope::from_message`]). When it could not be read, the delivery still reaches a
    /// worker, as an unreadable payload of `event_name` whose handling fails with the read
    /// error: the message is dead-lettered with why, and never blocks the queue or kills a
    /// consumer.
    pub fn received(
        envelope: Result<Envelope, crate::WireError>,
        body: &[u8],
        event_name: &str,
        attempt: u32,
        first_failed_at: Option<SystemTime>,
    ) -> Delivery {
        let (meta, payload) = match envelope {
            Ok(envelope) => Meta::from_envelope(envelope),
            Err(error) => {
                let (meta, _) = Meta::from_envelope(Envelope::new(event_name, Vec::new()));
                let payload = Payload::Unreadable {
                    reason: error.to_string().into(),
                    bytes: body.into(),
                };
                (meta, payload)
            }
        };
        Delivery {
            meta,
            payload,
            attempt,
            first_failed_at,
            seq: 0,
        }
    }
}
