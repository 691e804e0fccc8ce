//! The builder calls for the options the user gave (`.retries(4)`, `.timeout(..)`), with
//! every value already checked and converted at compile time.

use std::time::Duration;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::valid::Options;
use crate::values::{Backoff, Rate};

/// One builder call per option the user gave; the others keep the runtime's defaults.
pub(crate) fn builder_calls(options: &Options) -> TokenStream {
    let mut calls = TokenStream::new();
    if let Some(group) = &options.group {
        calls.extend(quote!(.group(#group)));
    }
    if let Some(retries) = options.retries {
        calls.extend(quote!(.retries(#retries)));
    }
    if let Some(backoff) = options.backoff {
        let backoff = match backoff {
            Backoff::Fixed(delay) => {
                let delay = duration(delay);
                quote!(::tidings::__private::Backoff::fixed(#delay))
            }
            Backoff::Exponential { initial, max } => {
                let (initial, max) = (duration(initial), duration(max));
                quote!(::tidings::__private::Backoff::exponential(#initial, #max))
            }
        };
        calls.extend(quote!(.backoff(#backoff)));
    }
    if let Some(timeout) = options.timeout {
        let timeout = duration(timeout);
        calls.extend(quote!(.timeout(#timeout)));
    }
    if let Some(concurrency) = options.concurrency {
        calls.extend(quote!(.concurrency(#concurrency)));
    }
    if options.ordered {
        calls.extend(quote!(.ordered()));
    }
    if let Some(Rate { count, per }) = options.rate {
        let per = duration(per);
        calls.extend(quote!(.rate(::tidings::__private::Rate::new(#count, #per))));
    }
    calls
}

/// The exact duration in the coarsest unit that holds it, so the output reads like the input.
fn duration(duration: Duration) -> TokenStream {
    let (constructor, amount) = if duration.is_zero() {
        return quote!(::tidings::__private::Duration::ZERO);
    } else if duration.subsec_nanos() == 0 {
        ("from_secs", u128::from(duration.as_secs()))
    } else if duration.subsec_nanos().is_multiple_of(1_000_000) {
        ("from_millis", duration.as_millis())
    } else {
        ("from_micros", duration.as_micros())
    };
    let constructor = format_ident!("{constructor}");
    // Unsuffixed: the count came from a `u64` in the source, so it fits the `u64` parameter.
    let amount = Literal::u128_unsuffixed(amount);
    quote!(::tidings::__private::Duration::#constructor(#amount))
}
