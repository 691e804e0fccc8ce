//! What a subscriber function takes and returns, read from its signature: the event and how it
//! is passed, then each `Context` / `State<T>` parameter in order.

use syn::{FnArg, GenericArgument, ItemFn, PathArguments, ReturnType, Type, TypePath};

use crate::ctxt::Ctxt;

/// The runtime's handler impls take the event plus at most this many parameters.
const MAX_EXTRAS: usize = 8;

const UNSUPPORTED: &str =
    "unsupported parameter type; after the event a subscriber takes `&Context` and `State<T>`";

pub(crate) struct Handler<'a> {
    pub(crate) event: EventParam<'a>,
    pub(crate) extras: Vec<Extra<'a>>,
    /// `None` for `()`.
    pub(crate) output: Option<&'a Type>,
}

/// How the event reaches the function, and its type `E`.
pub(crate) enum EventParam<'a> {
    Borrowed(&'a Type),
    Shared(&'a Type),
    Owned(&'a Type),
}

pub(crate) enum Extra<'a> {
    Context {
        borrowed: bool,
    },
    /// `State<T>`, holding `T`.
    State(&'a Type),
}

impl<'a> Handler<'a> {
    /// The handler, or `None` when a parameter or the return type cannot be used (reported).
    pub(crate) fn from_fn(item: &'a ItemFn, cx: &Ctxt) -> Option<Self> {
        let sig = &item.sig;
        let mut types = sig.inputs.iter().filter_map(|input| match input {
            FnArg::Typed(pat_type) => Some(&*pat_type.ty),
            // Reported by `valid::signature`.
            FnArg::Receiver(_) => None,
        });
        let Some(first) = types.next() else {
            if sig.inputs.is_empty() {
                let parens = sig.paren_token.span.join();
                let message = "a subscriber's first parameter is the event it handles: add one, like `event: &OrderPlaced`";
                cx.syn_error(syn::Error::new(parens, message));
            }
            return None;
        };
        let event = event_param(first, cx);
        let mut extras = Vec::new();
        let mut context_seen = false;
        for (index, ty) in types.enumerate() {
            if index == MAX_EXTRAS {
                cx.error_spanned_by(
                    ty,
                    format!("a subscriber takes at most {MAX_EXTRAS} parameters after the event"),
                );
            }
            let extra = extra_param(ty, cx);
            if let Some(Extra::Context { .. }) = extra {
                if context_seen {
                    cx.error_spanned_by(ty, "`Context` is already a parameter: take it once");
                }
                context_seen = true;
            }
            extras.push(extra);
        }
        let output = match &sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, ty) if matches!(**ty, Type::ImplTrait(_)) => {
                cx.error_spanned_by(
                    ty,
                    "a subscriber returns `()` or `Result<(), E>`, not `impl Trait`",
                );
                return None;
            }
            ReturnType::Type(_, ty) => Some(&**ty),
        };
        Some(Handler {
            event: event?,
            extras: extras.into_iter().collect::<Option<_>>()?,
            output,
        })
    }
}

fn event_param<'a>(ty: &'a Type, cx: &Ctxt) -> Option<EventParam<'a>> {
    match ungroup(ty) {
        Type::Reference(reference) if reference.mutability.is_some() => {
            cx.error_spanned_by(ty, "a subscriber cannot take the event as `&mut`: it is shared; take `&E`, `Arc<E>` or `E`");
            None
        }
        Type::Reference(reference) => Some(EventParam::Borrowed(&reference.elem)),
        Type::ImplTrait(_) => {
            cx.error_spanned_by(
                ty,
                "a subscriber cannot take `impl Trait`: name the event type",
            );
            None
        }
        other => match single_argument(other, "Arc") {
            Some(event) => Some(EventParam::Shared(event)),
            None => Some(EventParam::Owned(ty)),
        },
    }
}

fn extra_param<'a>(ty: &'a Type, cx: &Ctxt) -> Option<Extra<'a>> {
    let extra = match ungroup(ty) {
        Type::Reference(reference) if reference.mutability.is_some() => {
            cx.error_spanned_by(
                ty,
                "a subscriber cannot take `&mut` parameters; take `&Context` or `State<T>`",
            );
            return None;
        }
        Type::Reference(reference) if is_context(&reference.elem) => {
            Some(Extra::Context { borrowed: true })
        }
        Type::Reference(reference) if single_argument(&reference.elem, "State").is_some() => {
            cx.error_spanned_by(
                ty,
                "take `State<T>` by value, without `&`: it holds its own clone of the state",
            );
            return None;
        }
        other if is_context(other) => Some(Extra::Context { borrowed: false }),
        other => single_argument(other, "State").map(Extra::State),
    };
    if extra.is_none() {
        cx.error_spanned_by(ty, UNSUPPORTED);
    }
    extra
}

/// Whether `ty` is a path ending in `Context` (`Context`, `tidings::Context`).
fn is_context(ty: &Type) -> bool {
    matches!(last_segment(ty), Some(segment) if segment.ident == "Context" && segment.arguments.is_none())
}

/// `T` when `ty` is a path ending in `wrapper<T>` (`Arc<T>`, `std::sync::Arc<T>`).
fn single_argument<'a>(ty: &'a Type, wrapper: &str) -> Option<&'a Type> {
    let segment = last_segment(ty).filter(|segment| segment.ident == wrapper)?;
    let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    match arguments.args.iter().collect::<Vec<_>>().as_slice() {
        [GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ungroup(ty) {
        Type::Path(TypePath { qself: None, path }) => path.segments.last(),
        _ => None,
    }
}

/// Looks through the invisible groups and parentheses that macros leave around types.
fn ungroup(mut ty: &Type) -> &Type {
    loop {
        ty = match ty {
            Type::Group(group) => &group.elem,
            Type::Paren(paren) => &paren.elem,
            _ => return ty,
        };
    }
}
