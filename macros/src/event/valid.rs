//! Judges the parsed input: the name rule, the version range, where a key may go, and the
//! shapes an event can have. Every problem is reported; the values that were wrong are replaced
//! by placeholders so that the impl can still be generated.

use heck::ToSnakeCase;
use syn::ext::IdentExt;

use super::ast::{Data, Field, Input};
use crate::ctxt::Ctxt;
use crate::values::check_name;

/// Stands in for a wrong name so that the impl still compiles next to the error.
const PLACEHOLDER_NAME: &str = "invalid";

pub(crate) struct Checked<'a> {
    pub(crate) name: String,
    pub(crate) version: u32,
    pub(crate) key: Option<&'a Field<'a>>,
}

/// The values of the impl, or `None` when the type cannot have one at all (a union, a
/// generic type): there an impl would only add errors to the one that matters.
pub(crate) fn check<'a>(input: &'a Input<'a>, cx: &Ctxt) -> Option<Checked<'a>> {
    let name = name(input, cx);
    let version = version(input, cx);
    let key = key(input, cx);
    let mut implementable = true;
    if let Data::Union(union_token) = input.data {
        cx.error_spanned_by(
            union_token,
            "an event must be a struct or an enum, not a union: serde cannot encode unions",
        );
        implementable = false;
    }
    let generics = &input.node.generics;
    if !generics.params.is_empty() {
        cx.error_spanned_by(
            generics,
            "generic events are not supported: an event name must identify one type",
        );
        implementable = false;
    }
    implementable.then_some(Checked { name, version, key })
}

fn name(input: &Input<'_>, cx: &Ctxt) -> String {
    let (name, span_holder): (String, &dyn quote::ToTokens) = match &input.attrs.name {
        Some(lit) => (lit.value(), lit),
        None => (
            input.node.ident.unraw().to_string().to_snake_case(),
            &input.node.ident,
        ),
    };
    match check_name(&name, "event name", "orders.placed") {
        Ok(()) => name,
        Err(message) => {
            let hint = if input.attrs.name.is_none() {
                "; set one with `#[event(name = \"...\")]`"
            } else {
                ""
            };
            cx.error_spanned_by(span_holder, format!("{message}{hint}"));
            PLACEHOLDER_NAME.to_owned()
        }
    }
}

fn version(input: &Input<'_>, cx: &Ctxt) -> u32 {
    let Some(lit) = &input.attrs.version else {
        return 1;
    };
    lit.base10_parse().unwrap_or_else(|_| {
        cx.error_spanned_by(
            lit,
            format!("the version must be a whole number from 0 to {}", u32::MAX),
        );
        1
    })
}

fn key<'a>(input: &'a Input<'a>, cx: &Ctxt) -> Option<&'a Field<'a>> {
    match &input.data {
        Data::Struct(fields) => {
            let mut keyed = fields.iter().filter(|field| field.attrs.key.is_some());
            let first = keyed.next()?;
            for again in keyed {
                cx.error_spanned_by(
                    &again.attrs.key,
                    format!(
                        "only one field can be the `#[event(key)]`; `{}` already is",
                        member_name(first)
                    ),
                );
            }
            Some(first)
        }
        Data::Enum(attrs) => {
            for key in attrs.iter().filter_map(|attrs| attrs.key.as_ref()) {
                cx.error_spanned_by(
                    key,
                    "keys are only supported on structs: an enum event has no `#[event(key)]`",
                );
            }
            None
        }
        Data::Union(_) => None,
    }
}

fn member_name(field: &Field<'_>) -> String {
    match &field.member {
        syn::Member::Named(ident) => ident.to_string(),
        syn::Member::Unnamed(index) => index.index.to_string(),
    }
}
