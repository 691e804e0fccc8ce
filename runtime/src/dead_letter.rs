//! Dead letters: deliveries that failed for good, kept for inspection, replay or discard.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use uuid::Uuid;

use crate::bus::Bus;
use crate::delivery::Delivery;
use crate::error::Result;
use crate::event::EventId;
use crate::worker::Running;

/// The id of one dead letter.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct DeadLetterId(Uuid);

impl DeadLetterId {
    pub(crate) fn new() -> Self {
        DeadLetterId(Uuid::now_v7())
    }

    pub(crate) fn to_bytes(self) -> [u8; 16] {
        self.0.into_bytes()
    }

    /// The id of a dead letter the broker made, which has none of its own: its event's id.
    pub fn from_uuid(uuid: Uuid) -> Self {
        DeadLetterId(uuid)
    }

    #[cfg(feature = "durable")]
    pub(crate) fn from_bytes(bytes: [u8; 16]) -> Self {
        DeadLetterId(Uuid::from_bytes(bytes))
    }
}

impl fmt::Display for DeadLetterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for DeadLetterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeadLetterId({})", self.0)
    }
}

impl FromStr for DeadLetterId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(DeadLetterId)
    }
}

/// An event one subscriber could not handle, with why and when.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeadLetter {
    /// This dead letter's id.
    pub id: DeadLetterId,
    /// The subscriber that gave up.
    pub subscriber: String,
    /// That subscriber's group.
    pub group: String,
    /// The event's name.
    pub event_name: String,
    /// The last attempt's error (or the decode error).
    pub error: String,
    /// Attempts made.
    pub attempts: u32,
    /// When the first attempt failed.
    pub first_failed_at: SystemTime,
    /// When the last attempt failed.
    pub last_failed_at: SystemTime,
    /// The event as it would travel on the wire.
    pub envelope: Envelope,
    /// Set when the payload was too large for the store: `envelope.data` then holds only its
    /// beginning, and the letter cannot be replayed.
    pub truncated: Option<Truncated>,
}

/// What a dead letter whose payload was cut to fit its store keeps of the whole: its size and
/// SHA-256, to find or check the original elsewhere (the publisher's logs, a replay source).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Truncated {
    /// The whole payload's size in bytes.
    pub size: u64,
    /// The whole payload's SHA-256, in lowercase hex.
    pub sha256: String,
}

impl Truncated {
    /// As a store recorded it.
    pub fn new(size: u64, sha256: String) -> Self {
        Truncated { size, sha256 }
    }

    /// What is kept of `whole`.
    pub fn of(whole: &[u8]) -> Self {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(whole);
        Truncated {
            size: u64::try_from(whole.len()).unwrap_or(u64::MAX),
            sha256: digest.iter().map(|byte| format!("{byte:02x}")).collect(),
        }
    }
}

impl fmt::Display for Truncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "payload truncated to fit the dead-letter store: {} bytes in all, sha256 {}",
            self.size, self.sha256
        )
    }
}

impl DeadLetter {
    /// A dead letter of `envelope` with nothing else known yet (no subscriber, no attempts,
    /// failed now): for a transport that rebuilds a dead letter from what it stored, field by
    /// field.
    pub fn new(id: DeadLetterId, envelope: Envelope) -> Self {
        let now = SystemTime::now();
        DeadLetter {
            id,
            subscriber: String::new(),
            group: String::new(),
            event_name: envelope.event_type.clone(),
            error: String::new(),
            attempts: 0,
            first_failed_at: now,
            last_failed_at: now,
            envelope,
            truncated: None,
        }
    }

    /// `Ok` if the letter can be replayed: [`Error::TruncatedPayload`] if its payload was
    /// truncated to fit its store, since replaying a part would hand a handler an event that
    /// was never published. Each transport's replay asks before it publishes.
    pub fn replayable(&self) -> Result<()> {
        match &self.truncated {
            None => Ok(()),
            Some(truncated) => Err(crate::Error::TruncatedPayload {
                id: self.id,
                truncated: truncated.clone(),
            }),
        }
    }

