//! The generated registration: type assertions at the user's types, a closure adapting the
//! user's function to the runtime's `Handler`, the options, and an `inventory` entry.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, Type};

use super::ast::{EventParam, Extra, Handler};
use super::calls::builder_calls;
use super::valid::Options;

pub(crate) fn registration(item: &ItemFn, handler: &Handler<'_>, options: &Options) -> TokenStream {
    // The registration exists exactly when the function does.
    let cfgs = item.attrs.iter().filter(|attr| attr.path().is_ident("cfg"));
    let types = Types::of(handler);
    let assertions = types.assertions();
    let (event, result, states) = (types.event, &types.result, &types.states);
    let closure = closure(&item.sig.ident, handler);
    let name = &options.name;
    let calls = builder_calls(options);
    quote! {
        #(#cfgs)*
        const _: () = {
            #assertions

            fn __tidings_subscriber() -> ::tidings::__private::Subscriber {
                // Only one is used: the first when the asserted types are valid (see `HandlerTypes`).
                #[allow(unused_imports)]
                use ::tidings::__private::{BuildSubscriber as _, SkipSubscriber as _};
                (&&::tidings::__private::HandlerTypes::<#event, #result, (#(#states,)*)>::of())
                    .build(#name, ::core::file!(), ::core::line!(), #closure)
                    #calls
            }

            ::tidings::__private::inventory::submit! {
                ::tidings::__private::Registration { make: __tidings_subscriber }
            }
        };
    }
}

/// The user's types that the runtime puts requirements on.
struct Types<'a> {
    event: &'a Type,
    /// `()` when the function declares no return type.
    result: TokenStream,
    states: Vec<&'a Type>,
}

impl<'a> Types<'a> {
    fn of(handler: &Handler<'a>) -> Self {
        let event = match handler.event {
            EventParam::Borrowed(ty) | EventParam::Shared(ty) | EventParam::Owned(ty) => ty,
        };
        let result = handler
            .output
            .map_or_else(|| quote!(()), ToTokens::into_token_stream);
        let states = handler.extras.iter().filter_map(|extra| match extra {
            Extra::State(ty) => Some(*ty),
            Extra::Context { .. } => None,
        });
        Types {
            event,
            result,
            states: states.collect(),
        }
    }

    /// One assertion per type, spanned at it, so "not an event" / "not a handler result" /
    /// "not `Clone`" points at the parameter or return type rather than at the attribute.
    fn assertions(&self) -> TokenStream {
        let event = self.event;
        let result = &self.result;
        let mut assertions = quote_spanned! {event.span()=>
            const _: () = ::tidings::__private::assert_event::<#event>();
        };
        assertions.extend(quote_spanned! {result.span()=>
            const _: () = ::tidings::__private::assert_handler_result::<#result>();
        });
        for state in &self.states {
            assertions.extend(quote_spanned! {state.span()=>
                const _: () = ::tidings::__private::assert_state::<#state>();
            });
        }
        assertions
    }
}

/// `|__event: Arc<E>, __ctx: Context, __state1: State<T>| async move { f(..).await }`: takes
/// what the runtime hands a handler and passes each in the form the function declared.
fn closure(function: &syn::Ident, handler: &Handler<'_>) -> TokenStream {
    let (event, event_arg) = match handler.event {
        EventParam::Borrowed(ty) => (ty, quote!(&*__event)),
        EventParam::Shared(ty) => (ty, quote!(__event)),
        // At the type, so that an event that is not `Clone` is reported there.
        EventParam::Owned(ty) => (
            ty,
            quote_spanned!(ty.span()=> ::tidings::__private::unwrap_or_clone(__event)),
        ),
    };
    let mut params = vec![quote!(__event: ::tidings::__private::Arc<#event>)];
    let mut args = vec![event_arg];
    for (index, extra) in handler.extras.iter().enumerate() {
        match extra {
            Extra::Context { borrowed } => {
                params.push(quote!(__ctx: ::tidings::__private::Context));
                args.push(if *borrowed {
                    quote!(&__ctx)
                } else {
                    quote!(__ctx)
                });
            }
            Extra::State(ty) => {
                let state = format_ident!("__state{index}");
                params.push(quote!(#state: ::tidings::__private::State<#ty>));
                args.push(state.into_token_stream());
            }
        }
    }
    quote! { |#(#params),*| async move { #function(#(#args),*).await } }
}
