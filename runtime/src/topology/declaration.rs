//! What `#[derive(Event)]` records about each event type, collected by `inventory` so that
//! [`Topology`](super::Topology) can list every event linked into the binary. Only the code
//! the derive generates builds these; they are not public API.

use std::any::TypeId;

use serde_json::Value;

use crate::event::Event;

/// One event type, as its derive declared it.
#[doc(hidden)]
#[derive(Debug)]
pub struct EventRegistration {
    pub(crate) type_id: fn() -> TypeId,
    pub(crate) type_name: fn() -> &'static str,
    pub(crate) name: &'static str,
    pub(crate) version: u32,
    pub(crate) declaration: Declaration,
}

inventory::collect!(EventRegistration);

/// The registration of `E`: its identity from the `Event` impl, the rest from the derive.
pub const fn event_registration<E: Event>(declaration: Declaration) -> EventRegistration {
    EventRegistration {
        type_id: TypeId::of::<E>,
        type_name: std::any::type_name::<E>,
        name: E::NAME,
        version: E::VERSION,
        declaration,
    }
}

/// Where and how an event type was declared.
#[doc(hidden)]
#[derive(Debug)]
pub struct Declaration {
    pub file: &'static str,
    pub line: u32,
    /// The type's doc comment, `""` if none.
    pub doc: &'static str,
    /// The wire name of the `#[event(key)]` field.
    pub key: Option<&'static str>,
    pub payload: PayloadShape,
}

/// The JSON shape serde gives the event, as far as the derive can tell from the type.
#[doc(hidden)]
#[derive(Debug)]
pub enum PayloadShape {
    /// A struct with named fields: an object.
    Object {
        fields: &'static [FieldDeclaration],
        /// `#[serde(deny_unknown_fields)]`.
        closed: bool,
    },
    /// A newtype struct or a `#[serde(transparent)]` one: the inner value.
    Newtype(FieldDeclaration),
    /// An enum of unit variants only: one of these strings.
    Names(&'static [&'static str]),
    /// A unit struct: `null`.
    Unit,
    /// A shape the derive does not describe, and why (`an enum with data`).
    Opaque(&'static str),
}

/// One field of an event as it travels (skipped fields are left out).
#[doc(hidden)]
#[derive(Debug)]
pub struct FieldDeclaration {
    /// The name on the wire, after serde's `rename` / `rename_all`.
    pub name: &'static str,
    /// The field's type as written.
    pub rust_type: &'static str,
    pub doc: &'static str,
    pub schema: fn() -> ProbedSchema,
    /// `#[serde(default)]` or `skip_serializing_if`: the field may be absent.
    pub may_be_absent: bool,
    /// `#[serde(flatten)]`: its fields are merged into the parent object.
    pub flatten: bool,
}

/// A field type's JSON Schema, and whether serde accepts the field missing (an `Option`).
#[doc(hidden)]
#[derive(Debug)]
pub struct ProbedSchema {
    pub schema: Value,
    pub may_be_absent: bool,
}

/// Every event type a `#[derive(Event)]` linked into the binary declared.
pub(crate) fn declared() -> impl Iterator<Item = &'static EventRegistration> {
    inventory::iter::<EventRegistration>.into_iter()
}
