#![doc = include_str!("crate.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use tidings_core::*;

mod schemes;
