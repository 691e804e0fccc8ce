//! `#[subscriber(..)]`: parse (`attr`, `ast`) → check (`valid`) → generate (`expand`, `calls`).

mod ast;
mod attr;
mod calls;
mod expand;
mod valid;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Item, ItemFn};

use crate::ctxt::Ctxt;

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let registration = match syn::parse2::<ItemFn>(input.clone()) {
        Ok(item) => registration(args, &item, &cx),
        Err(_) => {
            not_a_function(&input, &cx);
            None
        }
    };
    // On error the function is still emitted as written, so that the one mistake is all the
    // user sees, not also every call of a function that vanished.
    match cx.into_compile_errors() {
        Some(errors) => quote! { #errors #input },
        // `async` is what `#[subscriber]` asks for, so clippy's "unused async" cannot apply.
        None => quote! { #[allow(clippy::unused_async)] #input #registration },
    }
}

fn registration(args: TokenStream, item: &ItemFn, cx: &Ctxt) -> Option<TokenStream> {
    let attrs = attr::Attrs::parse(args, cx);
    let options = valid::options(&attrs, &item.sig.ident, cx);
    valid::signature(&item.sig, cx);
    let handler = ast::Handler::from_fn(item, cx)?;
    Some(expand::registration(item, &handler, &options))
}

/// Reports `#[subscriber]` on something other than a function, at its keyword.
fn not_a_function(input: &TokenStream, cx: &Ctxt) {
    const MESSAGE: &str = "`#[subscriber]` goes on an `async fn`";
    let keyword = match syn::parse2::<Item>(input.clone()) {
        Ok(Item::Struct(item)) => Some(item.struct_token.span),
        Ok(Item::Enum(item)) => Some(item.enum_token.span),
        Ok(Item::Union(item)) => Some(item.union_token.span),
        Ok(Item::Trait(item)) => Some(item.trait_token.span),
        Ok(Item::Impl(item)) => Some(item.impl_token.span),
        Ok(Item::Mod(item)) => Some(item.mod_token.span),
        Ok(Item::Const(item)) => Some(item.const_token.span),
        Ok(Item::Static(item)) => Some(item.static_token.span),
        Ok(Item::Type(item)) => Some(item.type_token.span),
        Ok(Item::Use(item)) => Some(item.use_token.span),
        _ => None,
    };
    match keyword {
        Some(keyword) => cx.syn_error(syn::Error::new(keyword, MESSAGE)),
        None if input.is_empty() => {
            cx.syn_error(syn::Error::new(proc_macro2::Span::call_site(), MESSAGE))
        }
        None => cx.error_spanned_by(input, MESSAGE),
    }
}
