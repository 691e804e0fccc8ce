//! `#[derive(Event)]`: parse (`ast`, `attr`, `serde_attrs`) → check (`valid`) → generate
//! (`expand` the impl, `declare` its registration in the topology).

mod ast;
mod attr;
mod declare;
mod expand;
mod serde_attrs;
mod valid;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::ctxt::Ctxt;

pub(crate) fn derive(node: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let input = ast::Input::from_syn(node, &cx);
    let checked = valid::check(&input, &cx);
    // The impl is emitted even next to errors (with placeholders where a value was wrong), so a
    // mistake in the attribute does not also break every use of the event.
    let event_impl = checked.map(|checked| expand::event_impl(&input, &checked));
    let errors = cx.into_compile_errors();
    quote::quote! { #errors #event_impl }
}
