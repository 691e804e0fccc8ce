//! Handler glue: any async fn or closure whose arguments are an event followed by extractors.
//!
//! Like axum's `Handler`, one blanket impl per arity turns `Fn(A1, .., An) -> Fut` into a
//! [`Handler`]; the `#[subscriber]` macro wraps the user's function in such a closure, so both
//! paths meet here.

use std::future::Future;
use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::Map;

use crate::context::Context;
use crate::error::{HandlerError, IntoHandlerResult};
use crate::event::Event;
use crate::state::{State, StateRequirement};

/// An async function that can handle one event type. Implemented for closures and functions
/// taking the event first (`Arc<E>` or `E`), then any of [`Context`] and [`State<T>`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot handle events",
    label = "not a handler",
    note = "a handler is an async fn or closure taking the event (`Arc<E>` or `E`) first, then any of \
            `Context` and `State<T>`, returning `()` or `Result<(), E: Into<HandlerError>>`"
)]
pub trait Handler<Args>: Send + Sync + 'static {
    /// The event it handles.
    type Event: Event;
    /// The future of one call.
    type Future: Future<Output = Result<(), HandlerError>> + Send + 'static;

    /// Runs the handler for one delivery.
    fn call(&self, event: Arc<Self::Event>, ctx: &Context) -> Self::Future;

    /// The `State<T>` types it reads, checked by `build()`.
    fn requirements() -> Vec<StateRequirement>;
}

/// The first handler argument: the event, shared (`Arc<E>`) or owned (`E`, cloned if shared).
pub trait EventArg: Send + 'static {
    /// The event type.
    type Event: Event;
    /// Makes the argument from the shared event.
    fn from_shared(event: Arc<Self::Event>) -> Self;
}

impl<E: Event> EventArg for Arc<E> {
    type Event = E;

    fn from_shared(event: Arc<E>) -> Self {
        event
    }
}

impl<E: Event + Clone> EventArg for E {
    type Event = E;

    fn from_shared(event: Arc<E>) -> Self {
        Arc::unwrap_or_clone(event)
    }
}

/// A handler argument after the event, taken from the delivery's [`Context`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler parameter",
    note = "after the event, a handler takes `&Context` / `Context` and `State<T>` parameters"
)]
pub trait FromContext: Send + 'static + Sized {
    /// Extracts the value.
    fn from_context(ctx: &Context) -> Self;

    /// The state it needs, if any.
    fn requirement() -> Option<StateRequirement> {
        None
    }
}

impl FromContext for Context {
    fn from_context(ctx: &Context) -> Self {
        ctx.clone()
    }
}

impl<T: Clone + Send + Sync + 'static> FromContext for State<T> {
    fn from_context(ctx: &Context) -> Self {
        State(ctx.state().get::<T>().unwrap_or_else(|| {
            panic!(
                "State<{}> was checked by build() but is missing",
                std::any::type_name::<T>()
            )
        }))
    }

    fn requirement() -> Option<StateRequirement> {
        Some(StateRequirement::of::<T>())
    }
}

type IntoResult<T> = fn(T) -> Result<(), HandlerError>;

macro_rules! impl_handler {
    ($($extract:ident),*) => {
        impl<F, Fut, Ev, $($extract,)*> Handler<(Ev, $($extract,)*)> for F
        where
            F: Fn(Ev, $($extract,)*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: IntoHandlerResult,
            Ev: EventArg,
            $($extract: FromContext,)*
        {
            type Event = Ev::Event;
            type Future = Map<Fut, IntoResult<Fut::Output>>;

            #[allow(non_snake_case, unused_variables)]
            fn call(&self, event: Arc<Ev::Event>, ctx: &Context) -> Self::Future {
                $(let $extract = $extract::from_context(ctx);)*
                (self)(Ev::from_shared(event), $($extract,)*)
                    .map(IntoHandlerResult::into_handler_result as IntoResult<Fut::Output>)
            }

            fn requirements() -> Vec<StateRequirement> {
                let all: &[Option<StateRequirement>] = &[$($extract::requirement(),)*];
                all.iter().flatten().copied().collect()
            }
        }
    };
}

impl_handler!();
impl_handler!(A1);
impl_handler!(A1, A2);
impl_handler!(A1, A2, A3);
impl_handler!(A1, A2, A3, A4);
impl_handler!(A1, A2, A3, A4, A5);
impl_handler!(A1, A2, A3, A4, A5, A6);
impl_handler!(A1, A2, A3, A4, A5, A6, A7);
impl_handler!(A1, A2, A3, A4, A5, A6, A7, A8);
