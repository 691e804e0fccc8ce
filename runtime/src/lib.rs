//! The engine of [tidings](https://docs.rs/tidings): the bus, its workers, the memory and file
//! transports, and the public [`transport`] API that broker transports are written on.
//!
//! Applications depend on `tidings`, which re-exports this crate whole and links the broker
//! transports its features select; a transport crate depends on this one.
#![cfg_attr(docsrs, feature(doc_cfg))]

// Lets the crate's own tests use its derive macros, which name `::tidings`.
#[cfg(test)]
extern crate self as tidings;

#[cfg(feature = "admin")]
pub mod admin;
mod builder;
mod bus;
mod context;
mod dead_letter;
mod delivery;
mod error;
mod event;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod handler;
mod letter_summary;
pub mod metrics;
mod name;
mod options;
mod recorder;
mod state;
mod stats;
mod subscriber;
mod tail;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod topology;
mod trace;
pub mod transport;
mod wire;
mod worker;

pub use builder::BusBuilder;
pub use bus::Bus;
pub use context::{Context, Headers};
pub use dead_letter::{DeadLetter, DeadLetterId, DeadLetters, Envelope, Truncated};
pub use error::{Error, HandlerError, IntoHandlerResult, Result};
pub use event::{AsKey, Event, EventId, Key};
pub use handler::{EventArg, FromContext, Handler};
pub use letter_summary::DeadLetterSummary;
pub use name::check_event_name;
pub use options::{Backoff, Rate};
pub use state::{State, StateRequirement};
pub use stats::{Latency, Stats, SubscriberStats};
pub use subscriber::Subscriber;
pub use tail::Tail;
/// Derives [`Event`]: `#[event(name = "..", version = N)]` on the type, `#[event(key)]` on one field.
pub use tidings_macros::Event;
/// Registers an async fn as a subscriber; see the crate docs for its options.
pub use tidings_macros::subscriber;
pub use topology::schema::FieldSchema;
pub use topology::{EventInfo, FieldInfo, GroupInfo, SubscriberInfo, Topology};
pub use trace::{SpanId, TraceId, TraceParent, TraceParentError};
pub use wire::WireError;

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
    pub use crate::topology::declaration::{
        Declaration, EventRegistration, FieldDeclaration, PayloadShape, ProbedSchema,
        event_registration,
    };
    pub use crate::topology::schema::{KnownSchema, SchemaProbe, UnknownSchema, any_value};
    pub use crate::{
        AsKey, Backoff, Context, Event, IntoHandlerResult, Key, Rate, State, Subscriber,
    };

    /// Fails to compile, at the caller's span, unless `E` is an event.
    pub const fn assert_event<E: Event>() {}

    /// Fails to compile, at the caller's span, unless `R` is a valid handler return type.
    pub const fn assert_handler_result<R: IntoHandlerResult>() {}

    /// The owned event for a handler that takes it by value.
    pub fn unwrap_or_clone<E: Clone>(event: Arc<E>) -> E {
        Arc::unwrap_or_clone(event)
    }

    /// Fails to compile, at the caller's span, unless `T` can be a handler's `State<T>`.
    pub const fn assert_state<T: Clone + Send + Sync + 'static>() {}

    /// The event type `E`, return type `R` and tuple of `State<T>` types `S` of a `#[subscriber]`
    /// fn. The macro calls `(&&HandlerTypes::<E, R, S>::of()).build(..)`: method lookup picks
    /// [`BuildSubscriber`] when all are valid and [`SkipSubscriber`] otherwise (autoref
    /// specialization), so a wrong type is reported once, by the `assert_*` function at the
    /// user's type, and not again as "closure cannot handle events" at the attribute.
    #[derive(Debug)]
    pub struct HandlerTypes<E, R, S>(std::marker::PhantomData<(E, R, S)>);

    impl<E, R, S> HandlerTypes<E, R, S> {
        pub const fn of() -> Self {
            HandlerTypes(std::marker::PhantomData)
        }
    }

    /// A tuple of types that can all be `State<T>`.
    pub trait StateTypes {}

    macro_rules! state_types {
        ($($state:ident),*) => {
            impl<$($state: Clone + Send + Sync + 'static),*> StateTypes for ($($state,)*) {}
        };
    }
    state_types!();
    state_types!(S1);
    state_types!(S1, S2);
    state_types!(S1, S2, S3);
    state_types!(S1, S2, S3, S4);
    state_types!(S1, S2, S3, S4, S5);
    state_types!(S1, S2, S3, S4, S5, S6);
    state_types!(S1, S2, S3, S4, S5, S6, S7);
    state_types!(S1, S2, S3, S4, S5, S6, S7, S8);

    pub trait BuildSubscriber {
        fn build<H: crate::Handler<Args>, Args: 'static>(
            &self,
            name: &'static str,
            file: &'static str,
            line: u32,
            handler: H,
        ) -> Subscriber {
            Subscriber::__from_macro(name, file, line, handler)
        }
    }

    impl<E: Event, R: IntoHandlerResult, S: StateTypes> BuildSubscriber for &HandlerTypes<E, R, S> {}

    pub trait SkipSubscriber {
        /// Only chosen when an assertion already failed to compile, so never runs.
        fn build<H>(
            &self,
            name: &'static str,
            _file: &'static str,
            _line: u32,
            _handler: H,
        ) -> Subscriber {
            unreachable!("subscriber `{name}` has invalid types but compiled")
        }
    }

    impl<E, R, S> SkipSubscriber for HandlerTypes<E, R, S> {}
}
