//! Structured-mode CloudEvents JSON, as a file:// journal, a dead letter or a foreign producer
//! holds it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tidings_core::Envelope;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::from_cloudevent_json(data) {
        tidings_fuzz::check_round_trips(&envelope);
    }
});
