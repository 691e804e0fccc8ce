//! JSON Schemas of payloads, built from what `#[derive(Event)]` declared: the shape of the type
//! (from its definition and serde attributes) and, per field, the schema of the field's type
//! through [`FieldSchema`]. A field type without an impl is described as any JSON value.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};

use super::declaration::{FieldDeclaration, PayloadShape, ProbedSchema};
use crate::event::EventId;

/// The JSON Schema (draft-07, the dialect AsyncAPI 3.0 payloads use) of a type as serde_json
/// writes it. `#[derive(Event)]` describes each field of an event with its type's impl, for
/// [`Topology::to_asyncapi`](crate::Topology::to_asyncapi).
///
/// Implemented for the primitives, strings, `Option`, sequences, sets, string-keyed maps,
/// smart pointers, `Uuid`, [`EventId`], `Duration` and `SystemTime`. A field of another type
/// (your own struct, a `chrono` date) is described as any JSON value; implement this trait for
/// the type to describe it:
///
/// ```
/// use serde_json::{Value, json};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Cents(u64);
///
/// impl tidings::FieldSchema for Cents {
///     fn json_schema() -> Value {
///         json!({ "type": "integer", "minimum": 0, "description": "an amount in cents" })
///     }
/// }
/// ```
pub trait FieldSchema {
    /// The schema of one value.
    fn json_schema() -> Value;

    /// Whether serde accepts a field of this type being absent (`Option`: read as `None`), so
    /// that the field is not `required`.
    fn may_be_absent() -> bool {
        false
    }
}

macro_rules! integers {
    ($($ty:ty),*) => {$(
        impl FieldSchema for $ty {
            fn json_schema() -> Value {
                json!({ "type": "integer", "minimum": <$ty>::MIN, "maximum": <$ty>::MAX })
            }
        }
    )*};
}
integers!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

macro_rules! schema {
    ($schema:tt for $($ty:ty),*) => {$(
        impl FieldSchema for $ty {
            fn json_schema() -> Value {
                json!($schema)
            }
        }
    )*};
}
// Wider than any JSON number a parser keeps exact, so no bounds are claimed.
schema!({ "type": "integer", "minimum": 0 } for u128);
schema!({ "type": "integer" } for i128);
schema!({ "type": "number" } for f32, f64);
schema!({ "type": "boolean" } for bool);
schema!({ "type": "string" } for str, String, Cow<'_, str>);
schema!({ "type": "string", "minLength": 1, "maxLength": 1 } for char);
schema!({ "type": "string", "format": "uuid" } for uuid::Uuid, EventId);
schema!({ "type": "null" } for ());
schema!({} for Value);
// serde's own encodings of the two std time types.
schema!({
    "type": "object",
    "properties": {
        "secs": { "type": "integer", "minimum": 0 },
        "nanos": { "type": "integer", "minimum": 0, "maximum": 999_999_999 }
    },
    "required": ["secs", "nanos"]
} for Duration);
schema!({
    "type": "object",
    "properties": {
        "secs_since_epoch": { "type": "integer", "minimum": 0 },
        "nanos_since_epoch": { "type": "integer", "minimum": 0, "maximum": 999_999_999 }
    },
    "required": ["secs_since_epoch", "nanos_since_epoch"]
} for SystemTime);

impl<T: FieldSchema> FieldSchema for Option<T> {
    fn json_schema() -> Value {
        nullable(T::json_schema())
    }

    fn may_be_absent() -> bool {
        true
    }
}

macro_rules! same_as_inner {
    ($($ptr:ident),*) => {$(
        impl<T: FieldSchema + ?Sized> FieldSchema for $ptr<T> {
            fn json_schema() -> Value {
                T::json_schema()
            }
        }
    )*};
}
same_as_inner!(Box, Arc, Rc);

impl<T: FieldSchema + ?Sized> FieldSchema for &T {
    fn json_schema() -> Value {
        T::json_schema()
    }
}

macro_rules! sequences {
    ($($seq:ident),*) => {$(
        impl<T: FieldSchema> FieldSchema for $seq<T> {
            fn json_schema() -> Value {
                json!({ "type": "array", "items": T::json_schema() })
            }
        }
    )*};
}
sequences!(Vec, VecDeque);

impl<T: FieldSchema> FieldSchema for [T] {
    fn json_schema() -> Value {
        json!({ "type": "array", "items": T::json_schema() })
    }
}

impl<T: FieldSchema, const N: usize> FieldSchema for [T; N] {
    fn json_schema() -> Value {
        json!({ "type": "array", "items": T::json_schema(), "minItems": N, "maxItems": N })
    }
}

macro_rules! sets {
    ($($set:ident),*) => {$(
        impl<T: FieldSchema, S> FieldSchema for $set<T, S> {
            fn json_schema() -> Value {
                json!({ "type": "array", "items": T::json_schema(), "uniqueItems": true })
            }
        }
    )*};
}
sets!(HashSet);

impl<T: FieldSchema> FieldSchema for BTreeSet<T> {
    fn json_schema() -> Value {
        json!({ "type": "array", "items": T::json_schema(), "uniqueItems": true })
    }
}

// serde_json writes every map as an object, its keys as strings.
impl<K, V: FieldSchema, S> FieldSchema for HashMap<K, V, S> {
    fn json_schema() -> Value {
        json!({ "type": "object", "additionalProperties": V::json_schema() })
    }
}

impl<K, V: FieldSchema> FieldSchema for BTreeMap<K, V> {
    fn json_schema() -> Value {
        json!({ "type": "object", "additionalProperties": V::json_schema() })
    }
}

/// `schema`, also accepting `null`.
fn nullable(schema: Value) -> Value {
    let mut schema = match schema {
        Value::Object(schema) => schema,
        // `true` / `{}` accept null already.
        other => return other,
    };
    if schema.is_empty() {
        return Value::Object(schema);
    }
    let constrains_values = schema.contains_key("enum") || schema.contains_key("const");
    match schema.get_mut("type") {
        Some(Value::String(single)) if !constrains_values => {
            let single = std::mem::take(single);
            schema.insert("type".to_owned(), json!([single, "null"]));
            Value::Object(schema)
        }
        _ => json!({ "anyOf": [Value::Object(schema), { "type": "null" }] }),
    }
}

/// Picks the [`FieldSchema`] of `T` where it has one and "any value" where it has not: the
/// derive calls `(&&SchemaProbe::<T>::of()).probe()`, and method lookup takes
/// [`KnownSchema`] first, autoref specialization as in `__private::HandlerTypes`. Event types
/// are never generic, so the choice is made on concrete types.
#[doc(hidden)]
pub struct SchemaProbe<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized> SchemaProbe<T> {
    pub const fn of() -> Self {
        SchemaProbe(PhantomData)
    }
}

impl<T: ?Sized> std::fmt::Debug for SchemaProbe<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SchemaProbe")
    }
}

