//! What every fuzz target checks once a decoder accepted its input: nothing panics, and an
//! accepted envelope can be written in each wire form and read back as the same event. A dead
//! letter or a redelivery re-encodes what was received, so an envelope that can be read but not
//! written back would fail inside a worker (issue 13: a `time` before 1970 did exactly that).

use tidings_core::Envelope;
use tidings_core::transport::wire::{AMQP_PREFIX, NATS_PREFIX, millis};

/// Writes `envelope` as structured JSON and in binary mode with each prefix, reads each back,
/// and checks that it is the same event.
pub fn check_round_trips(envelope: &Envelope) {
    let json = envelope.to_cloudevent_json();
    let back = Envelope::from_cloudevent_json(&json)
        .unwrap_or_else(|e| panic!("an accepted envelope must read back from its JSON: {e}"));
    assert_same(envelope, &back, "structured JSON");

    for prefix in [NATS_PREFIX, AMQP_PREFIX] {
        let headers = envelope.to_binary_headers(prefix);
        let back = Envelope::from_message(
            headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
            prefix,
            Some(&envelope.datacontenttype),
            &envelope.data,
            "fuzz.fallback",
            |_| false,
        )
        .unwrap_or_else(|e| {
            panic!("an accepted envelope must read back from `{prefix}` headers: {e}")
        });
        assert_same(envelope, &back, prefix);
    }
}

fn assert_same(sent: &Envelope, read: &Envelope, form: &str) {
    assert_eq!(sent.id, read.id, "id changed through {form}");
    assert_eq!(
        sent.event_type, read.event_type,
        "type changed through {form}"
    );
    assert_eq!(sent.version, read.version, "version changed through {form}");
    assert_eq!(sent.subject, read.subject, "subject changed through {form}");
    assert_eq!(sent.source, read.source, "source changed through {form}");
    assert_eq!(
        millis(sent.time),
        millis(read.time),
        "time changed through {form}"
    );
    assert_eq!(
        sent.correlation_id, read.correlation_id,
        "correlation id changed through {form}"
    );
    assert_eq!(
        sent.causation_id, read.causation_id,
        "causation id changed through {form}"
    );
    // Structured JSON carries a JSON payload as its value, without the whitespace around it.
    let sent_data = if form == "structured JSON" {
        json_text(&sent.data)
    } else {
        &sent.data
    };
    assert_eq!(sent_data, read.data, "payload changed through {form}");
}

/// `data` without the whitespace around it, if it is JSON (as the encoder judges it).
fn json_text(data: &[u8]) -> &[u8] {
    match serde_json::from_slice::<&serde_json::value::RawValue>(data) {
        Ok(raw) => raw.get().as_bytes(),
        Err(_) => data,
    }
}
