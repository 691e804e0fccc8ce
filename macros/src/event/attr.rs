//! The `#[event(..)]` attributes: `name` and `version` on the type, `key` on a field.
//! Only their syntax is read here; `valid` judges the values.

use syn::{Attribute, LitInt, LitStr, Meta, Path};

use crate::ctxt::Ctxt;
use crate::meta::{self, Seen};

/// `#[event(name = "..", version = N)]` on the type.
#[derive(Default)]
pub(crate) struct TypeAttrs {
    pub(crate) name: Option<LitStr>,
    pub(crate) version: Option<LitInt>,
}

/// `#[event(key)]` on a field: the `key` token, kept for error spans.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    pub(crate) key: Option<Path>,
}

pub(crate) fn type_attrs(attrs: &[Attribute], cx: &Ctxt) -> TypeAttrs {
    let mut found = TypeAttrs::default();
    let mut seen = Seen::default();
    for option in event_options(attrs, cx) {
        match meta::option_name(&option).as_str() {
            "name" if seen.first(&option, cx) => {
                found.name = meta::string(&option, "name = \"orders.placed\"", cx)
            }
            "version" if seen.first(&option, cx) => {
                found.version = meta::integer(&option, "version = 1", cx)
            }
            "name" | "version" => {}
            "key" => cx.error_spanned_by(
                option,
                "`key` goes on a field: `#[event(key)] order_id: u64`",
            ),
            _ => meta::unknown(&option, &["name", "version"], cx),
        }
    }
    found
}

pub(crate) fn field_attrs(attrs: &[Attribute], cx: &Ctxt) -> FieldAttrs {
    let mut found = FieldAttrs::default();
    let mut seen = Seen::default();
    for option in event_options(attrs, cx) {
        match &option {
            Meta::Path(path) if path.is_ident("key") => {
                if seen.first(&option, cx) {
                    found.key = Some(path.clone());
                }
            }
            Meta::NameValue(_) | Meta::List(_) if option.path().is_ident("key") => {
                cx.error_spanned_by(&option, "`key` takes no value: write `#[event(key)]`");
            }
            _ => meta::unknown(&option, &["key"], cx),
        }
    }
    found
}

/// Every option of every `#[event(..)]` among `attrs`, in order.
fn event_options(attrs: &[Attribute], cx: &Ctxt) -> Vec<Meta> {
    let mut options = Vec::new();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("event")) {
        let parsed = attr
            .meta
            .require_list()
            .and_then(|list| meta::parse_options(list.tokens.clone()));
        match parsed {
            Ok(parsed) => options.extend(parsed),
            Err(error) => cx.syn_error(error),
        }
    }
    options
}