#[doc(hidden)]
pub trait KnownSchema {
    fn probe(&self) -> ProbedSchema;
}

impl<T: FieldSchema + ?Sized> KnownSchema for &SchemaProbe<T> {
    fn probe(&self) -> ProbedSchema {
        ProbedSchema {
            schema: T::json_schema(),
            may_be_absent: T::may_be_absent(),
        }
    }
}

#[doc(hidden)]
pub trait UnknownSchema {
    fn probe(&self) -> ProbedSchema;
}

impl<T: ?Sized> UnknownSchema for SchemaProbe<T> {
    fn probe(&self) -> ProbedSchema {
        any_value()
    }
}

/// The probe of a field written by the user's own function (`#[serde(with = "..")]`): any value.
#[doc(hidden)]
pub fn any_value() -> ProbedSchema {
    ProbedSchema {
        schema: json!({}),
        may_be_absent: false,
    }
}

/// The schema of a whole payload.
pub(crate) fn payload_schema(shape: &PayloadShape) -> Value {
    match shape {
        PayloadShape::Object { fields, closed } => object(fields, *closed),
        PayloadShape::Newtype(field) => described((field.schema)().schema, field),
        PayloadShape::Names(names) => json!({ "type": "string", "enum": names }),
        PayloadShape::Unit => json!({ "type": "null" }),
        PayloadShape::Opaque(why) => json!({
            "description": format!("any JSON: tidings does not describe {why}")
        }),
    }
}

fn object(fields: &[FieldDeclaration], closed: bool) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut flattened = false;
    for field in fields {
        if field.flatten {
            // Its properties are merged in here, and tidings does not know them.
            flattened = true;
            continue;
        }
        let probed = (field.schema)();
        if !(probed.may_be_absent || field.may_be_absent) {
            required.push(field.name);
        }
        properties.insert(field.name.to_owned(), described(probed.schema, field));
    }
    let mut schema = json!({ "type": "object", "properties": properties, "required": required });
    if closed && !flattened {
        schema["additionalProperties"] = Value::Bool(false);
    }
    schema
}

/// A field's schema with its doc comment and Rust type.
fn described(schema: Value, field: &FieldDeclaration) -> Value {
    let mut schema = match schema {
        Value::Object(schema) => schema,
        Value::Bool(true) => Map::new(),
        other => return other,
    };
    if !field.doc.is_empty() {
        schema.insert("description".to_owned(), field.doc.into());
    }
    schema.insert("x-rust-type".to_owned(), field.rust_type.into());
    Value::Object(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe<T: FieldSchema + ?Sized>() -> (Value, bool) {
        (T::json_schema(), T::may_be_absent())
    }

    #[test]
    fn std_types_are_described_as_serde_json_writes_them() {
        assert_eq!(
            probe::<u8>(),
            (
                json!({"type": "integer", "minimum": 0, "maximum": 255}),
                false
            )
        );
        assert_eq!(
            probe::<Option<String>>(),
            (json!({"type": ["string", "null"]}), true)
        );
        assert_eq!(
            probe::<Vec<Arc<str>>>().0,
            json!({"type": "array", "items": {"type": "string"}})
        );
        assert_eq!(
            probe::<BTreeMap<String, Option<bool>>>().0,
            json!({"type": "object", "additionalProperties": {"type": ["boolean", "null"]}})
        );
        assert_eq!(
            probe::<[u8; 2]>().0["maxItems"],
            json!(2),
            "fixed-size arrays have their size"
        );
        assert_eq!(probe::<Option<Value>>().0, json!({}));
    }

    #[test]
    fn an_optional_enumeration_adds_null_without_loosening_the_enumeration() {
        assert_eq!(
            nullable(json!({"type": "string", "enum": ["a"]})),
            json!({"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "null"}]})
        );
    }

    #[test]
    // The double reference is what picks `KnownSchema` when it applies.
    #[allow(clippy::needless_borrow)]
    fn a_type_without_a_schema_is_any_value() {
        struct Money;
        #[allow(unused_imports)]
        use super::{KnownSchema as _, UnknownSchema as _};
        let known = (&&SchemaProbe::<u32>::of()).probe();
        let unknown = (&&SchemaProbe::<Money>::of()).probe();
        assert_eq!(known.schema["type"], "integer");
        assert_eq!((unknown.schema, unknown.may_be_absent), (json!({}), false));
    }
}
