//! Binary-mode CloudEvents: attribute headers with the NATS (`ce-`) or AMQP (`cloudEvents:`)
//! prefix, extra headers, a content type and a body, as any producer may send them.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tidings_core::Envelope;
use tidings_core::transport::wire::{AMQP_PREFIX, NATS_PREFIX};

#[derive(Arbitrary, Debug)]
struct Message {
    amqp: bool,
    headers: Vec<(String, String)>,
    content_type: Option<String>,
    body: Vec<u8>,
}

fuzz_target!(|message: Message| {
    let prefix = if message.amqp {
        AMQP_PREFIX
    } else {
        NATS_PREFIX
    };
    let read = Envelope::from_message(
        message
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
        prefix,
        message.content_type.as_deref(),
        &message.body,
        "fuzz.fallback",
        |name| name.starts_with("x-") || name.starts_with("tidings-"),
    );
    if let Ok(envelope) = read {
        tidings_fuzz::check_round_trips(&envelope);
    }
});
