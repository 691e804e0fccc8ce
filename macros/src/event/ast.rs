//! The derive input reduced to what an event impl needs: the type, its options, its fields.

use syn::{Data as SynData, DeriveInput, Fields, Index, Member, Token, Type};

use super::attr::{self, FieldAttrs, TypeAttrs};
use crate::ctxt::Ctxt;

pub(crate) struct Input<'a> {
    pub(crate) node: &'a DeriveInput,
    pub(crate) attrs: TypeAttrs,
    pub(crate) data: Data<'a>,
}

pub(crate) enum Data<'a> {
    Struct(Vec<Field<'a>>),
    /// The `#[event(..)]` attributes of every variant and of every variant's fields: an enum
    /// has no key, they are kept only to report one placed there.
    Enum(Vec<FieldAttrs>),
    Union(&'a Token![union]),
}

pub(crate) struct Field<'a> {
    /// `self.order_id` or `self.0`.
    pub(crate) member: Member,
    pub(crate) ty: &'a Type,
    pub(crate) attrs: FieldAttrs,
}

impl<'a> Input<'a> {
    pub(crate) fn from_syn(node: &'a DeriveInput, cx: &Ctxt) -> Self {
        let attrs = attr::type_attrs(&node.attrs, cx);
        let data = match &node.data {
            SynData::Struct(data) => Data::Struct(fields(&data.fields, cx)),
            SynData::Enum(data) => Data::Enum(
                data.variants
                    .iter()
                    .flat_map(|variant| {
                        let fields = variant
                            .fields
                            .iter()
                            .map(|field| attr::field_attrs(&field.attrs, cx));
                        std::iter::once(attr::field_attrs(&variant.attrs, cx))
                            .chain(fields)
                            .collect::<Vec<_>>()
                    })
                    .collect(),
            ),
            SynData::Union(data) => Data::Union(&data.union_token),
        };
        Input { node, attrs, data }
    }
}

fn fields<'a>(fields: &'a Fields, cx: &Ctxt) -> Vec<Field<'a>> {
    let members = fields
        .iter()
        .enumerate()
        .map(|(index, field)| match &field.ident {
            Some(ident) => Member::Named(ident.clone()),
            None => Member::Unnamed(Index::from(index)),
        });
    members
        .zip(fields)
        .map(|(member, field)| Field {
            member,
            ty: &field.ty,
            attrs: attr::field_attrs(&field.attrs, cx),
        })
        .collect()
}
