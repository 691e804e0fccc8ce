//! A NATS message as the consumer receives it: header names and values (any bytes the client
//! lets through), and a body.
#![no_main]

use arbitrary::Arbitrary;
use async_nats::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Message {
    headers: Option<Vec<(String, String)>>,
    body: Vec<u8>,
}

fuzz_target!(|message: Message| {
    let headers = message.headers.map(|pairs| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let (Ok(name), Ok(value)) =
                (name.parse::<HeaderName>(), value.parse::<HeaderValue>())
            {
                map.append(name, value);
            }
        }
        map
    });
    if let Ok(envelope) =
        tidings_nats::fuzzing::read_envelope(headers.as_ref(), &message.body, "fuzz.fallback")
    {
        tidings_fuzz::check_round_trips(&envelope);
    }
});
