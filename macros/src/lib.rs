//! Procedural macros for `tidings`: `#[derive(Event)]` and `#[subscriber]`.
//!
//! Depend on `tidings`, which re-exports both; the generated code names only `::tidings::…`.

mod ctxt;
mod event;
mod meta;
mod subscriber;
mod values;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Implements `tidings::Event`; see the `tidings` crate docs.
#[proc_macro_derive(Event, attributes(event))]
pub fn derive_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    event::derive(&input).into()
}

/// Registers an `async fn` as a subscriber; see the `tidings` crate docs for its options.
#[proc_macro_attribute]
pub fn subscriber(args: TokenStream, input: TokenStream) -> TokenStream {
    subscriber::expand(args.into(), input.into()).into()
}
