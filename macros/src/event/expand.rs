//! The generated `impl ::tidings::Event`, next to the event's declaration (`declare`).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::ast::Input;
use super::declare;
use super::valid::Checked;

pub(crate) fn event_impl(input: &Input<'_>, checked: &Checked<'_>) -> TokenStream {
    let ident = &input.node.ident;
    let where_clause = &input.node.generics.where_clause;
    let name = &checked.name;
    let version = proc_macro2::Literal::u32_unsuffixed(checked.version);
    let key = match checked.key {
        // The type is named, and the call spanned at it, so a type that is not a key is
        // reported at the field's type.
        Some(field) => {
            let (member, ty) = (&field.member, field.ty);
            quote_spanned! {ty.span()=>
                ::core::option::Option::Some(<#ty as ::tidings::AsKey>::as_key(&self.#member))
            }
        }
        None => quote! { ::core::option::Option::None },
    };
    let registration = declare::registration(input, checked.key);
    quote! {
        const _: () = {
            #[automatically_derived]
            impl ::tidings::Event for #ident #where_clause {
                const NAME: &'static str = #name;
                const VERSION: u32 = #version;

                fn key(&self) -> ::core::option::Option<::tidings::Key<'_>> {
                    #key
                }
            }

            #registration
        };
    }
}
