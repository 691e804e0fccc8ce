//! Judges a subscriber: what its option values say, and whether its signature is one the bus
//! can call (an `async fn`, not generic, no receiver).

use std::time::Duration;

use syn::ext::IdentExt;
use syn::{FnArg, Ident, LitInt, LitStr, Signature};

use super::attr::Attrs;
use crate::ctxt::Ctxt;
use crate::values::{self, Backoff, Rate};

/// The options as values, each `None` when the user left the runtime's default.
pub(crate) struct Options {
    pub(crate) name: String,
    pub(crate) group: Option<String>,
    pub(crate) retries: Option<u32>,
    pub(crate) backoff: Option<Backoff>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) concurrency: Option<u32>,
    pub(crate) ordered: bool,
    pub(crate) rate: Option<Rate>,
}

pub(crate) fn options(attrs: &Attrs, function: &Ident, cx: &Ctxt) -> Options {
    let name = match &attrs.name {
        Some(lit) => checked_name(lit, "subscriber name", "reserve_stock", cx),
        None => {
            let name = function.unraw().to_string();
            if let Err(message) = values::check_name(&name, "subscriber name", "reserve_stock") {
                cx.error_spanned_by(
                    function,
                    format!("{message}; set one with `#[subscriber(name = \"...\")]`"),
                );
            }
            Some(name)
        }
    };
    Options {
        name: name.unwrap_or_default(),
        group: attrs
            .group
            .as_ref()
            .and_then(|lit| checked_name(lit, "group", "stock", cx)),
        retries: attrs
            .retries
            .as_ref()
            .and_then(|lit| integer(lit, "retries", 0, cx)),
        backoff: attrs
            .backoff
            .as_ref()
            .and_then(|lit| parsed(lit, values::parse_backoff, cx)),
        timeout: attrs.timeout.as_ref().and_then(|lit| timeout(lit, cx)),
        concurrency: attrs
            .concurrency
            .as_ref()
            .and_then(|lit| integer(lit, "concurrency", 1, cx)),
        ordered: attrs.ordered,
        rate: attrs
            .rate
            .as_ref()
            .and_then(|lit| parsed(lit, values::parse_rate, cx)),
    }
}

fn checked_name(lit: &LitStr, what: &str, example: &str, cx: &Ctxt) -> Option<String> {
    let name = lit.value();
    match values::check_name(&name, what, example) {
        Ok(()) => Some(name),
        Err(message) => {
            cx.error_spanned_by(lit, message);
            None
        }
    }
}

fn integer(lit: &LitInt, option: &str, min: u32, cx: &Ctxt) -> Option<u32> {
    match lit.base10_parse::<u32>() {
        Ok(value) if value >= min => Some(value),
        Ok(_) if option == "concurrency" => {
            cx.error_spanned_by(
                lit,
                "`concurrency` must be at least 1: a subscriber with no slots never runs",
            );
            None
        }
        _ => {
            cx.error_spanned_by(
                lit,
                format!(
                    "`{option}` must be a whole number from {min} to {}",
                    u32::MAX
                ),
            );
            None
        }
    }
}

fn parsed<T>(lit: &LitStr, parse: fn(&str) -> Result<T, String>, cx: &Ctxt) -> Option<T> {
    parse(&lit.value())
        .map_err(|message| cx.error_spanned_by(lit, message))
        .ok()
}

fn timeout(lit: &LitStr, cx: &Ctxt) -> Option<Duration> {
    let timeout = parsed(lit, values::parse_duration, cx)?;
    if timeout.is_zero() {
        cx.error_spanned_by(
            lit,
            "`timeout` must be longer than zero: every attempt would time out at once",
        );
        return None;
    }
    Some(timeout)
}

/// Everything about the signature except the parameter types, which `ast` reads.
pub(crate) fn signature(sig: &Signature, cx: &Ctxt) {
    if let Some(constness) = &sig.constness {
        cx.error_spanned_by(
            constness,
            "a subscriber cannot be a `const fn`: remove `const`",
        );
    }
    if sig.asyncness.is_none() {
        cx.error_spanned_by(
            sig.fn_token,
            "a subscriber must be an `async fn`: add `async` before `fn`",
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        cx.error_spanned_by(
            unsafety,
            "a subscriber cannot be `unsafe`: the bus calls it without any precondition",
        );
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(abi, "a subscriber cannot be `extern`: remove the ABI");
    }
    if !sig.generics.params.is_empty() {
        cx.error_spanned_by(
            &sig.generics,
            "a subscriber cannot be generic: it handles one event type with concrete parameters",
        );
    }
    for input in &sig.inputs {
        if let FnArg::Receiver(receiver) = input {
            let message = "a subscriber is a free function: remove `self` and take what it needs as `State<T>`";
            cx.error_spanned_by(receiver, message);
        }
    }
    if let Some(variadic) = &sig.variadic {
        cx.error_spanned_by(variadic, "a subscriber cannot be variadic");
    }
}
