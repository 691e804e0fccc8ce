#![doc = include_str!("docs/crate.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate self as tidings; // lets the derive macros be used inside this crate

mod builder;
mod bus;
mod context;
mod dead_letter;
mod delivery;
mod error;
mod event;
mod handler;
mod options;
mod state;
mod stats;
mod subscriber;
pub mod transport;

pub use builder::BusBuilder;
pub use bus::Bus;
pub use context::{Context, Headers};
pub use dead_letter::{DeadLetter, DeadLetterId, DeadLetters, Envelope};
pub use error::{Error, HandlerError, IntoHandlerResult, Result};
pub use event::{AsKey, Event, EventId, Key};
pub use handler::{EventArg, FromContext, Handler};
pub use options::{Backoff, Rate};
pub use state::{State, StateRequirement};
pub use stats::{Latency, Stats, SubscriberStats};
pub use subscriber::Subscriber;
/// Derives [`Event`]: `#[event(name = "..", version = N)]` on the type, `#[event(key)]` on one field.
pub use tidings_macros::Event;
/// Registers an async fn as a subscriber; see the crate docs for its options.
pub use tidings_macros::subscriber;

/// Everything a typical program needs: `use tidings::prelude::*;`.
pub mod prelude {
    pub use crate::{Bus, Context, Event, EventId, HandlerError, State, subscriber};
}

/// Used by the code the macros generate; not public API.
#[doc(hidden)]
pub mod __private {
    pub use std::sync::Arc;
    pub use std::time::Duration;

    pub use inventory;

    pub use crate::subscriber::Registration;
    pub use crate::{AsKey, Backoff, Context, Event, IntoHandlerResult, Key, Rate, State, Subscriber};

    /// Fails to compile, at the caller's span, unless `E` is an event.
    pub const fn assert_event<E: Event>() {}

    /// Fails to compile, at the caller's span, unless `R` is a valid handler return type.
    pub const fn assert_handler_result<R: IntoHandlerResult>() {}

    /// The owned event for a handler that takes it by value.
    pub fn unwrap_or_clone<E: Clone>(event: Arc<E>) -> E {
        Arc::unwrap_or_clone(event)
    }
}
