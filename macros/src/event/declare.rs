//! The generated `inventory` entry that declares the event to the runtime's topology: where it
//! is, its doc, its key, and the shape of its payload as serde writes it, each field with a
//! probe for its type's JSON Schema.

use proc_macro2::{Group, Ident, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Expr, ExprLit, Fields, Lit, Meta, Type};

use super::ast::{Field, Input};
use super::serde_attrs::{self, Container};

pub(crate) fn registration(input: &Input<'_>, key: Option<&Field<'_>>) -> TokenStream {
    let node = input.node;
    let ident = &node.ident;
    let container = serde_attrs::container(&node.attrs);
    let doc = doc_text(&node.attrs);
    let key = match key.and_then(|key| key_name(node, key, &container)) {
        Some(name) => quote!(::core::option::Option::Some(#name)),
        None => quote!(::core::option::Option::None),
    };
    let payload = payload(node, &container);
    // At the type's name, so the declaration points at the type rather than at the derive.
    let line = quote_spanned!(ident.span()=> ::core::line!());
    quote! {
        ::tidings::__private::inventory::submit! {
            ::tidings::__private::event_registration::<#ident>(::tidings::__private::Declaration {
                file: ::core::file!(),
                line: #line,
                doc: #doc,
                key: #key,
                payload: #payload,
            })
        }
    }
}

