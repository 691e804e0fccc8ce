//! Interoperability with programs in other languages: the Python clients next to this file
//! (nats-py, pika) publish CloudEvents that tidings subscribers receive typed, and read what
//! tidings publishes. The cases are written once, over [`Foreign`]; a broker suite runs them
//! with `interop_suite!`.

pub(crate) mod cases;
mod client;
mod python;

pub(crate) use client::Client;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tidings::{Event, EventId, Key};

use tidings_conformance::Backend;

/// The event the clients and tidings exchange: keyed, and of a version other than 1, so that
/// `subject` and `version` must travel too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Event)]
#[event(name = "orders.placed", version = 2)]
pub(crate) struct OrderPlaced {
    #[event(key)]
    pub(crate) order_id: u64,
    pub(crate) sku: String,
    pub(crate) qty: u32,
}

/// A broker backend with a Python client, and what its wire looks like from outside.
pub(crate) trait Foreign: Backend {
    /// The broker's client, pointed at this backend's broker and namespace.
    fn client(&self) -> Client;

    /// The prefix of CloudEvents attribute headers on this broker.
    fn prefix(&self) -> &'static str;

    /// Where an event named `event` with `key` travels, as the clients print it
    /// (`"transport"`), the same for what they publish and what they read: the NATS subject
    /// and stream, the AMQP exchange.
    fn route(&self, event: &str, key: Key<'_>) -> Value;

    /// What a message tidings published with `id` carries beside the attribute headers:
    /// the broker's own headers, then (`"properties"`) its message properties.
    fn transport_headers(&self, id: EventId) -> Vec<(String, String)>;
    fn properties(&self, id: EventId) -> Value;
}

/// One test per case, each on a fresh `$backend`.
macro_rules! interop_suite {
    ($backend:expr, #[$test:meta]) => {
        interop_suite!(@cases $backend, #[$test];
            python_publishes_binary_mode_and_a_subscriber_receives_it_typed,
            python_publishes_structured_mode_and_a_subscriber_receives_it_typed,
            python_reads_what_tidings_publishes,
            a_malformed_body_from_python_is_dead_lettered_with_its_decode_error,
        );
    };
    (@cases $backend:expr, #[$test:meta]; $($case:ident,)*) => {$(
        #[$test]
        async fn $case() {
            let backend = $backend;
            crate::interop::cases::$case(&backend).await;
        }
    )*};
}
