//! Shared helpers and events for the integration tests: the conformance suite's own, so that
//! the tests and the suite publish the same events.

pub use tidings_conformance::{Log, Ping, Pong};
