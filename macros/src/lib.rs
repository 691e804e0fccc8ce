//! Procedural macros for `tidings`. Depend on `tidings`, which re-exports them.

use proc_macro::TokenStream;

#[proc_macro_derive(Event, attributes(event))]
pub fn derive_event(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}

#[proc_macro_attribute]
pub fn subscriber(args: TokenStream, input: TokenStream) -> TokenStream {
    let _ = args;
    input
}
