//! Reading `option = value` lists out of attribute arguments; shared by both macros so that
//! `#[event(..)]` and `#[subscriber(..)]` word their mistakes the same way.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitInt, LitStr, Meta, Token};

use crate::ctxt::Ctxt;

/// The comma-separated options of an attribute.
pub(crate) type Options = Punctuated<Meta, Token![,]>;

pub(crate) fn parse_options(tokens: TokenStream) -> syn::Result<Options> {
    syn::parse::Parser::parse2(Options::parse_terminated, tokens)
}

/// An option's name as written: `retries`, or `a::b` for a path.
pub(crate) fn option_name(meta: &Meta) -> String {
    let segments = meta.path().segments.iter();
    segments
        .map(|segment| segment.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// Reports an option that is none of `valid`, listing those that are.
pub(crate) fn unknown(meta: &Meta, valid: &[&str], cx: &Ctxt) {
    let listed = valid
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>();
    let expected = match listed.as_slice() {
        [one] => format!("expected {one}"),
        _ => format!("expected one of: {}", listed.join(", ")),
    };
    let message = format!("unknown option `{}`; {expected}", option_name(meta));
    cx.error_spanned_by(meta.path(), message);
}

/// The options given so far: a second occurrence is reported at that occurrence.
#[derive(Default)]
pub(crate) struct Seen(HashSet<String>);

impl Seen {
    /// Whether this is the first time `meta`'s option appears; reports it if not.
    pub(crate) fn first(&mut self, meta: &Meta, cx: &Ctxt) -> bool {
        let name = option_name(meta);
        if self.0.insert(name.clone()) {
            return true;
        }
        cx.error_spanned_by(
            meta.path(),
            format!("duplicate option `{name}`: give it once"),
        );
        false
    }
}

/// The value of `option = "..."`.
pub(crate) fn string(meta: &Meta, example: &str, cx: &Ctxt) -> Option<LitStr> {
    match literal(meta) {
        Some(Lit::Str(lit)) => Some(lit.clone()),
        _ => wrong_form(meta, "a string", example, cx),
    }
}

/// The value of `option = 3`.
pub(crate) fn integer(meta: &Meta, example: &str, cx: &Ctxt) -> Option<LitInt> {
    match literal(meta) {
        Some(Lit::Int(lit)) => Some(lit.clone()),
        _ => wrong_form(meta, "an integer", example, cx),
    }
}

/// A flag: written bare (`ordered`) or as `ordered = true` / `ordered = false`.
pub(crate) fn flag(meta: &Meta, cx: &Ctxt) -> Option<bool> {
    match (meta, literal(meta)) {
        (Meta::Path(_), _) => Some(true),
        (_, Some(Lit::Bool(lit))) => Some(lit.value),
        _ => {
            let name = option_name(meta);
            wrong_form(
                meta,
                "no value or a bool",
                &format!("{name}` or `{name} = false"),
                cx,
            )
        }
    }
}

/// The literal of `option = literal`, if that is the option's form.
fn literal(meta: &Meta) -> Option<&Lit> {
    match meta {
        Meta::NameValue(pair) => match &pair.value {
            Expr::Lit(ExprLit { lit, .. }) => Some(lit),
            _ => None,
        },
        _ => None,
    }
}

fn wrong_form<T>(meta: &Meta, takes: &str, example: &str, cx: &Ctxt) -> Option<T> {
    let message = format!("`{}` takes {takes}, like `{example}`", option_name(meta));
    match meta {
        // Point at the value when there is one: the name is right, the value is not.
        Meta::NameValue(pair) => cx.error_spanned_by(&pair.value, message),
        _ => cx.error_spanned_by(meta, message),
    }
    None
}
