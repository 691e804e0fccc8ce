//! Shared application state handed to handlers: [`State<T>`].

use std::any::{Any, TypeId, type_name};
use std::collections::HashMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// A handler parameter that receives a clone of the value given to
/// [`BusBuilder::state`](crate::BusBuilder::state). `build()` fails if no such value was given.
///
/// Keep state cheap to clone (wrap it in an `Arc`, or hold `Arc`s inside), as axum does.
#[derive(Debug, Clone, Copy, Default)]
pub struct State<T>(pub T);

impl<T> Deref for State<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for State<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// A state type a handler needs, so that `build()` can check it is provided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateRequirement {
    pub(crate) type_id: TypeId,
    pub(crate) type_name: &'static str,
}

impl StateRequirement {
    /// The requirement for `State<T>`.
    pub fn of<T: 'static>() -> Self {
        StateRequirement {
            type_id: TypeId::of::<T>(),
            type_name: type_name::<T>(),
        }
    }
}

/// The state values given to the builder, by type.
pub(crate) type StateValues = HashMap<TypeId, Box<dyn Any + Send + Sync>>;

/// The state values, frozen and shared once the bus is built.
#[derive(Clone, Default)]
pub(crate) struct StateMap(Arc<StateValues>);

impl StateMap {
    pub(crate) fn new(values: StateValues) -> Self {
        StateMap(Arc::new(values))
    }

    pub(crate) fn contains(&self, requirement: &StateRequirement) -> bool {
        self.0.contains_key(&requirement.type_id)
    }

    pub(crate) fn get<T: Clone + 'static>(&self) -> Option<T> {
        self.0
            .get(&TypeId::of::<T>())
            .and_then(|value| value.downcast_ref::<T>())
            .cloned()
    }
}

impl fmt::Debug for StateMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateMap({} values)", self.0.len())
    }
}
