//! Names typed at run time, held to the rule `#[derive(Event)]` checks at compile time: the
//! macros crate's own file, included here so that there is one rule (a proc-macro crate can
//! export nothing but macros).

#[path = "../../macros/src/values/name.rs"]
mod rule;

use crate::error::{Error, Result};

/// Checks an event name as `#[derive(Event)]` does (`[A-Za-z0-9_.-]+`, not `.` or `..`), before
/// it becomes a subject, queue name or URL path.
///
/// ```
/// assert!(tidings::check_event_name("orders.placed").is_ok());
/// assert!(tidings::check_event_name("../stats").is_err());
/// ```
pub fn check_event_name(name: &str) -> Result<()> {
    rule::check_name(name, "event name", "orders.placed").map_err(Error::InvalidName)
}