    /// The dead letter a subscriber makes of a delivery it gives up on.
    pub(crate) fn of(delivery: &Delivery, running: &Running, error: String, source: &str) -> Self {
        let now = SystemTime::now();
        DeadLetter {
            id: DeadLetterId::new(),
            subscriber: running.name.to_string(),
            group: running.group.to_string(),
            event_name: running.event_name.to_owned(),
            error,
            attempts: delivery.attempt,
            first_failed_at: delivery.first_failed_at.unwrap_or(now),
            last_failed_at: now,
            envelope: delivery.envelope(running.event_name, source),
            truncated: None,
        }
    }
}

/// An event with its CloudEvents attributes: what brokers carry, and what dead letters keep.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Envelope {
    /// CloudEvents `id`.
    pub id: EventId,
    /// CloudEvents `type`: the event name.
    pub event_type: String,
    /// The event's schema version.
    pub version: u32,
    /// CloudEvents `source`.
    pub source: String,
    /// CloudEvents `time`.
    pub time: SystemTime,
    /// CloudEvents `subject`: the ordering key.
    pub subject: Option<String>,
    /// CloudEvents `datacontenttype`.
    pub datacontenttype: String,
    /// First event of the causal chain.
    pub correlation_id: Option<EventId>,
    /// The event whose handler published this one.
    pub causation_id: Option<EventId>,
    /// W3C trace context.
    pub traceparent: Option<String>,
    /// Extra headers.
    pub headers: BTreeMap<String, String>,
    /// The payload bytes (JSON).
    pub data: Vec<u8>,
}

impl Envelope {
    /// An envelope for a payload of event `event_type`, version 1, with a fresh id.
    pub fn new(event_type: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        Envelope {
            id: EventId::new(),
            event_type: event_type.into(),
            version: 1,
            source: String::new(),
            time: SystemTime::now(),
            subject: None,
            datacontenttype: "application/json".to_owned(),
            correlation_id: None,
            causation_id: None,
            traceparent: None,
            headers: BTreeMap::new(),
            data: data.into(),
        }
    }

    /// Sets the schema version.
    pub fn with_version(mut self, version: u32) -> Self {
        self.version = version;
        self
    }

    /// Sets the ordering key.
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// The payload parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.data).ok()
    }
}

/// The bus's dead letters: `bus.dead_letters()`.
#[derive(Debug)]
pub struct DeadLetters<'a> {
    pub(crate) bus: &'a Bus,
}

impl DeadLetters<'_> {
    /// Every dead letter, oldest first.
    pub async fn list(&self) -> Result<Vec<DeadLetter>> {
        self.bus.transport().dead_letters().await
    }

    /// Every dead letter's summary, oldest first: its fields, the payload's size and first
    /// bytes, without loading whole payloads where the transport's store allows.
    pub async fn summaries(&self) -> Result<Vec<crate::DeadLetterSummary>> {
        self.bus.transport().dead_letter_summaries().await
    }

    /// One dead letter.
    pub async fn get(&self, id: &DeadLetterId) -> Result<Option<DeadLetter>> {
        self.bus.transport().dead_letter(id).await
    }

    /// Delivers the event again to the subscriber that dead-lettered it (and no other), starting
    /// from attempt 1. The dead letter is removed; if the event fails again, a new one is made.
    pub async fn replay(&self, id: &DeadLetterId) -> Result<()> {
        self.bus.replay(id).await
    }

    /// Removes a dead letter for good.
    pub async fn discard(&self, id: &DeadLetterId) -> Result<()> {
        self.bus.discard(id).await
    }

    /// [`replay`](Self::replay)s each of `ids` in one pass over the dead letters (on a broker
    /// whose lookup of one letter reads them all, one by one would be quadratic). Returns the
    /// ones that could not be replayed, with why; an error means none was tried.
    pub async fn replay_many(
        &self,
        ids: &[DeadLetterId],
    ) -> Result<Vec<(DeadLetterId, crate::Error)>> {
        self.bus.replay_many(ids).await
    }

    /// [`discard`](Self::discard)s each of `ids` in one pass; see
    /// [`replay_many`](Self::replay_many).
    pub async fn discard_many(
        &self,
        ids: &[DeadLetterId],
    ) -> Result<Vec<(DeadLetterId, crate::Error)>> {
        self.bus.discard_many(ids).await
    }
}
