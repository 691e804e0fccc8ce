//! The scenarios, each against its raw baseline.

#[cfg(feature = "amqp")]
pub(crate) mod amqp;
#[cfg(feature = "amqp")]
pub(crate) mod amqp_parking;
#[cfg(any(feature = "nats", feature = "amqp"))]
mod broker;
pub(crate) mod durable;
pub(crate) mod failures;
pub(crate) mod latency;
#[cfg(feature = "nats")]
pub(crate) mod nats;
#[cfg(feature = "nats")]
pub(crate) mod nats_parking;
pub(crate) mod throughput;

use serde::{Deserialize, Serialize};
use tidings::Event;

/// A small event: what most buses carry most of the time.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "bench.tick")]
pub(crate) struct Tick {
    pub(crate) seq: u64,
}

/// How big a run is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Size {
    pub(crate) rounds: usize,
    /// Events per round in throughput scenarios.
    pub(crate) events: u64,
    /// Events per round in the retry and dead-letter scenarios.
    pub(crate) failing_events: u64,
    /// How long the latency scenario offers load.
    pub(crate) latency_seconds: f64,
    /// Events per publisher per round in the durable scenarios (each one fsynced).
    pub(crate) durable_events: u64,
    /// Events per round through a broker (each one stored by it).
    #[cfg_attr(not(any(feature = "nats", feature = "amqp")), allow(dead_code))]
    pub(crate) broker_events: u64,
}

impl Size {
    pub(crate) const FULL: Size = Size {
        rounds: 7,
        events: 1_000_000,
        failing_events: 100_000,
        latency_seconds: 3.0,
        durable_events: 2_000,
        broker_events: 50_000,
    };
    pub(crate) const QUICK: Size = Size {
        rounds: 3,
        events: 100_000,
        failing_events: 10_000,
        latency_seconds: 0.5,
        durable_events: 300,
        broker_events: 5_000,
    };
}
