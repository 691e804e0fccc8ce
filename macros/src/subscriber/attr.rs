//! The options of `#[subscriber(..)]`, as written. Only their syntax is read here (which option,
//! given once, with a value of the right kind); `valid` reads what the values say.

use proc_macro2::TokenStream;
use syn::{LitInt, LitStr};

use crate::ctxt::Ctxt;
use crate::meta::{self, Seen};

const OPTIONS: &[&str] = &[
    "name",
    "group",
    "retries",
    "backoff",
    "timeout",
    "concurrency",
    "ordered",
    "rate",
];

#[derive(Default)]
pub(crate) struct Attrs {
    pub(crate) name: Option<LitStr>,
    pub(crate) group: Option<LitStr>,
    pub(crate) retries: Option<LitInt>,
    pub(crate) backoff: Option<LitStr>,
    pub(crate) timeout: Option<LitStr>,
    pub(crate) concurrency: Option<LitInt>,
    pub(crate) ordered: bool,
    pub(crate) rate: Option<LitStr>,
}

impl Attrs {
    pub(crate) fn parse(args: TokenStream, cx: &Ctxt) -> Self {
        let mut attrs = Attrs::default();
        let options = match meta::parse_options(args) {
            Ok(options) => options,
            Err(error) => {
                cx.syn_error(error);
                return attrs;
            }
        };
        let mut seen = Seen::default();
        for option in &options {
            let name = meta::option_name(option);
            if !OPTIONS.contains(&name.as_str()) {
                meta::unknown(option, OPTIONS, cx);
                continue;
            }
            if !seen.first(option, cx) {
                continue;
            }
            match name.as_str() {
                "name" => attrs.name = meta::string(option, "name = \"reserve_stock\"", cx),
                "group" => attrs.group = meta::string(option, "group = \"stock\"", cx),
                "retries" => attrs.retries = meta::integer(option, "retries = 3", cx),
                "backoff" => {
                    attrs.backoff = meta::string(option, "backoff = \"exponential(50ms, 5s)\"", cx)
                }
                "timeout" => attrs.timeout = meta::string(option, "timeout = \"2s\"", cx),
                "concurrency" => attrs.concurrency = meta::integer(option, "concurrency = 8", cx),
                "ordered" => attrs.ordered = meta::flag(option, cx).unwrap_or(false),
                _ => attrs.rate = meta::string(option, "rate = \"100/s\"", cx),
            }
        }
        attrs
    }
}
