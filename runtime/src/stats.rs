//! [`Stats`]: counters per subscriber, from `bus.stats()`.

use std::time::Duration;

/// A snapshot of every subscriber's counters.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// One entry per running subscriber, in start-up order.
    pub subscribers: Vec<SubscriberStats>,
}

impl Stats {
    /// The counters of the subscriber called `name`.
    pub fn subscriber(&self, name: &str) -> Option<&SubscriberStats> {
        self.subscribers.iter().find(|stats| stats.name == name)
    }
}

/// One subscriber's counters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SubscriberStats {
    /// The subscriber.
    pub name: String,
    /// Its group.
    pub group: String,
    /// The event it handles.
    pub event: &'static str,
    /// Deliveries handled successfully.
    pub handled: u64,
    /// Failed attempts that were retried.
    pub retried: u64,
    /// Deliveries given up on.
    pub dead_lettered: u64,
    /// Dead letters the transport failed to store: each such delivery was kept and comes
    /// again. Above zero, the dead-letter store needs attention (full, refusing, unreachable).
    pub dead_letter_store_failures: u64,
    /// Attempts running now.
    pub in_flight: usize,
    /// Accepted deliveries waiting: in the queue, behind a parked key, or for a retry.
    pub queued: usize,
    /// Publish → handled latency of handled deliveries, if any.
    pub latency: Option<Latency>,
}

/// Latency percentiles; in JSON, humantime strings such as `"1ms 250us"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Latency {
    /// Median.
    #[serde(serialize_with = "human")]
    pub p50: Duration,
    /// 99th percentile.
    #[serde(serialize_with = "human")]
    pub p99: Duration,
    /// Slowest.
    #[serde(serialize_with = "human")]
    pub max: Duration,
}

fn human<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&humantime::format_duration(*duration))
}
