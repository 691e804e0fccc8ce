//! The small languages inside option strings (`"2s"`, `"exponential(50ms, 5s)"`, `"100/s"`) and
//! the name rule. Pure functions from text to value or to the message the user sees, so they are
//! unit-tested here without building any syntax tree.

mod backoff;
mod case;
mod duration;
mod name;
mod rate;

pub(crate) use backoff::{Backoff, parse_backoff};
pub(crate) use case::RenameRule;
pub(crate) use duration::parse_duration;
pub(crate) use name::check_name;
pub(crate) use rate::{Rate, parse_rate};
