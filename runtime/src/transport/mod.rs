//! The transport API: how events travel from publishers to subscribers' queues, and how to add
//! a transport of your own.
//!
//! | transport | URL | crate | feature of `tidings` |
//! |---|---|---|---|
//! | memory | `memory://` (default) | `tidings-core` | always there |
//! | local durable | `file://PATH` | `tidings-core` | `durable` (default) |
//! | NATS JetStream | `nats://` | `tidings-nats` | `nats` |
//! | RabbitMQ | `amqp://` | `tidings-amqp` | `amqp` |
//!
//! # Adding a transport
//!
//! A transport is a crate that depends on `tidings-core` and implements three traits:
//!
//! - [`Transport`]: declare a subscriber's queue ([`Transport::subscribe`]), store an event for
//!   every subscriber of it ([`Transport::publish`]), keep dead letters, tail, wait for idle and
//!   close. [`Capabilities`] says what it can honour; `build()` refuses the rest by name.
//! - [`Consumer`]: where one subscriber's workers [`fetch`](Consumer::fetch) deliveries and
//!   [`settle`](Consumer::settle) them with an [`Outcome`]. The bus decides the outcome (decoding,
//!   handler, timeout, panic, retries, dead letter); the transport only carries it out.
//! - [`Connect`]: open the transport from a parsed [`TransportUrl`].
//!
//! It then names its URL scheme with [`register_scheme!`](crate::register_scheme) and passes
//! the conformance suite (crate `tidings-conformance`) with one line:
//!
//! ```text
//! tidings_conformance::suite!(MyBackend::new(), #[tokio::test]);
//! ```
//!
//! `examples/custom_transport/` in the repository is a complete transport written this way
//! (`twin://`, an in-process engine of its own), with a step-by-step README.
//!
//! A transport in this workspace is also listed in `tidings`' scheme list (one line in
//! `runtime/facade/src/schemes.rs`) behind a feature of its name, so that users select it by
//! URL. Broker transports are called through a boxed future per call (dynamic dispatch); the
//! memory and file transports, which the hot path runs on, are called directly.
//!
//! Brokers share this crate's machinery rather than each writing their own:
//!
//! - receipts: a [`Consumer::Receipt`] (an ack handle, an offset) travels with each delivery
//!   from `fetch` to `settle`, so no transport keeps a table of what its workers hold;
//! - [`inbox`]: the pump → bounded channel → workers pipeline, with the receipts;
//! - [`Delivery::received`]: one decode path, where a message whose envelope cannot be read
//!   still becomes a delivery that the worker dead-letters with the read error;
//! - [`Lanes`]: per-key parking for a consumer that holds a window of one partition's
//!   deliveries, so a failing key holds back only its own later events;
//! - the [`wire`] format (binary-mode headers and structured JSON), the key [`partition`]
//!   function, and [`TransportUrl`], the URL parser that hides credentials in every message;
//! - [`Error::broker`](crate::Error::broker) with
//!   [`caused_by`](crate::Error::caused_by), which keeps the client library's error as the
//!   source.

mod any;
mod contract;
#[cfg(feature = "durable")]
pub(crate) mod durable;
#[cfg(not(feature = "durable"))]
#[path = "durable_disabled.rs"]
pub(crate) mod durable;
mod dynamic;
mod inbox;
mod lanes;
pub(crate) mod memory;
mod outgoing;
pub mod partition;
mod scheme;
mod store_failures;
mod url;

pub(crate) use any::{AnyConsumer, AnyTransport};
pub use contract::{Capabilities, Consumer, Outcome, Outgoing, Transport};
pub use dynamic::Connect;
pub use inbox::{Inbox, InboxClosed, InboxSender, inbox};
pub use lanes::Lanes;
pub use scheme::Scheme;
pub(crate) use scheme::open;
pub use store_failures::DeadLetterStoreFailures;
pub use url::TransportUrl;

pub use crate::delivery::{Delivery, Meta, Payload};
pub use crate::tail::{TailSender, channel as tail_channel};

/// The wire format brokers share: CloudEvents attributes as message headers (binary mode) and
/// the dead letter as stored.
pub mod wire {
    pub use crate::wire::binary::{AMQP_PREFIX, ATTRIBUTES, NATS_PREFIX};
    pub use crate::wire::time::format as format_time;
    pub use crate::wire::{StoredLetter, from_millis, millis};
}
