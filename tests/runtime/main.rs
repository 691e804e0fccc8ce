//! The runtime's semantics on the memory transport, with exact counts.
//!
//! Tests that involve backoff, timeouts or rates run on tokio's paused clock, so they take no
//! wall time and are deterministic.

mod context;
mod dead_letters;
mod delivery;
mod failures;
mod flow;
mod lifecycle;
mod ordering;
