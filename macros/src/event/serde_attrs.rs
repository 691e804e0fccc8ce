//! The `#[serde(..)]` attributes that change how a payload looks on the wire: names, skipped and
//! optional fields, flattening, and representations the derive cannot follow. Read leniently:
//! serde's own derive reports malformed attributes, so anything unreadable here is ignored.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Expr, LitStr, Token};

use crate::values::RenameRule;

/// On the type.
#[derive(Default)]
pub(crate) struct Container {
    pub(crate) rename_all: Option<RenameRule>,
    pub(crate) deny_unknown_fields: bool,
    pub(crate) transparent: bool,
    /// Every field may be absent.
    pub(crate) default: bool,
    /// `into`, `from`, `try_from`: the wire shape is another type's.
    pub(crate) converted: bool,
    /// `tag`, `content`, `untagged`: not the default enum representation.
    pub(crate) retagged: bool,
}

/// On a field or a variant.
#[derive(Default)]
pub(crate) struct Member {
    pub(crate) rename: Option<String>,
    /// `skip` or `skip_serializing`: never written.
    pub(crate) skipped: bool,
    /// `default` or `skip_serializing_if`: may be absent.
    pub(crate) may_be_absent: bool,
    pub(crate) flatten: bool,
    /// `with` or `serialize_with`: written by the user's own function.
    pub(crate) custom: bool,
}

pub(crate) fn container(attrs: &[Attribute]) -> Container {
    let mut found = Container::default();
    for_each_option(attrs, |meta| {
        let name = option(meta);
        match name.as_str() {
            "rename_all" => {
                found.rename_all = serialize_value(meta)?.and_then(|rule| RenameRule::parse(&rule))
            }
            "deny_unknown_fields" => found.deny_unknown_fields = true,
            "transparent" => found.transparent = true,
            "default" => {
                found.default = true;
                skip_value(meta)?;
            }
            "into" | "from" | "try_from" => {
                found.converted = true;
                skip_value(meta)?;
            }
            "tag" | "content" | "untagged" => {
                found.retagged = true;
                skip_value(meta)?;
            }
            _ => skip_value(meta)?,
        }
        Ok(())
    });
    found
}

pub(crate) fn member(attrs: &[Attribute]) -> Member {
    let mut found = Member::default();
    for_each_option(attrs, |meta| {
        match option(meta).as_str() {
            "rename" => found.rename = serialize_value(meta)?,
            "skip" | "skip_serializing" => found.skipped = true,
            "default" | "skip_serializing_if" => {
                found.may_be_absent = true;
                skip_value(meta)?;
            }
            "flatten" => found.flatten = true,
            "with" | "serialize_with" => {
                found.custom = true;
                skip_value(meta)?;
            }
            _ => skip_value(meta)?,
        }
        Ok(())
    });
    found
}

/// Runs `read` on each option of each `#[serde(..)]`; an attribute it cannot read is dropped.
fn for_each_option(
    attrs: &[Attribute],
    mut read: impl FnMut(&ParseNestedMeta<'_>) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| read(&meta));
    }
}

fn option(meta: &ParseNestedMeta<'_>) -> String {
    meta.path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// The value of `option = ".."`, or of `serialize = ".."` in `option(serialize = "..", ..)`.
fn serialize_value(meta: &ParseNestedMeta<'_>) -> syn::Result<Option<String>> {
    if meta.input.peek(Token![=]) {
        let value: LitStr = meta.value()?.parse()?;
        return Ok(Some(value.value()));
    }
    let mut serialize = None;
    if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| {
            if inner.path.is_ident("serialize") {
                serialize = Some(inner.value()?.parse::<LitStr>()?.value());
            } else {
                skip_value(&inner)?;
            }
            Ok(())
        })?;
    }
    Ok(serialize)
}

/// Consumes whatever value an option has (`= expr` or `(..)`), so the next one can be read.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}