fn payload(node: &DeriveInput, container: &Container) -> TokenStream {
    let shape = quote!(::tidings::__private::PayloadShape);
    if container.converted {
        return quote!(#shape::Opaque("a type serialized as another (`#[serde(into, from)]`)"));
    }
    match &node.data {
        Data::Struct(data) => {
            let fields = fields(node, &data.fields, container);
            match (&data.fields, fields.as_slice()) {
                (Fields::Unit, _) => quote!(#shape::Unit),
                (Fields::Named(_), _) if !container.transparent => {
                    let closed = container.deny_unknown_fields;
                    quote!(#shape::Object { fields: &[#(#fields),*], closed: #closed })
                }
                // A newtype, or a transparent struct: the one field is the payload.
                (_, [only]) => quote!(#shape::Newtype(#only)),
                _ => quote!(#shape::Opaque("a tuple struct")),
            }
        }
        Data::Enum(data) => {
            if container.retagged {
                return quote!(#shape::Opaque("an enum with `#[serde(tag, content, untagged)]`"));
            }
            if data
                .variants
                .iter()
                .any(|v| !matches!(v.fields, Fields::Unit))
            {
                return quote!(#shape::Opaque("an enum with data"));
            }
            let names = data.variants.iter().filter_map(|variant| {
                let attrs = serde_attrs::member(&variant.attrs);
                let name = variant.ident.unraw().to_string();
                (!attrs.skipped).then(|| {
                    attrs.rename.unwrap_or_else(|| match container.rename_all {
                        Some(rule) => rule.apply_to_variant(&name),
                        None => name,
                    })
                })
            });
            quote!(#shape::Names(&[#(#names),*]))
        }
        Data::Union(_) => quote!(#shape::Opaque("a union")),
    }
}

/// A `FieldDeclaration` per field that is written on the wire.
fn fields(node: &DeriveInput, fields: &Fields, container: &Container) -> Vec<TokenStream> {
    fields
        .iter()
        .enumerate()
        .filter_map(|(index, field)| {
            let attrs = serde_attrs::member(&field.attrs);
            if attrs.skipped {
                return None;
            }
            let name = wire_name(field, index, &attrs, container);
            let ty = own_type(&field.ty, &node.ident);
            let rust_type = type_text(&field.ty);
            let doc = doc_text(&field.attrs);
            let schema = if attrs.custom {
                quote!(::tidings::__private::any_value)
            } else {
                // Spanned at the type, so a type that cannot be named here is reported there.
                quote_spanned! {field.ty.span()=>
                    || {
                        #[allow(unused_imports)]
                        use ::tidings::__private::{KnownSchema as _, UnknownSchema as _};
                        (&&::tidings::__private::SchemaProbe::<#ty>::of()).probe()
                    }
                }
            };
            let may_be_absent = attrs.may_be_absent || container.default;
            let flatten = attrs.flatten;
            Some(quote! {
                ::tidings::__private::FieldDeclaration {
                    name: #name,
                    rust_type: #rust_type,
                    doc: #doc,
                    schema: #schema,
                    may_be_absent: #may_be_absent,
                    flatten: #flatten,
                }
            })
        })
        .collect()
}

fn key_name(node: &DeriveInput, key: &Field<'_>, container: &Container) -> Option<String> {
    let Data::Struct(data) = &node.data else {
        return None;
    };
    let (index, field) = data.fields.iter().enumerate().find(|(index, field)| {
        match (&key.member, &field.ident) {
            (syn::Member::Named(member), Some(ident)) => member == ident,
            (syn::Member::Unnamed(member), None) => member.index as usize == *index,
            _ => false,
        }
    })?;
    Some(wire_name(
        field,
        index,
        &serde_attrs::member(&field.attrs),
        container,
    ))
}

/// The field's name as serde writes it: `rename`, else `rename_all` applied, else as written.
fn wire_name(
    field: &syn::Field,
    index: usize,
    attrs: &serde_attrs::Member,
    container: &Container,
) -> String {
    if let Some(rename) = &attrs.rename {
        return rename.clone();
    }
    match &field.ident {
        Some(ident) => {
            let name = ident.unraw().to_string();
            match container.rename_all {
                Some(rule) => rule.apply_to_field(&name),
                None => name,
            }
        }
        None => index.to_string(),
    }
}

/// The doc comment, one line per `///` line, without the space after `///`.
fn doc_text(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(pair) => match &pair.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(text),
                    ..
                }) => Some(text.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(&line)
                .trim_end()
                .to_owned()
        })
        .collect();
    lines.join("\n").trim().to_owned()
}

/// The type as written, spaced the way rustfmt would: `Vec<Option<String>>`, not
/// `Vec < Option < String > >`.
fn type_text(ty: &Type) -> String {
    let mut text = ty.to_token_stream().to_string();
    for (spaced, tight) in [
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ::", "::"),
        (":: ", "::"),
        (" ,", ","),
        ("& ", "&"),
        ("[ ", "["),
        (" ]", "]"),
        (" ;", ";"),
        ("( ", "("),
        (" )", ")"),
    ] {
        text = text.replace(spaced, tight);
    }
    text
}

/// The field type with `Self` replaced by the type's name: the probe is generated outside the
/// type, where `Self` means nothing.
fn own_type(ty: &Type, ident: &Ident) -> TokenStream {
    replace_self(ty.to_token_stream(), ident)
}

fn replace_self(tokens: TokenStream, ident: &Ident) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| match token {
            TokenTree::Ident(found) if found == "Self" => {
                let mut named = ident.clone();
                named.set_span(found.span());
                TokenTree::Ident(named)
            }
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), replace_self(group.stream(), ident));
                inner.set_span(group.span());
                TokenTree::Group(inner)
            }
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_read_as_written() {
        let ty: Type = syn::parse_quote!(std::collections::HashMap<String, Vec<&'static str>>);
        assert_eq!(
            type_text(&ty),
            "std::collections::HashMap<String, Vec<&'static str>>"
        );
        let ty: Type = syn::parse_quote!([u8; 4]);
        assert_eq!(type_text(&ty), "[u8; 4]");
        let ty: Type = syn::parse_quote!(Option<Box<Self>>);
        let ident: Ident = syn::parse_quote!(Node);
        assert_eq!(own_type(&ty, &ident).to_string(), "Option < Box < Node > >");
    }

    #[test]
    fn doc_comments_lose_only_the_leading_space() {
        let node: DeriveInput = syn::parse_quote! {
            /// An order was placed.
            ///
            ///   Indented.
            struct OrderPlaced;
        };
        assert_eq!(doc_text(&node.attrs), "An order was placed.\n\n  Indented.");
    }
}
