//! Binary-mode CloudEvents: each attribute a header named `{prefix}{attribute}` (`ce-id`,
//! `ce-type`, … on NATS; `cloudEvents:id`, … on AMQP), the content type in the transport's own
//! content-type field, the JSON payload as the body. Other headers are the event's extra headers.
//!
//! Reading is lenient with foreign producers: a message without a `{prefix}id` header is read as
//! a structured CloudEvents document if it is one, and otherwise as a bare payload of the
//! subscriber's event, so that what cannot be decoded still reaches a dead letter with why.

use super::WireError;
use crate::dead_letter::Envelope;
use crate::event::EventId;

/// The CloudEvents AMQP binding's header prefix.
pub const AMQP_PREFIX: &str = "cloudEvents:";
/// The prefix of CloudEvents attribute headers on NATS, as in CloudEvents' HTTP and Kafka
/// bindings.
pub const NATS_PREFIX: &str = "ce-";

pub const ATTRIBUTES: [&str; 10] = [
    "specversion",
    "id",
    "type",
    "source",
    "time",
    "subject",
    "version",
    "correlationid",
    "causationid",
    "traceparent",
];

impl Envelope {
    /// The envelope's attributes and extra headers as `(name, value)` pairs; the payload travels
    /// as the body and `datacontenttype` as the transport's content type.
    pub fn to_binary_headers(&self, prefix: &str) -> Vec<(String, String)> {
        let attribute = |name: &str, value: String| (format!("{prefix}{name}"), value);
        let mut headers = vec![
            attribute("specversion", "1.0".to_owned()),
            attribute("id", self.id.to_string()),
            attribute("type", self.event_type.clone()),
            attribute("source", self.source.clone()),
            attribute("time", super::time::format(self.time)),
            attribute("version", self.version.to_string()),
        ];
        let optional = [
            ("subject", self.subject.clone()),
            (
                "correlationid",
                self.correlation_id.map(|id| id.to_string()),
            ),
            ("causationid", self.causation_id.map(|id| id.to_string())),
            ("traceparent", self.traceparent.clone()),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                headers.push(attribute(name, value));
            }
        }
        headers.extend(self.headers.clone());
        headers
    }

    /// Reads a message: binary mode if it has a `{prefix}id` header, else structured mode, else
    /// a bare payload of `fallback_type`. `reserved` tells transport headers (such as
    /// `Nats-Msg-Id`) from extra headers.
    pub fn from_message<'h>(
        headers: impl IntoIterator<Item = (&'h str, &'h str)>,
        prefix: &str,
        content_type: Option<&str>,
        data: &[u8],
        fallback_type: &str,
        reserved: impl Fn(&str) -> bool,
    ) -> Result<Envelope, WireError> {
        let mut attributes = std::collections::HashMap::new();
        let mut extra = std::collections::BTreeMap::new();
        for (name, value) in headers {
            match name.strip_prefix(prefix) {
                Some(attribute) if ATTRIBUTES.contains(&attribute) => {
                    attributes.insert(attribute, value);
                }
                _ if reserved(name) => {}
                _ => {
                    extra.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let Some(id) = attributes.get("id") else {
            return Ok(Envelope::from_cloudevent_json(data)
                .unwrap_or_else(|_| Envelope::new(fallback_type, data.to_vec())));
        };
        let bad = |name: &str, error: &dyn std::fmt::Display| {
            WireError(format!("header `{prefix}{name}`: {error}"))
        };
        let event_id = |name: &str| -> Result<Option<EventId>, WireError> {
            attributes
                .get(name)
                .map(|value| value.parse().map_err(|e| bad(name, &e)))
                .transpose()
        };
        let mut envelope = Envelope::new(
            attributes.get("type").copied().unwrap_or(fallback_type),
            data.to_vec(),
        );
        envelope.id = id.parse().map_err(|e| bad("id", &e))?;
        if let Some(version) = attributes.get("version") {
            envelope.version = version.parse().map_err(|e| bad("version", &e))?;
        }
        if let Some(time) = attributes.get("time") {
            envelope.time = super::time::parse(time).map_err(|e| bad("time", &e))?;
        }
        envelope.source = attributes
            .get("source")
            .map(|s| (*s).to_owned())
            .unwrap_or_default();
        envelope.subject = attributes.get("subject").map(|s| (*s).to_owned());
        envelope.correlation_id = event_id("correlationid")?;
        envelope.causation_id = event_id("causationid")?;
        envelope.traceparent = attributes.get("traceparent").map(|s| (*s).to_owned());
        if let Some(content_type) = content_type {
            envelope.datacontenttype = content_type.to_owned();
        }
        envelope.headers = extra;
        Ok(envelope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_headers_round_trip_and_foreign_messages_are_read_leniently() {
        let mut envelope = Envelope::new("orders.placed", br#"{"order_id":42}"#.to_vec())
            .with_version(2)
            .with_subject("42")
            .with_header("tenant", "acme");
        envelope.source = "shop".to_owned();
        envelope.correlation_id = Some(EventId::new());
        envelope.traceparent =
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned());
        envelope.time = humantime::parse_rfc3339("2026-11-21T18:00:00.123Z").unwrap();
        let headers = envelope.to_binary_headers("ce-");
        assert!(headers.contains(&("ce-type".to_owned(), "orders.placed".to_owned())));
        assert!(headers.contains(&(
            "ce-traceparent".to_owned(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned()
        )));
        assert!(headers.contains(&("tenant".to_owned(), "acme".to_owned())));
        let mut with_transport = headers.clone();
        with_transport.push(("Nats-Msg-Id".to_owned(), "x".to_owned()));
        let pairs = with_transport.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        let reserved = |name: &str| name.starts_with("Nats-");
        let read = Envelope::from_message(
            pairs,
            "ce-",
            Some("application/json"),
            &envelope.data,
            "unused",
            reserved,
        )
        .unwrap();
        assert_eq!(read, envelope);

        // A bare payload from a producer that knows nothing of CloudEvents.
        let bare =
            Envelope::from_message([], "ce-", None, b"{oops", "orders.placed", reserved).unwrap();
        assert_eq!(
            (bare.event_type.as_str(), bare.data.as_slice()),
            ("orders.placed", b"{oops".as_slice())
        );

        // A structured document without headers.
        let structured = envelope.to_cloudevent_json();
        let read =
            Envelope::from_message([], "ce-", None, &structured, "unused", reserved).unwrap();
        assert_eq!(read, envelope);

        // A binary message with a broken attribute says which.
        let error = Envelope::from_message(
            [("ce-id", "not-an-id")],
            "ce-",
            None,
            b"{}",
            "orders.placed",
            reserved,
        )
        .unwrap_err();
        assert!(error.to_string().contains("header `ce-id`"), "{error}");
    }
}
